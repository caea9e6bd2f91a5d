"""Inputs that once hung, returned silently wrong models or raised raw errors.

Each test is one case found by trying the estimators from outside (see issue
#9); the references are sklearn's solvers or exact least squares.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.optimize import nnls
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge

from sklearn_mtl import (
    MultiTaskSharedRepClassifier,
    MultiTaskSharedRepRegressor,
    RegularizedGDRegressor,
    regularized_gd_path,
)
from sklearn_mtl._penalties import enet_objective
from sklearn_mtl._solvers import quadratic


def _no_convergence_warning(fit):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return fit()


def test_float32_ridge_with_tiny_alpha_ends_at_the_optimum():
    # Case 1: backtracking doubled its step bound to inf and never ended.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 20)).astype(np.float32)
    y = (X @ rng.standard_normal(20) + 0.1 * rng.standard_normal(50)).astype(np.float32)
    est = _no_convergence_warning(
        lambda: RegularizedGDRegressor("l2", alpha=1e-8).fit(X, y)
    )
    assert est.coef_.dtype == np.float32
    ref = Ridge(alpha=1e-8 * 50, solver="svd").fit(X.astype(float), y.astype(float))
    ours = enet_objective(X, y, est.coef_, est.intercept_, 1e-8, 0.0)
    theirs = enet_objective(X, y, ref.coef_, ref.intercept_, 1e-8, 0.0)
    assert ours <= theirs * (1 + 1e-6)


def test_wide_ridge_at_tight_tol_ends_at_the_optimum():
    # Case 2: the same hang with more features than samples at tol=1e-8.
    rng = np.random.default_rng(1)
    X = rng.standard_normal((20, 500))
    y = X @ rng.standard_normal(500) + rng.standard_normal(20)
    est = _no_convergence_warning(
        lambda: RegularizedGDRegressor("l2", alpha=1e-3, tol=1e-8).fit(X, y)
    )
    ref = Ridge(alpha=1e-3 * 20, solver="svd").fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("layout", ["C", "F", "frame", "csr", "csc"])
def test_columns_with_huge_means_fit_like_centred_ones(layout):
    # Case 3: a DataFrame (Fortran-ordered) with means 1e9 times the spread
    # gave all-zero coefficients and R^2 = 0: implicit centring cancelled.
    rng = np.random.default_rng(2)
    Z = rng.standard_normal((200, 5))
    y = Z @ rng.standard_normal(5) + 0.1 * rng.standard_normal(200)
    X = Z + 1e9
    X = {
        "C": np.ascontiguousarray(X),
        "F": np.asfortranarray(X),
        "frame": pd.DataFrame(X),
        "csr": sp.csr_matrix(X),
        "csc": sp.csc_matrix(X),
    }[layout]
    before = X.copy()
    shifted = RegularizedGDRegressor("l1", alpha=0.01).fit(X, y)
    centred = RegularizedGDRegressor("l1", alpha=0.01).fit(Z, y)
    # The user's data is left as it was (sparse structure included).
    if sp.issparse(X):
        assert (X != before).nnz == 0 and X.nnz == before.nnz
    else:
        assert np.array_equal(np.asarray(X), np.asarray(before))
    np.testing.assert_allclose(shifted.coef_, centred.coef_, rtol=1e-6, atol=1e-7)
    assert shifted.score(X, y) == pytest.approx(centred.score(Z, y), rel=1e-9)
    # ... and it is sklearn's optimum on the same data.
    ref = ElasticNet(alpha=0.01, l1_ratio=1.0, tol=1e-12, max_iter=100_000).fit(
        Z + 1e9, y
    )
    ours = enet_objective(Z + 1e9, y, shifted.coef_, shifted.intercept_, 0.01, 1.0)
    theirs = enet_objective(Z + 1e9, y, ref.coef_, ref.intercept_, 0.01, 1.0)
    assert ours <= theirs * (1 + 1e-6)


def test_multitask_regressor_ignores_a_shift_of_x():
    # Case 4: a constant added to X changed the fit, zeroed it or raised a raw
    # LinAlgError.
    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 6))
    Y = X @ rng.standard_normal((6, 2)) @ rng.standard_normal((2, 5))
    Y += 0.1 * rng.standard_normal(Y.shape)
    Y[rng.random(Y.shape) < 0.2] = np.nan
    params = dict(l1_ratio=0.3, alpha=0.05, tol=1e-10, max_iter=5000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = MultiTaskSharedRepRegressor(**params).fit(X, Y)
        b = MultiTaskSharedRepRegressor(**params).fit(X + 1e8, Y)
    np.testing.assert_allclose(b.coef_, a.coef_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b.predict(X + 1e8), a.predict(X), rtol=1e-6, atol=1e-6)


def test_multitask_classifier_ignores_a_shift_of_x():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((120, 5))
    scores = X @ rng.standard_normal((5, 3))
    Y = (scores + 0.5 * rng.standard_normal(scores.shape) > 0).astype(float)
    a = MultiTaskSharedRepClassifier(random_state=0).fit(X, Y)
    b = MultiTaskSharedRepClassifier(random_state=0).fit(X + 1e6, Y)
    for coef_a, coef_b in zip(a.coef_, b.coef_):
        np.testing.assert_allclose(coef_b, coef_a, rtol=1e-5, atol=1e-6)
    for p_a, p_b in zip(a.predict_proba(X), b.predict_proba(X + 1e6)):
        np.testing.assert_allclose(p_b, p_a, atol=1e-6)


def test_no_penalty_on_correlated_columns_is_least_squares():
    # Case 5: the stopping rule understated the suboptimality by the squared
    # condition number; the objective ended far above the optimum, silently.
    rng = np.random.default_rng(5)
    X = rng.standard_normal((100, 30)) + 3 * rng.standard_normal((100, 1))
    y = X @ rng.standard_normal(30) + rng.standard_normal(100)
    est = _no_convergence_warning(lambda: RegularizedGDRegressor(None).fit(X, y))
    ref = LinearRegression().fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-9, atol=1e-10)
    assert est.intercept_ == pytest.approx(ref.intercept_, rel=1e-9)


def test_wide_elastic_net_reaches_sklearn_and_more_iterations_help():
    # Case 6: on p >= n the solver gave up after 8 rounds, and a larger
    # max_iter changed nothing although the warning advised it.
    rng = np.random.default_rng(6)
    X = rng.standard_normal((100, 400))
    y = X[:, :10] @ rng.standard_normal(10) + 0.5 * rng.standard_normal(100)
    alpha_max = np.abs((X - X.mean(0)).T @ (y - y.mean())).max() / (100 * 0.2)
    alpha = alpha_max / 30
    ref = ElasticNet(alpha=alpha, l1_ratio=0.2, tol=1e-14, max_iter=10**6).fit(X, y)
    best = enet_objective(X, y, ref.coef_, ref.intercept_, alpha, 0.2)

    def relative_gap(max_iter):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            est = RegularizedGDRegressor(
                "elasticnet", alpha=alpha, l1_ratio=0.2, max_iter=max_iter
            ).fit(X, y)
        value = enet_objective(X, y, est.coef_, est.intercept_, alpha, 0.2)
        return value / best - 1, caught

    short, caught = relative_gap(5)
    assert short > 1e-7
    assert "increase the number of iterations" in str(caught[0].message)
    full, caught = relative_gap(10_000)
    assert full < 1e-7 and not caught


@pytest.mark.parametrize("penalty", ["l1", "l2", "elasticnet", None])
def test_warm_start_then_positive_gives_no_negative_coefficient(penalty):
    # Case 7.
    rng = np.random.default_rng(7)
    X = rng.standard_normal((60, 10))
    y = X @ rng.standard_normal(10)
    est = RegularizedGDRegressor(penalty, alpha=0.01, warm_start=True).fit(X, y)
    assert est.coef_.min() < 0
    est.set_params(positive=True).fit(X, y)
    assert est.coef_.min() >= 0
    ref = ElasticNet(
        alpha=0.01 if penalty else 1e-12,
        l1_ratio={"l1": 1.0, "l2": 0.0, "elasticnet": 0.5, None: 1.0}[penalty],
        positive=True,
        tol=1e-12,
        max_iter=100_000,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-5)


@pytest.mark.parametrize("penalty", ["l1", "l2", "elasticnet", None])
def test_x_near_the_largest_float_fits_like_scaled_x(penalty):
    # Case 8: NaN intercepts and predictions, or a hang.
    rng = np.random.default_rng(8)
    U = rng.uniform(size=(10, 2))
    y = rng.standard_normal(10)
    scale = 2.0**1023
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow on the way either
        est = RegularizedGDRegressor(penalty, alpha=1e-300).fit(scale * U, y)
    ref = LinearRegression().fit(U, y)  # alpha is negligible at this scale
    np.testing.assert_allclose(est.coef_ * scale, ref.coef_, rtol=1e-8)
    assert est.intercept_ == pytest.approx(ref.intercept_, rel=1e-8)
    assert np.all(np.isfinite(est.predict(scale * U)))


@pytest.mark.parametrize("weight", [1e307, 1e-310, 1e-320])
@pytest.mark.parametrize("penalty", ["l1", "l2", None])
def test_extreme_uniform_sample_weights_change_nothing(weight, penalty):
    # Case 9: weights whose sum overflows, or subnormal ones.
    rng = np.random.default_rng(9)
    X = rng.standard_normal((30, 4))
    y = X @ rng.standard_normal(4)
    plain = RegularizedGDRegressor(penalty, alpha=0.01).fit(X, y)
    weighted = RegularizedGDRegressor(penalty, alpha=0.01).fit(
        X, y, sample_weight=np.full(30, weight)
    )
    np.testing.assert_allclose(weighted.coef_, plain.coef_, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "class_weight, match",
    [({0: np.inf}, "finite non-negative"), ({0: np.nan}, "finite non-negative")],
)
def test_non_finite_class_weight_is_a_clear_error(class_weight, match):
    rng = np.random.default_rng(10)
    X = rng.standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match=match):
        MultiTaskSharedRepClassifier(class_weight=class_weight).fit(X, y)


def test_balanced_class_weight_with_a_zero_weight_class():
    # The class whose rows all weigh zero has no label left: one class with
    # weight remains, which a single task cannot fit.
    rng = np.random.default_rng(11)
    X = rng.standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(int)
    sw = (y == 1).astype(float)
    with pytest.raises(ValueError, match="only one class"):
        MultiTaskSharedRepClassifier(class_weight="balanced").fit(X, y, sample_weight=sw)
    # With another class carrying weight it fits, finite.
    sw[np.flatnonzero(y == 0)[:3]] = 1.0
    clf = MultiTaskSharedRepClassifier(class_weight="balanced").fit(X, y, sample_weight=sw)
    assert np.all(np.isfinite(clf.coef_)) and np.all(np.isfinite(clf.intercept_))


def test_n_components_check_is_shared_and_early():
    # Case 10: the same ValueError as the regressor, before any allocation.
    X = np.random.default_rng(12).standard_normal((20, 3))
    y = (X[:, 0] > 0).astype(int)
    for est, y_fit in [
        (MultiTaskSharedRepClassifier(n_components=10**8), y),
        (MultiTaskSharedRepRegressor(n_components=10**8), X[:, :2]),
    ]:
        with pytest.raises(ValueError, match=r"n_components=100000000 must be between 1"):
            est.fit(X, y_fit)


def test_duality_gap_attribute_matches_its_formula():
    # sklearn's test_lasso_dual_gap, on a fit stopped early so that the gap
    # is far from rounding noise.
    rng = np.random.RandomState(0)
    X = rng.standard_normal((10, 30))
    y = X[:, :3] @ np.array([1.0, -2.0, 3.0]) + 0.1 * rng.standard_normal(10)
    alpha = 0.01 * np.max(np.abs(X.T @ y)) / 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = RegularizedGDRegressor("l1", alpha=alpha, fit_intercept=False, max_iter=2)
        est.fit(X, y)
    w = est.coef_
    R = y - X @ w
    primal = 0.5 * np.mean(R**2) + alpha * np.abs(w).sum()
    R /= max(np.max(np.abs(X.T @ R) / (10 * alpha)), 1.0)
    dual = 0.5 * (np.mean(y**2) - np.mean((y - R) ** 2))
    assert est.dual_gap_ > 1e-6
    assert est.dual_gap_ == pytest.approx(primal - dual, rel=1e-9)
    # Converged, it matches Lasso's optimum.
    est.set_params(max_iter=1000, tol=1e-10).fit(X, y)
    ref = Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=10**6).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-8)


# Cases found by the property survey (tests/test_properties.py, slow profile).


@pytest.mark.parametrize("penalty", ["l1", None])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_x_whose_squares_underflow_fits_like_scaled_x(penalty, sparse):
    # Squares of |X| ~ 1e-301 underflow to 0: the rescaling must be decided
    # from the entries, not from the (zero) squared norms.
    rng = np.random.default_rng(6)
    U = rng.standard_normal((20, 3))
    y = U @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(20)
    scale = 2.0**-1000
    X = scale * U
    X = sp.csr_matrix(X) if sparse else X
    alpha = 1e-3  # the L1 part scales with X
    est = RegularizedGDRegressor(penalty, alpha=alpha * scale, tol=1e-10)
    est.fit(X, y)
    ref = RegularizedGDRegressor(penalty, alpha=alpha, tol=1e-10).fit(U, y)
    np.testing.assert_allclose(est.coef_ * scale, ref.coef_, rtol=1e-6)
    assert est.intercept_ == pytest.approx(ref.intercept_, rel=1e-6)


def test_coefficients_beyond_float64_are_a_clear_error():
    # |X| ~ 1e-320 against y ~ 1: the least-squares coefficients are ~1e320.
    rng = np.random.default_rng(6)
    X = 2.0**-1063 * rng.standard_normal((20, 3))
    y = rng.standard_normal(20)
    with pytest.raises(ValueError, match="coefficients overflow"):
        RegularizedGDRegressor(None).fit(X, y)


def test_gap_of_targets_near_the_float_limit_is_finite():
    # gap / n * y_scale**2 overflowed (inf), and 0 * inf gave a NaN dual_gap_.
    rng = np.random.default_rng(9)
    X = rng.standard_normal((30, 3))
    y = 1e300 * (X @ np.array([1.0, 2.0, 3.0]) + rng.standard_normal(30))
    for penalty in ["l1", "l2"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = RegularizedGDRegressor(penalty, alpha=0.1).fit(X, y)
        assert np.isfinite(est.dual_gap_)
        assert np.isfinite(est.intercept_)
        assert np.all(np.isfinite(est.coef_))


@pytest.mark.parametrize("penalty", ["l1", "l2", None])
@pytest.mark.parametrize("offset", [0.1, 1e9 / 3, 1e300])
def test_constant_columns_get_no_weight(penalty, offset):
    # A constant column, centred with a mean off by rounding, kept a constant
    # of rounding size that the solvers fitted (a coefficient of order one on
    # a column that carries nothing).
    rng = np.random.default_rng(7)
    Z = rng.standard_normal((30, 3))
    y = Z @ np.array([1.0, 2.0, 3.0]) + 0.1 * rng.standard_normal(30)
    X = np.c_[Z, np.full(30, offset)]
    est = RegularizedGDRegressor(penalty, alpha=1e-3, tol=1e-10).fit(X, y)
    ref = RegularizedGDRegressor(penalty, alpha=1e-3, tol=1e-10).fit(Z, y)
    assert abs(est.coef_[3]) * offset <= 1e-8 * np.abs(y).max()
    np.testing.assert_allclose(est.coef_[:3], ref.coef_, rtol=1e-8)


def test_sparse_elastic_net_at_defaults_is_as_accurate_as_elasticnet():
    # The speed benchmark's sparse problem (bench_enet_speed.make_sparse).
    # The exact solve on its support of 338 columns costs less than a pass;
    # it was refused (its dense flops counted as a sparse pass's), and the
    # default fit ended 20 times farther from the optimum than ElasticNet's
    # defaults (4e-11 against 2e-12).
    rng = np.random.default_rng(0)
    n, p = 20000, 50000
    nnz = int(1e-3 * n * p)
    rows, cols = rng.integers(n, size=nnz), rng.integers(p, size=nnz)
    X = sp.csc_matrix((rng.standard_normal(nnz), (rows, cols)), shape=(n, p))
    X.sum_duplicates()
    w = np.zeros(p)
    w[rng.choice(p, 500, replace=False)] = rng.standard_normal(500)
    y = X @ w
    y += 0.5 * np.std(y) * rng.standard_normal(n)
    y_c = y - y.mean()
    correlation = X.T @ y_c - np.asarray(X.mean(axis=0)).ravel() * y_c.sum()
    alpha = np.abs(correlation).max() / (0.5 * n) / 10
    est = RegularizedGDRegressor("elasticnet", alpha=alpha).fit(X, y)
    ref = ElasticNet(alpha=alpha).fit(X, y)
    best = RegularizedGDRegressor("elasticnet", alpha=alpha, tol=1e-14).fit(X, y)
    ours, theirs, optimum = (
        enet_objective(X, y, m.coef_, m.intercept_, alpha, 0.5) for m in (est, ref, best)
    )
    assert ours - optimum <= max(theirs - optimum, 1e-13 * optimum)


@pytest.mark.parametrize("penalty, alpha", [(None, 1.0), ("l2", 1e-30), ("l1", 1e-30)])
def test_sparse_non_negative_least_squares_is_solved_exactly(penalty, alpha):
    # Sparse X raised "needs dense X" (even for penalty="l2" with an alpha
    # below rounding: the penalty vanishes). A small one is now solved on a
    # dense copy, as dense X is; a large one is a clear error.
    rng = np.random.default_rng(5)
    X = np.abs(rng.standard_normal((40, 5)))
    y = X @ np.array([1.0, -1.0, 1.0, -1.0, 1.0])
    exact = nnls(X - X.mean(axis=0), y - y.mean())[0]
    est = RegularizedGDRegressor(penalty, alpha=alpha, positive=True)
    for data in (X, sp.csr_matrix(X), sp.csc_matrix(X)):
        np.testing.assert_allclose(est.fit(data, y).coef_, exact, rtol=1e-8, atol=1e-12)


def test_large_sparse_non_negative_least_squares_is_a_clear_error(monkeypatch):
    import sklearn_mtl._linear._path as path

    monkeypatch.setattr(path, "NNLS_DENSE_MAX", 100)
    rng = np.random.default_rng(5)
    X = np.abs(rng.standard_normal((40, 5)))
    y = X @ np.array([1.0, -1.0, 1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="dense copy of X.*larger alpha"):
        RegularizedGDRegressor(None, positive=True).fit(sp.csr_matrix(X), y)


def test_nnls_iteration_limit_is_no_raw_error(monkeypatch):
    # scipy's NNLS raises RuntimeError at its iteration limit instead of
    # returning (a survey case: 37 x 38, duplicated and nearly constant
    # columns, max_iter=100). Bounded-variable least squares takes over.
    import scipy.optimize

    def limit(*args, **kwargs):
        raise RuntimeError("Maximum number of iterations reached.")

    rng = np.random.default_rng(5)
    X = np.abs(rng.standard_normal((40, 5)))
    y = X @ np.array([1.0, -1.0, 1.0, -1.0, 1.0])
    exact = nnls(X - X.mean(axis=0), y - y.mean())[0]
    monkeypatch.setattr(scipy.optimize, "nnls", limit)
    est = RegularizedGDRegressor(None, positive=True).fit(X, y)
    np.testing.assert_allclose(est.coef_, exact, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("scale", [1e-40, 1e-160, 1e-300])
def test_multitask_classifier_on_tiny_features_predicts_base_rates(scale):
    # Features this small cannot pay for their penalty: the optimum is the
    # intercepts alone. The first point ignored the penalty and started at
    # coefficients of 1e40, where no step lowered the objective.
    rng = np.random.default_rng(10)
    X = rng.standard_normal((60, 4))
    Y = (X[:, :1] + 0.5 * rng.standard_normal((60, 3)) > 0).astype(int)
    est = _no_convergence_warning(
        lambda: MultiTaskSharedRepClassifier(n_components=2).fit(scale * X, Y)
    )
    assert np.abs(est.coef_).max() * scale <= 1e-12
    for t, proba in enumerate(est.predict_proba(scale * X)):
        # Constant, near the task's rate (intercepts shrink toward a shared one).
        np.testing.assert_allclose(proba[:, 1], proba[0, 1], rtol=1e-12)
        assert proba[0, 1] == pytest.approx(Y[:, t].mean(), rel=1e-2)


def test_predict_near_the_largest_float_does_not_overflow_midway():
    # The sum of the products overflowed (inf) although the prediction is
    # representable.
    X = np.array([[1.5e308, 1.5e308, -1.5e308], [1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
    est = RegularizedGDRegressor(None).fit(X / 2.0**1000, [0.0, 1.0, 2.0])
    est.coef_ = np.ones(3)
    est.intercept_ = 0.5
    np.testing.assert_allclose(est.predict(X), [1.5e308, 6.5, 1.5])
    np.testing.assert_allclose(est.predict(sp.csr_matrix(X)), [1.5e308, 6.5, 1.5])


def test_lsqr_reports_its_measure_at_the_returned_coefficients(monkeypatch):
    monkeypatch.setattr(quadratic, "solved_directly", lambda n, p: False)  # LSQR
    # LSQR's own estimate of ||A||_F grows past the truth when its vectors
    # lose orthogonality (a duplicated column): the reported relative
    # residual was 3 times below the one at coef_.
    rng = np.random.default_rng(1)
    X = rng.standard_normal((22, 14))
    X[:, 1] = X[:, 0]
    X += 2.0**27 * (rng.random(14) < 0.5)
    Y = X @ rng.standard_normal((14, 3)) + rng.standard_normal((22, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = RegularizedGDRegressor(None, fit_intercept=False, tol=1e-10, max_iter=10**5)
        est.fit(sp.csc_matrix(X), Y)
    for k in range(3):
        r = Y[:, k] - X @ est.coef_[k]
        norm_x = np.linalg.norm(X)
        normal = np.linalg.norm(X.T @ r) / (norm_x * np.linalg.norm(r))
        scale = norm_x * np.linalg.norm(est.coef_[k]) + np.linalg.norm(Y[:, k])
        system = np.linalg.norm(r) / scale
        assert est.dual_gap_[k] == pytest.approx(min(normal, system), rel=1e-3)


@pytest.mark.parametrize("penalty", ["l2", None])
def test_float32_model_out_of_float32_range_is_an_error_not_zeros(penalty):
    # The float64 solution (2e-80) was cast to float32 X's dtype: coef_ all
    # zeros, predictions the intercept, without a word.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3)).astype(np.float32)
    y = 1e-80 * (X.astype(np.float64) @ [1.0, -2.0, 0.5])
    with pytest.raises(ValueError, match="cannot be stored in float32"):
        RegularizedGDRegressor(penalty, alpha=1e-3).fit(X, y)
    est = RegularizedGDRegressor(penalty, alpha=1e-3).fit(X.astype(np.float64), y)
    assert np.abs(est.coef_).max() > 1e-81


def test_float32_coefficients_below_float32_range_next_to_large_ones_are_fine():
    # A coefficient lost to underflow beside unit ones changes nothing.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3)).astype(np.float32)
    y = X.astype(np.float64) @ [1.0, 1e-50, 0.5]
    est = RegularizedGDRegressor(None).fit(X, y)
    assert est.coef_.dtype == np.float32
    np.testing.assert_allclose(est.coef_, [1.0, 0.0, 0.5], atol=1e-6)


def test_multitask_float32_model_beyond_float32_max_is_an_error_not_inf():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3)).astype(np.float32)
    Y = 1e100 * (X.astype(np.float64) @ rng.standard_normal((3, 4)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(ValueError, match="cannot be stored in float32"):
            MultiTaskSharedRepRegressor(n_components=2).fit(X, Y)


@pytest.mark.parametrize("penalty", ["l2", None])
def test_constant_target_with_integer_weights_gives_exactly_zero_coefficients(penalty):
    # The weighted mean of a constant target (weights rescaled to sum to n,
    # inexactly) missed the constant by rounding, and the rest was fitted:
    # coef_ ~1e-23 instead of 0, a different model once X is shifted.
    rng = np.random.default_rng(0)
    X = np.asfortranarray(rng.standard_normal((12, 17)).astype(np.float32))
    sw = np.array([3.0, 1, 3, 0, 2, 3, 2, 1, 1, 2, 0, 2])
    y = np.full(12, -0.125)
    est = RegularizedGDRegressor(penalty, alpha=0.0046, positive=True).fit(X, y, sw)
    assert np.all(est.coef_ == 0.0)
    assert est.intercept_ == -0.125


def test_sparse_nonnegative_path_without_positive_correlation_is_all_zero():
    # alpha_max is 0 (no feature correlates positively with y), so the grid
    # is 1e-15 as sklearn's: the sparse path refused it as a non-negative
    # least-squares problem, although w = 0 solves it exactly.
    rng = np.random.default_rng(0)
    X = sp.csc_matrix(np.abs(rng.standard_normal((20, 3))) * (rng.random((20, 3)) < 0.7))
    y = -np.asarray(X @ [1.0, 2.0, 0.5]).ravel() - rng.random(20)
    _, coefs, _ = regularized_gd_path(
        X, y, positive=True, n_alphas=3, fit_intercept=False
    )
    assert np.all(coefs == 0.0)
    est = RegularizedGDRegressor(None, positive=True, fit_intercept=False)
    assert np.all(est.fit(X, y).coef_ == 0.0)


def test_float32_least_squares_reports_the_residual_of_the_stored_coefficients(
    monkeypatch,
):
    monkeypatch.setattr(quadratic, "solved_directly", lambda n, p: False)  # LSQR
    # LSQR's relative residual was measured at its float64 solution (1.9e-10)
    # while coef_ holds that solution rounded to float32, whose normal-
    # equation residual is 2.5e-5: dual_gap_ must describe coef_.
    rng = np.random.default_rng(517)
    X = rng.standard_normal((46, 25)) * 2.0 ** rng.integers(-3, 4, 25)
    X[rng.random(X.shape) > 0.2] = 0.0
    X = sp.csr_matrix(X.astype(np.float32))
    y = 3.0 * rng.standard_normal(46)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        est = RegularizedGDRegressor(None, fit_intercept=False, tol=1e-10).fit(X, y)
    A = X.toarray().astype(np.float64)
    w = est.coef_.astype(np.float64)
    r = y - A @ w
    norm_a = np.linalg.norm(A)
    measure = min(
        np.linalg.norm(r) / (norm_a * np.linalg.norm(w) + np.linalg.norm(y)),
        np.linalg.norm(A.T @ r) / (norm_a * np.linalg.norm(r)),
    )
    assert est.dual_gap_ == pytest.approx(measure, rel=1e-6)
    if measure > 1e-10:
        assert any("float32" in str(w.message) for w in caught)


def test_multitask_on_subnormal_features_is_finite():
    # unit = sqrt(y_scale / x_scale) overflowed for X near 1e-312 (the
    # quotient, not its root, is beyond float64): 0 * inf gave NaN coef_.
    rng = np.random.default_rng(0)
    X = np.asfortranarray(rng.integers(-3, 4, (60, 5)) * 1e-312)
    Y = rng.standard_normal((60, 2))
    est = MultiTaskSharedRepRegressor(alpha=1e-8).fit(X, Y)
    assert np.all(np.isfinite(est.coef_)) and np.all(np.isfinite(est.intercept_))
    assert np.all(np.isfinite(est.predict(X)))


def test_float32_predictions_beyond_float32_are_an_error_not_inf():
    X = np.array([[3e38], [1e38], [2e38]], dtype=np.float32)
    est = RegularizedGDRegressor(None).fit(X, [3e38, 1e38, 2e38])
    est.coef_ = np.array([4.0], dtype=np.float32)
    with pytest.raises(ValueError, match="predictions overflow float32"):
        est.predict(X)
    X64 = X.astype(np.float64)
    np.testing.assert_allclose(est.predict(X64), 4.0 * X64.ravel() + est.intercept_)


def test_multitask_on_sparse_float32_beyond_float32_squares():
    # The kernel matrix X X^T of sparse float32 data was formed in float32:
    # entries near 1e61 overflowed to inf and eigh raised a raw LinAlgError.
    rng = np.random.default_rng(0)
    X = sp.csr_matrix((rng.standard_normal((23, 40)) * 1e27).astype(np.float32))
    Y = rng.standard_normal((23, 3))
    est = MultiTaskSharedRepRegressor(alpha=1e-60, fit_intercept=False).fit(X, Y)
    assert np.all(np.isfinite(est.coef_))
    dense = MultiTaskSharedRepRegressor(alpha=1e-60, fit_intercept=False)
    dense.fit(X.toarray().astype(np.float64), Y)
    np.testing.assert_allclose(est.predict(X), dense.predict(X.toarray()), rtol=1e-3, atol=1e-3)


def test_classifier_coefficients_too_small_to_matter_may_leave_float32():
    # Coefficients below float32's range whose logits X W stay below 1e-7
    # change no probability: the float32 cast is no error for them.
    from sklearn_mtl._validation import in_data_dtype

    values = np.array([1e-44, -3e-45])
    with pytest.raises(ValueError, match="cannot be stored in float32"):
        in_data_dtype(values, np.float32, "coef_")
    stored = in_data_dtype(values, np.float32, "coef_", floor=1e-7)
    assert stored.dtype == np.float32
    X = np.ones((30, 1), dtype=np.float32)
    y = np.arange(30) % 2
    est = MultiTaskSharedRepClassifier().fit(X, y)
    assert np.all(np.isfinite(est.coef_))


def test_small_sparse_least_squares_is_exact_when_ill_conditioned():
    # Columns 2**29 times their spread, no intercept, fewer samples than
    # features: LSQR stopped on its relative residual with the objective at
    # 6e-7 of y's (the interpolating fit reaches 0). Small sparse X is now
    # solved directly, as dense X is.
    rng = np.random.default_rng(31175)
    Z = rng.integers(-3, 4, (11, 26)).astype(np.float64)
    X = Z + 2.0**29 * rng.uniform(0.5, 1.0, 26).round(3)
    y = Z @ rng.standard_normal(26) + 5.0
    for data in (X, sp.csr_matrix(X)):
        est = RegularizedGDRegressor(None, fit_intercept=False, tol=1e-12).fit(data, y)
        r = y - X @ est.coef_
        assert 0.5 * np.mean(r**2) <= 1e-12 * 0.5 * np.mean(y**2)


@pytest.mark.parametrize("alpha", [1e-3, 1.0])
def test_penalty_is_kept_beside_a_huge_constant_column(alpha):
    # The L2 part was dropped as "below rounding" of the largest column
    # (a constant -2e9 column without intercept), although it shapes the
    # small columns' coefficients: 8% above sklearn's objective at alpha=1.
    rng = np.random.default_rng(0)
    X = rng.integers(0, 3, (50, 5)).astype(float)
    X[:, 4] = -2e9
    y = X[:, :4] @ rng.standard_normal(4) + 3.0 + 0.1 * rng.standard_normal(50)
    params = dict(alpha=alpha, l1_ratio=0.5, fit_intercept=False)
    ref = ElasticNet(**params, tol=1e-14, max_iter=10**6).fit(X, y)
    est = RegularizedGDRegressor("elasticnet", **params, tol=1e-12).fit(X, y)
    ours, best = (enet_objective(X, y, m.coef_, 0.0, alpha, 0.5) for m in (est, ref))
    assert ours <= best * (1 + 1e-9)


def test_classifier_fista_on_lognormal_features_backtracks_instead_of_overflowing():
    # The first step length came from the curvature along the gradient,
    # negative here (the objective is not convex in U and V jointly), floored
    # to the smallest float: the step overflowed, FISTA gave up instead of
    # backtracking, and the fit raised "overflows float64".
    rng = np.random.default_rng(65)
    n, p = int(rng.integers(5, 40)), int(rng.integers(2, 20))
    X = rng.lognormal(0, 2, (n, p))
    Y = (rng.random((n, 2)) < 0.5).astype(float)
    Y[0], Y[1] = 0, 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        clf = MultiTaskSharedRepClassifier(n_components=1, solver="fista", fit_intercept=False)
        clf.fit(X, Y)
    ref = MultiTaskSharedRepClassifier(n_components=1, fit_intercept=False).fit(X, Y)
    for a, b in zip(clf.predict_proba(X), ref.predict_proba(X)):
        np.testing.assert_allclose(a, b, atol=1e-3)


def test_classifier_on_huge_x_warns_only_about_convergence():
    # X near 1e92: the first step's curvature overflows float64. It used to
    # leak numpy's "overflow encountered in square" RuntimeWarning.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4)) * 1e92
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = MultiTaskSharedRepClassifier(random_state=0).fit(X, y)
    leaked = [w for w in caught if not issubclass(w.category, ConvergenceWarning)]
    assert not leaked, [str(w.message) for w in leaked]
    assert np.all(np.isfinite(est.predict_proba(X)))


def test_float32_intercept_matches_the_stored_coefficients():
    # float32 X with its column 1.6e6 away from zero (fuzz case): the
    # intercept came from the float64 coefficient, so the stored float32
    # coefficient's rounding times the mean moved every prediction by 0.04
    # and the objective at coef_, intercept_ was 47% above the optimum while
    # dual_gap_ said 1e-17. The intercept now comes from coef_ as stored.
    rng = np.random.default_rng(80)
    n = 1105
    x = rng.standard_normal(n) - 1.6e6
    y = 0.45 * x + 0.01 * rng.standard_normal(n)
    sw = rng.random(n) + 0.01
    X32 = x.astype(np.float32)[:, None]
    y32 = y.astype(np.float32)
    X, y64 = X32.astype(np.float64), y32.astype(np.float64)
    alpha = 5e-5
    ref = ElasticNet(alpha=alpha, l1_ratio=1.0, positive=True, tol=1e-12, max_iter=10**6)
    ref.fit(X, y64, sample_weight=sw)
    est = RegularizedGDRegressor("l1", alpha=alpha, positive=True, tol=1e-10)
    est.fit(X32, y32, sample_weight=sw)
    best = enet_objective(X, y64, ref.coef_, ref.intercept_, alpha, 1.0, sw)
    ours = enet_objective(X, y64, est.coef_, est.intercept_, alpha, 1.0, sw)
    assert est.coef_.dtype == np.float32
    assert ours - best <= 1e-6 * best
