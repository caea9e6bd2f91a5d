"""RegularizedGDRegressor against its exact references and sklearn's conventions."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_diabetes, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, LinearRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_mtl import RegularizedGDRegressor
from sklearn_mtl._penalties import enet_objective

PENALTY_L1_RATIO = {"l1": 1.0, "elasticnet": 0.5, "l2": 0.0}


@parametrize_with_checks(
    [
        RegularizedGDRegressor(),
        RegularizedGDRegressor("l1", alpha=0.1),
        RegularizedGDRegressor("elasticnet", alpha=0.1, l1_ratio=0.3),
        RegularizedGDRegressor(None),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _problem(n_samples=60, n_features=30, sparse=False, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    # Correlated columns make the problem harder than an isotropic design.
    X[:, 1:] += 0.5 * X[:, :-1]
    w = np.zeros(n_features)
    w[:5] = rng.standard_normal(5) * 3
    y = X @ w + 2.0 + rng.standard_normal(n_samples)
    if sparse:
        X[rng.random(X.shape) < 0.7] = 0.0
        X = sp.csr_matrix(X)
        y = X @ w + 2.0 + rng.standard_normal(n_samples)
    sample_weight = rng.uniform(0.2, 3.0, n_samples)
    return X.astype(dtype), y.astype(dtype), sample_weight.astype(dtype)


def _reference(X, y, alpha, l1_ratio, fit_intercept, sample_weight):
    """sklearn's solution of the same problem at a tight tolerance."""
    if l1_ratio == 0.0:
        # Ridge solves the L2 case exactly; its alpha is ours times n_samples.
        n_samples = X.shape[0]
        ref = Ridge(alpha=alpha * n_samples, fit_intercept=fit_intercept, tol=1e-12)
        if sample_weight is not None:
            sample_weight = sample_weight * (n_samples / sample_weight.sum())
    else:
        ref = ElasticNet(
            alpha=alpha,
            l1_ratio=l1_ratio,
            fit_intercept=fit_intercept,
            tol=1e-12,
            max_iter=100_000,
        )
    X64 = X.astype(np.float64)
    return ref.fit(X64, y.astype(np.float64), sample_weight=sample_weight)


@pytest.mark.parametrize("penalty", ["l1", "elasticnet", "l2"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_objective_matches_sklearn(penalty, sparse, fit_intercept, weighted, dtype):
    X, y, sample_weight = _problem(sparse=sparse, dtype=dtype)
    if not weighted:
        sample_weight = None
    alpha = 0.05
    l1_ratio = PENALTY_L1_RATIO[penalty]
    est = RegularizedGDRegressor(
        penalty,
        alpha=alpha,
        l1_ratio=0.5,
        fit_intercept=fit_intercept,
        tol=1e-12 if dtype == np.float64 else 1e-7,
        max_iter=100_000,
    ).fit(X, y, sample_weight=sample_weight)
    assert est.coef_.dtype == dtype

    sw64 = None if sample_weight is None else sample_weight.astype(np.float64)
    ref = _reference(X, y, alpha, l1_ratio, fit_intercept, sw64)
    X64, y64 = X.astype(np.float64), y.astype(np.float64)
    ours = enet_objective(X64, y64, est.coef_, est.intercept_, alpha, l1_ratio, sw64)
    theirs = enet_objective(X64, y64, ref.coef_, ref.intercept_, alpha, l1_ratio, sw64)
    rtol = 1e-7 if dtype == np.float64 else 1e-5
    assert ours <= theirs * (1 + rtol)
    if dtype == np.float64:
        # The objective is the contract; coefficients follow at the scale the
        # gap tolerance allows on this conditioning.
        np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-4, atol=1e-4)


def test_l1_penalty_gives_exact_zeros_like_lasso():
    X, y = load_diabetes(return_X_y=True)
    est = RegularizedGDRegressor("l1", alpha=0.3, tol=1e-10, max_iter=50_000).fit(X, y)
    ref = ElasticNet(alpha=0.3, l1_ratio=1.0, tol=1e-12, max_iter=100_000).fit(X, y)
    np.testing.assert_array_equal(est.coef_ == 0, ref.coef_ == 0)
    assert 0 < np.count_nonzero(est.coef_) < X.shape[1]


def test_positive_matches_sklearn():
    X, y, _ = _problem()
    est = RegularizedGDRegressor(
        "elasticnet", alpha=0.05, positive=True, tol=1e-12, max_iter=100_000
    ).fit(X, y)
    ref = ElasticNet(alpha=0.05, positive=True, tol=1e-12, max_iter=100_000).fit(X, y)
    assert est.coef_.min() >= 0
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-5, atol=1e-7)


def test_no_penalty_is_least_squares():
    X, y, sample_weight = _problem(n_samples=80, n_features=10)
    est = RegularizedGDRegressor(None, tol=1e-14, max_iter=100_000)
    est.fit(X, y, sample_weight=sample_weight)
    ref = LinearRegression().fit(X, y, sample_weight=sample_weight)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-5)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_two_dimensional_y_fits_each_column(sparse):
    X, y, _ = _problem(sparse=sparse)
    Y = np.column_stack([y, -2 * y + 1, np.zeros_like(y)])
    params = dict(penalty="l1", alpha=0.1, tol=1e-10, max_iter=50_000)
    multi = RegularizedGDRegressor(**params).fit(X, Y)
    assert multi.coef_.shape == (3, X.shape[1])
    assert multi.intercept_.shape == (3,)
    assert multi.predict(X).shape == (X.shape[0], 3)
    for k in range(3):
        single = RegularizedGDRegressor(**params).fit(X, Y[:, k])
        np.testing.assert_allclose(multi.coef_[k], single.coef_, atol=1e-10)
        np.testing.assert_allclose(multi.intercept_[k], single.intercept_, atol=1e-10)


def test_sparse_input_is_never_densified(monkeypatch):
    X, y, sample_weight = _problem(sparse=True)

    def refuse(*args, **kwargs):
        raise AssertionError("sparse X was densified")

    for cls in (sp.csr_matrix, sp.csc_matrix, sp.csr_array, sp.csc_array):
        monkeypatch.setattr(cls, "toarray", refuse)
        monkeypatch.setattr(cls, "todense", refuse)
    est = RegularizedGDRegressor("l1", alpha=0.05).fit(X, y, sample_weight)
    assert est.predict(X).shape == y.shape
    assert sp.issparse(X)


def test_sparse_and_dense_agree():
    X, y, sample_weight = _problem(sparse=True)
    params = dict(penalty="elasticnet", alpha=0.05, tol=1e-12, max_iter=100_000)
    sparse_fit = RegularizedGDRegressor(**params).fit(X, y, sample_weight)
    dense_fit = RegularizedGDRegressor(**params).fit(X.toarray(), y, sample_weight)
    np.testing.assert_allclose(sparse_fit.coef_, dense_fit.coef_, atol=1e-8)
    np.testing.assert_allclose(sparse_fit.intercept_, dense_fit.intercept_, atol=1e-8)


def test_warm_start_resumes_from_previous_solution():
    X, y, _ = _problem()
    est = RegularizedGDRegressor("l1", alpha=0.05, tol=1e-10, max_iter=100_000)
    cold_iterations = est.fit(X, y).n_iter_
    est.set_params(warm_start=True)
    assert est.fit(X, y).n_iter_ < cold_iterations


def test_convergence_warning_names_gap_and_tolerance():
    X, y, _ = _problem()
    est = RegularizedGDRegressor("l1", alpha=0.01, max_iter=2, tol=1e-12)
    with pytest.warns(ConvergenceWarning, match=r"duality gap .* tolerance"):
        est.fit(X, y)


def test_no_warning_when_converged():
    X, y, _ = _problem()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        RegularizedGDRegressor("l1", alpha=0.05).fit(X, y)


def test_pipeline_grid_search_and_pickle():
    X, y = load_diabetes(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), RegularizedGDRegressor("l1"))
    search = GridSearchCV(pipe, {"regularizedgdregressor__alpha": [0.01, 0.1, 1.0]})
    search.fit(X, y)
    assert search.best_params_["regularizedgdregressor__alpha"] in (0.01, 0.1, 1.0)
    assert search.best_score_ > 0.4
    restored = pickle.loads(pickle.dumps(search.best_estimator_))
    np.testing.assert_array_equal(restored.predict(X), search.predict(X))


def test_constant_target_gives_zero_coefficients():
    X, _, _ = _problem()
    est = RegularizedGDRegressor("l1", alpha=0.1).fit(X, np.full(X.shape[0], 3.0))
    np.testing.assert_array_equal(est.coef_, 0.0)
    assert est.intercept_ == pytest.approx(3.0)


@pytest.mark.parametrize(
    "X, y, sample_weight, match",
    [
        (np.array([[np.nan, 1.0], [1.0, 2.0]]), np.ones(2), None, "NaN"),
        (np.array([[np.inf, 1.0], [1.0, 2.0]]), np.ones(2), None, "infinity"),
        (np.ones((3, 2)), np.array([1.0, np.nan, 2.0]), None, "NaN"),
        (np.ones((3, 2)), np.ones(4), None, "inconsistent numbers of samples"),
        (np.ones((3, 2)), np.ones(3), np.array([1.0, -1.0, 1.0]), "Negative values"),
        (np.ones((3, 2)), np.ones(3), np.array([1.0, np.inf, 1.0]), "infinity"),
        (np.ones((3, 2)), np.ones(3), np.ones(2), r"sample_weight.shape"),
        (np.empty((0, 2)), np.empty(0), None, "0 sample"),
        (np.empty((3, 0)), np.ones(3), None, "0 feature"),
    ],
)
def test_bad_input_raises_clear_error(X, y, sample_weight, match):
    with pytest.raises(ValueError, match=match):
        RegularizedGDRegressor("l1").fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"alpha": -1.0}, "alpha"),
        ({"penalty": "l3"}, "penalty"),
        ({"l1_ratio": 1.5}, "l1_ratio"),
        ({"max_iter": 0}, "max_iter"),
        ({"tol": -1.0}, "tol"),
    ],
)
def test_bad_parameters_raise_clear_error(params, match):
    X, y, _ = _problem()
    with pytest.raises(ValueError, match=match):
        RegularizedGDRegressor(**params).fit(X, y)


def test_wrong_feature_count_at_predict():
    X, y, _ = _problem()
    est = RegularizedGDRegressor().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :-1])


def test_wrong_type_of_target_raises_type_error_or_value_error():
    X, _, _ = _problem(n_samples=4)
    with pytest.raises((TypeError, ValueError)):
        RegularizedGDRegressor().fit(X, np.array(["a", "b", "c", "d"], dtype=object))


def test_regression_quality_on_generated_data():
    X, y, coef = make_regression(
        n_samples=200, n_features=50, n_informative=5, coef=True, random_state=0
    )
    est = RegularizedGDRegressor("l1", alpha=1.0).fit(X, y)
    support = set(np.flatnonzero(coef))
    assert support <= set(np.flatnonzero(est.coef_))
    assert est.score(X, y) > 0.99
