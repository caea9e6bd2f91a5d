"""regularized_gd_path and RegularizedGDRegressorCV vs enet_path and ElasticNetCV."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import ElasticNet, ElasticNetCV, enet_path
from sklearn.linear_model._coordinate_descent import _alpha_grid
from sklearn.model_selection import KFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_mtl import RegularizedGDRegressorCV, regularized_gd_path


def _problem(n_samples=80, n_features=40, sparse=False, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    X[:, 1:] += 0.5 * X[:, :-1]
    if sparse:
        X[rng.random(X.shape) < 0.7] = 0.0
    w = np.zeros(n_features)
    w[:6] = rng.standard_normal(6) * 2
    y = X @ w + 1.5 + rng.standard_normal(n_samples)
    sample_weight = rng.uniform(0.2, 3.0, n_samples)
    return (sp.csr_matrix(X) if sparse else X), y, sample_weight


@pytest.mark.parametrize(
    "sparse, n_samples", [(False, 80), (False, 30), (True, 80)],
    ids=["dense-tall", "dense-wide", "sparse"],
)
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_path_matches_enet_path(sparse, n_samples, l1_ratio):
    # Tall dense data goes through the Gram solver, the others do not.
    X, y, _ = _problem(n_samples=n_samples, sparse=sparse)
    penalty = "l1" if l1_ratio == 1.0 else "elasticnet"
    alphas, coefs, gaps = regularized_gd_path(
        X, y, penalty=penalty, l1_ratio=l1_ratio, n_alphas=10, tol=1e-15,
        max_iter=100_000,
    )
    # enet_path does not fit an intercept: give it the centred data.
    Xd = X.toarray() if sparse else X
    Xc, yc = Xd - Xd.mean(axis=0), y - y.mean()
    ref_alphas, ref_coefs, _ = enet_path(
        Xc, yc, l1_ratio=l1_ratio, alphas=alphas, tol=1e-14, max_iter=100_000
    )
    np.testing.assert_allclose(alphas, ref_alphas)
    np.testing.assert_allclose(
        alphas, _alpha_grid(Xd, y, l1_ratio=l1_ratio, n_alphas=10), rtol=1e-10
    )
    assert coefs.shape == (X.shape[1], 10)
    assert gaps.shape == (10,)
    np.testing.assert_allclose(coefs, ref_coefs, rtol=1e-5, atol=1e-6)
    assert np.all(coefs[:, 0] == 0)


def test_path_with_weights_matches_elastic_net_fits():
    X, y, sample_weight = _problem()
    alphas, coefs, _ = regularized_gd_path(
        X, y, penalty="elasticnet", l1_ratio=0.7, n_alphas=6,
        sample_weight=sample_weight, tol=1e-15, max_iter=100_000,
    )
    np.testing.assert_allclose(
        alphas,
        _alpha_grid(X, y, l1_ratio=0.7, n_alphas=6, sample_weight=sample_weight),
        rtol=1e-10,
    )
    for i in (1, 3, 5):
        ref = ElasticNet(alpha=alphas[i], l1_ratio=0.7, tol=1e-14, max_iter=100_000)
        ref.fit(X, y, sample_weight=sample_weight)
        np.testing.assert_allclose(coefs[:, i], ref.coef_, rtol=1e-5, atol=1e-7)


def test_path_two_targets_float32_and_n_iter():
    X, y, _ = _problem()
    Y = np.column_stack([y, -y + 3.0]).astype(np.float32)
    alphas, coefs, gaps, n_iters = regularized_gd_path(
        X.astype(np.float32), Y, n_alphas=5, tol=1e-6, return_n_iter=True
    )
    assert coefs.shape == (2, X.shape[1], 5)
    assert coefs.dtype == np.float32
    assert gaps.shape == n_iters.shape == (2, 5)
    np.testing.assert_allclose(coefs[1], -coefs[0], rtol=1e-3, atol=1e-4)


def test_path_explicit_alphas_and_errors():
    X, y, _ = _problem()
    alphas, coefs, _ = regularized_gd_path(X, y, alphas=[0.01, 1.0, 0.1])
    np.testing.assert_array_equal(alphas, [1.0, 0.1, 0.01])
    alphas, _, _ = regularized_gd_path(X, y, penalty="l2", alphas=[1.0, 0.1])
    assert alphas.shape == (2,)
    with pytest.raises(ValueError, match="alpha grid"):
        regularized_gd_path(X, y, penalty="l2")
    with pytest.raises(ValueError, match="penalty"):
        regularized_gd_path(X, y, penalty="l3")


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_cv_picks_the_same_alpha_as_elastic_net_cv(sparse, weighted):
    X, y, sample_weight = _problem(n_samples=120, sparse=sparse, seed=1)
    if not weighted:
        sample_weight = None
    cv = KFold(4, shuffle=True, random_state=0)
    params = dict(l1_ratio=[0.5, 0.9], alphas=15, cv=cv, tol=1e-8)
    ours = RegularizedGDRegressorCV(**params).fit(X, y, sample_weight=sample_weight)
    ref = ElasticNetCV(**params, max_iter=10_000).fit(X, y, sample_weight=sample_weight)
    np.testing.assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-10)
    assert ours.mse_path_.shape == ref.mse_path_.shape == (2, 15, 4)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=2e-3)
    assert ours.l1_ratio_ == ref.l1_ratio_
    grid = ref.alphas_[[0.5, 0.9].index(ref.l1_ratio_)]
    step = np.argmin(np.abs(grid - ours.alpha_)) - np.argmin(np.abs(grid - ref.alpha_))
    assert abs(step) <= 1
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-3, atol=1e-4)


def test_cv_lasso_threads_and_explicit_grid():
    X, y, _ = _problem(seed=2)
    one = RegularizedGDRegressorCV("l1", alphas=8, cv=3).fit(X, y)
    two = RegularizedGDRegressorCV("l1", alphas=8, cv=3, n_jobs=2).fit(X, y)
    assert one.l1_ratio_ == 1.0
    assert one.alphas_.shape == (8,) and one.mse_path_.shape == (8, 3)
    np.testing.assert_allclose(one.mse_path_, two.mse_path_)
    assert one.alpha_ == two.alpha_
    grid = RegularizedGDRegressorCV("l1", alphas=[0.5, 0.05, 0.005], cv=3).fit(X, y)
    np.testing.assert_array_equal(grid.alphas_, [0.5, 0.05, 0.005])
    with pytest.raises(ValueError, match="l1_ratio"):
        RegularizedGDRegressorCV(l1_ratio=[0.0, 0.5]).fit(X, y)


# A tight tol and a well-conditioned grid (eps=0.05): the sample-weight
# equivalence checks compare predictions at rtol 1e-7, finer than the default
# duality-gap tolerance resolves (coefficients converge as sqrt(gap)).
@parametrize_with_checks(
    [
        RegularizedGDRegressorCV(),  # the defaults, as users get them
        RegularizedGDRegressorCV(
            alphas=5, eps=0.05, cv=3, l1_ratio=[0.5, 1.0], tol=1e-12, max_iter=100_000
        ),
    ]
)
def test_cv_sklearn_compatible(estimator, check):
    check(estimator)
