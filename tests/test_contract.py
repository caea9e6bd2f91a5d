"""scikit-learn conventions found missing by using the estimators as a client would
(issue #11), one regression test each."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.linear_model import ElasticNetCV
from sklearn.model_selection import GroupKFold, KFold

from sklearn_mtl import (
    MultiTaskSharedRepClassifier,
    MultiTaskSharedRepRegressor,
    RegularizedGDRegressorCV,
    regularized_gd_path,
)


def _data(seed=0, n=60, p=5, T=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    Y = X @ rng.standard_normal((p, T)) + 0.1 * rng.standard_normal((n, T))
    return X, Y


@pytest.mark.parametrize("Estimator", [MultiTaskSharedRepRegressor, MultiTaskSharedRepClassifier])
def test_transform_honours_set_output(Estimator):
    # 1. transform sat on a base class that set_output did not wrap.
    X, Y = _data()
    y = Y if Estimator is MultiTaskSharedRepRegressor else (Y > 0).astype(int)
    est = Estimator(n_components=2).set_output(transform="pandas").fit(X, y)
    Z = est.transform(X)
    assert isinstance(Z, pd.DataFrame)
    assert list(Z.columns) == list(est.get_feature_names_out())
    assert isinstance(est.fit_transform(X, y), pd.DataFrame)


def test_cv_routes_groups_to_the_splitter():
    # 2. fit took no **params, so groups never reached GroupKFold.
    X, Y = _data()
    groups = np.repeat(np.arange(6), 10)
    with sklearn.config_context(enable_metadata_routing=True):
        ours = RegularizedGDRegressorCV(cv=GroupKFold(3)).fit(X, Y[:, 0], groups=groups)
        theirs = ElasticNetCV(cv=GroupKFold(3)).fit(X, Y[:, 0], groups=groups)
    assert ours.alpha_ == pytest.approx(theirs.alpha_, rel=1e-10)
    # Without routing enabled, a stray parameter is an error, as in sklearn.
    with pytest.raises(ValueError, match="groups"):
        RegularizedGDRegressorCV(cv=GroupKFold(3)).fit(X, Y[:, 0], groups=groups)


def test_alphas_shape_for_explicit_alphas():
    # 3. (n_l1_ratio, n_alphas) for explicit alphas; ElasticNetCV gives (n_alphas,).
    X, Y = _data()
    params = dict(l1_ratio=[0.2, 0.5], alphas=[0.1, 1.0, 0.01], cv=3)
    ours = RegularizedGDRegressorCV(**params).fit(X, Y[:, 0])
    theirs = ElasticNetCV(**params).fit(X, Y[:, 0])
    assert ours.alphas_.shape == theirs.alphas_.shape == (3,)
    assert ours.mse_path_.shape == theirs.mse_path_.shape
    # An automatic grid per l1_ratio keeps one row each, as sklearn does.
    auto = RegularizedGDRegressorCV(l1_ratio=[0.2, 0.5], alphas=4, cv=3).fit(X, Y[:, 0])
    assert auto.alphas_.shape == (2, 4)


def test_ridge_ratio_with_explicit_alphas_is_accepted():
    # 5. l1_ratio=0 was rejected with a message about the automatic grid,
    # which explicit alphas do not use.
    X, Y = _data()
    est = RegularizedGDRegressorCV(l1_ratio=[0.0, 0.5], alphas=[0.1, 1.0], cv=3)
    est.fit(X, Y[:, 0])
    assert est.l1_ratio_ in (0.0, 0.5)
    with pytest.raises(ValueError, match="not supported for l1_ratio=0"):
        RegularizedGDRegressorCV(l1_ratio=[0.0, 0.5]).fit(X, Y[:, 0])


def test_pandas_missing_values_mean_not_observed():
    # 6. pd.NA in string or object labels and in an object Y.
    X, Y = _data(n=80)
    labels = np.where(Y[:, 0] > 0, "yes", "no")
    series = pd.Series(labels, dtype="string")
    series[:6] = pd.NA
    clf = MultiTaskSharedRepClassifier().fit(X, series)
    assert list(clf.classes_) == ["no", "yes"]
    as_float = (Y[:, 0] > 0).astype(float)
    as_float[:6] = np.nan  # the same labels, NaN for missing
    reference = MultiTaskSharedRepClassifier().fit(X, as_float)
    np.testing.assert_allclose(clf.coef_, reference.coef_, rtol=1e-10, atol=1e-12)

    Y_labels = (Y > 0).astype(object)
    Y_labels[:5, 1] = pd.NA
    Y_labels[5:9, 2] = None
    multi = MultiTaskSharedRepClassifier().fit(X, Y_labels)
    assert multi.score(X, Y_labels) > 0.8

    Y_object = Y.astype(object)
    Y_object[:4, 1] = pd.NA
    Y_float = Y.copy()
    Y_float[:4, 1] = np.nan
    reg = MultiTaskSharedRepRegressor().fit(X, Y_object)
    ref = MultiTaskSharedRepRegressor().fit(X, Y_float)
    np.testing.assert_allclose(reg.coef_, ref.coef_)
    assert reg.score(X, Y_object) == pytest.approx(ref.score(X, Y_float))


def test_non_finite_or_out_of_range_parameters_are_clear_errors():
    # 7. NaN l1_ratio fitted a model with NaN alpha_; the path accepted NaN
    # or inf alphas, eps <= 0 and l1_ratio=2.
    X, Y = _data()
    y = Y[:, 0]
    with pytest.raises(ValueError, match="l1_ratio"):
        RegularizedGDRegressorCV(l1_ratio=[np.nan]).fit(X, y)
    for kwargs, match in [
        (dict(alphas=[0.1, np.nan]), r"alphas\[1\]"),
        (dict(alphas=[np.inf]), r"alphas\[0\]"),
        (dict(alphas=[0.1, -1.0]), r"alphas\[1\] == -1"),
        (dict(eps=0.0), "eps"),
        (dict(eps=-1.0), "eps"),
        (dict(penalty="elasticnet", l1_ratio=2.0), "l1_ratio"),
    ]:
        with pytest.raises(ValueError, match=match):
            regularized_gd_path(X, y, **kwargs)
    with pytest.raises(TypeError, match=r"alphas\[1\]"):
        regularized_gd_path(X, y, alphas=[1.0, "1"])


def test_cv_fold_with_zero_weights_is_a_clear_error():
    # 7. A fold whose sample weights are all zero raised ZeroDivisionError.
    X, Y = _data()
    sample_weight = np.ones(60)
    sample_weight[:20] = 0.0
    with pytest.raises(ValueError, match="sample weights of a cross-validation fold"):
        RegularizedGDRegressorCV(cv=KFold(3)).fit(X, Y[:, 0], sample_weight=sample_weight)
