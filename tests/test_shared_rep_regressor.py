"""Tests of MultiTaskSharedRepRegressor.

The exactness tests compare the fitted ``W = U V`` with the solution of the
convex trace-norm problem ``loss(W, b) + alpha ||W||_*``, computed here by an
independent numpy implementation of accelerated proximal gradient with
singular value thresholding.
"""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

import sklearn_mtl._multitask._regressor as shared_rep
from sklearn_mtl import MultiTaskSharedRepRegressor
from sklearn_mtl.datasets import make_low_rank_tasks

# --------------------------------------------------------------------------
# Reference: trace-norm regression by FISTA with singular value thresholding
# --------------------------------------------------------------------------


def trace_norm_objective(X, Y, W, b, alpha, sample_weight=None):
    """``1/(2n) sum_observed s_i (y_it - x_i w_t - b_t)^2 + alpha ||W||_*``."""
    n = X.shape[0]
    s = np.ones(n) if sample_weight is None else sample_weight * n / sample_weight.sum()
    Xd = X.toarray() if sp.issparse(X) else X
    R = Y - Xd @ W - b
    R = np.where(np.isnan(Y), 0.0, R)
    loss = 0.5 / n * np.sum(s[:, None] * R**2)
    return loss + alpha * np.linalg.svd(W, compute_uv=False).sum()


def svt(W, threshold):
    P, sigma, Rt = np.linalg.svd(W, full_matrices=False)
    return (P * np.maximum(sigma - threshold, 0.0)) @ Rt


def trace_norm_reference(
    X, Y, alpha, fit_intercept=True, sample_weight=None, max_iter=20_000, tol=1e-11
):
    """Minimise ``loss(W, b) + alpha ||W||_*`` by FISTA with SVT.

    The intercepts are unpenalised and move by plain gradient steps within the
    same accelerated scheme; the momentum restarts when it points uphill.
    Returns ``W`` of shape ``(p, T)``, ``b`` and the objective value.
    """
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=float)
    n, p = X.shape
    T = Y.shape[1]
    s = np.ones(n) if sample_weight is None else sample_weight * n / sample_weight.sum()
    M = (~np.isnan(Y)) * s[:, None]
    Y0 = np.where(np.isnan(Y), 0.0, Y)
    Xa = np.hstack([X, np.ones((n, 1))]) if fit_intercept else X
    lipschitz = np.linalg.norm((Xa * np.sqrt(s)[:, None]), 2) ** 2 / n
    step = 1.0 / lipschitz

    Z = np.zeros((Xa.shape[1], T))
    Yk, t_k = Z, 1.0
    for _ in range(max_iter):
        Z_new = Yk - step * (Xa.T @ (M * (Xa @ Yk - Y0)) / n)
        Z_new[:p] = svt(Z_new[:p], step * alpha)
        if np.vdot(Yk - Z_new, Z_new - Z) > 0:  # restart the momentum
            t_k = 1.0
        t_new = (1 + np.sqrt(1 + 4 * t_k**2)) / 2
        Yk = Z_new + (t_k - 1) / t_new * (Z_new - Z)
        converged = np.linalg.norm(Z_new - Z) <= tol * max(1.0, np.linalg.norm(Z))
        Z, t_k = Z_new, t_new
        if converged:
            break
    W, b = (Z[:p], Z[p]) if fit_intercept else (Z, np.zeros(T))
    return W, b, trace_norm_objective(X, Y, W, b, alpha, sample_weight)


def fitted_objective(reg, X, Y, alpha, sample_weight=None):
    coef = np.atleast_2d(reg.coef_).astype(float)
    intercept = np.atleast_1d(reg.intercept_).astype(float)
    Y2 = Y.reshape(len(Y), -1)
    return trace_norm_objective(X, Y2, coef.T, intercept, alpha, sample_weight)


def low_rank_data(n=40, p=15, T=8, rank=2, missing=0.0, seed=0):
    X, _, Y, _ = make_low_rank_tasks(
        n, p, T, rank, noise=0.3, missing_fraction=missing, n_test_samples=1,
        random_state=seed,
    )
    return X, Y


@pytest.mark.parametrize("missing", [0.0, 0.4])
def test_reference_is_optimal(missing):
    # The reference itself meets the optimality conditions of the trace-norm
    # problem: G = grad loss(W) has ||G||_2 <= alpha and <-G, W> = alpha ||W||_*,
    # and the intercepts' gradient vanishes.
    X, Y = low_rank_data(missing=missing, seed=31)
    alpha = 0.05
    W, b, _ = trace_norm_reference(X, Y, alpha)
    R = np.where(np.isnan(Y), 0.0, Y - X @ W - b)
    G = -X.T @ R / X.shape[0]
    nuclear = np.linalg.svd(W, compute_uv=False).sum()
    assert np.linalg.norm(G, 2) <= alpha * (1 + 1e-6)
    assert np.vdot(-G, W) == pytest.approx(alpha * nuclear, rel=1e-6)
    assert_allclose(R.sum(axis=0), 0.0, atol=1e-8)


# --------------------------------------------------------------------------
# scikit-learn API
# --------------------------------------------------------------------------


@parametrize_with_checks([MultiTaskSharedRepRegressor()])
def test_sklearn_compatible(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------
# Exactness against the trace-norm reference
# --------------------------------------------------------------------------


@pytest.mark.parametrize("missing", [0.0, 0.4])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize(
    "n, p", [(40, 15), (12, 20)], ids=["n_gt_p", "n_lt_p"]
)
def test_trace_norm_optimum(missing, fit_intercept, n, p):
    X, Y = low_rank_data(n=n, p=p, missing=missing)
    X = X + 1.0  # non-centred features, so the intercept matters
    alpha = 0.05
    _, _, ref_value = trace_norm_reference(X, Y, alpha, fit_intercept)
    reg = MultiTaskSharedRepRegressor(
        alpha=alpha, fit_intercept=fit_intercept, tol=1e-9, max_iter=5000,
        random_state=0,
    ).fit(X, Y)
    value = fitted_objective(reg, X, Y, alpha)
    assert value == pytest.approx(ref_value, rel=1e-4)


@pytest.mark.parametrize("missing", [0.0, 0.4])
def test_trace_norm_optimum_general_path(monkeypatch, missing):
    # Force the matrix-product (conjugate gradient) path on fully observed
    # targets too, and check it against the reference as well.
    monkeypatch.setattr(shared_rep, "_EIGEN_MAX_DIM", 0)
    X, Y = low_rank_data(missing=missing, seed=1)
    alpha = 0.05
    _, _, ref_value = trace_norm_reference(X, Y, alpha)
    reg = MultiTaskSharedRepRegressor(alpha=alpha, tol=1e-9, max_iter=5000).fit(X, Y)
    assert fitted_objective(reg, X, Y, alpha) == pytest.approx(ref_value, rel=1e-4)


def force_gram_form(monkeypatch):
    """Make every dense fit with missing targets (and no L1 part) use the Gram
    form and accelerated EM, which only larger problems choose by cost."""
    choose = shared_rep._choose_form

    def gram_when_missing(fully_observed, has_l1, *args, dense=False):
        kind = choose(fully_observed, has_l1, *args, dense=dense)
        return "gram" if dense and not (fully_observed or has_l1) else kind

    monkeypatch.setattr(shared_rep, "_choose_form", gram_when_missing)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_trace_norm_optimum_gram_path(monkeypatch, fit_intercept, weighted):
    force_gram_form(monkeypatch)
    X, Y = low_rank_data(n=60, missing=0.4, seed=33)
    X = X + 1.0
    sw = np.random.RandomState(2).uniform(0.1, 3.0, X.shape[0]) if weighted else None
    alpha = 0.05
    _, _, ref_value = trace_norm_reference(X, Y, alpha, fit_intercept, sw)
    reg = MultiTaskSharedRepRegressor(
        alpha=alpha, fit_intercept=fit_intercept, tol=1e-9, max_iter=5000
    ).fit(X, Y, sample_weight=sw)
    assert fitted_objective(reg, X, Y, alpha, sw) == pytest.approx(ref_value, rel=1e-4)


@pytest.mark.parametrize("data", ["C", "F", "float32", "large_mean", "rank_limit"])
def test_gram_path_equals_row_path(monkeypatch, data):
    # Same optimum as the row form, whatever the layout, dtype or centring
    # (columns with a large mean are centred explicitly).
    X, Y = low_rank_data(n=80, missing=0.3, seed=34)
    k = 2 if data == "rank_limit" else None
    if data == "F":
        X = np.asfortranarray(X)
    elif data == "float32":
        X = X.astype(np.float32)
    elif data == "large_mean":
        X[:, :3] += 1e3
    params = dict(n_components=k, alpha=0.05, tol=1e-10, max_iter=5000, random_state=0)
    rows = MultiTaskSharedRepRegressor(**params).fit(X, Y)
    force_gram_form(monkeypatch)
    gram = MultiTaskSharedRepRegressor(**params).fit(X, Y)
    # float32 data are read as float64 by both forms, but stored rounded.
    tol = dict(rtol=1e-5, atol=1e-6) if data == "float32" else dict(rtol=1e-6, atol=1e-8)
    assert_allclose(gram.coef_, rows.coef_, **tol)
    assert_allclose(gram.intercept_, rows.intercept_, **tol)


def test_gram_path_convergence_warning_and_max_iter(monkeypatch):
    force_gram_form(monkeypatch)
    X, Y = low_rank_data(missing=0.3, seed=35)
    reg = MultiTaskSharedRepRegressor(alpha=0.05, max_iter=1, tol=1e-14)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        reg.fit(X, Y)
    assert reg.n_iter_ == 1
    reg = MultiTaskSharedRepRegressor(alpha=0.05, max_iter=6, tol=1e-14)
    with pytest.warns(ConvergenceWarning, match="max_iter=6"):
        reg.fit(X, Y)
    assert reg.n_iter_ == 6


def test_gram_form_chosen_for_large_dense_problems_with_few_missing():
    n, p, T, k = 100_000, 200, 50, 5
    observed = int(0.8 * n * T)
    assert shared_rep._choose_form(False, False, n, p, T, observed, k, dense=True) == "gram"
    # Sparse data, an L1 part or mostly missing targets keep the other forms.
    assert shared_rep._choose_form(False, False, n, p, T, observed, k) != "gram"
    assert shared_rep._choose_form(False, True, n, p, T, observed, k, dense=True) != "gram"
    assert shared_rep._choose_form(
        False, False, 11472, 27, 139, 11472, 1, dense=True
    ) == "statistics"

def test_rank_constrained_equals_trace_norm_when_k_large_enough():
    # The trace-norm solution has low rank: any k at least that rank gives it.
    X, Y = low_rank_data(n=60, p=15, T=8, rank=2, seed=2)
    alpha = 0.1
    W_ref, _, ref_value = trace_norm_reference(X, Y, alpha)
    rank = np.sum(np.linalg.svd(W_ref, compute_uv=False) > 1e-6)
    assert rank < 8
    reg = MultiTaskSharedRepRegressor(
        n_components=int(rank), alpha=alpha, tol=1e-10, max_iter=5000
    ).fit(X, Y)
    assert fitted_objective(reg, X, Y, alpha) == pytest.approx(ref_value, rel=1e-4)
    assert_allclose(reg.coef_.T, W_ref, atol=1e-4)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_rank_constrained_closed_form(k):
    # With X^T X / n = I and no intercept the problem is
    # min 1/2 ||W - C||^2 + alpha ||W||_* + const subject to rank(W) <= k,
    # whose solution keeps the k largest singular values of C = X^T Y / n,
    # soft-thresholded by alpha.
    rng = np.random.RandomState(32)
    n, p, T = 50, 12, 9
    X = np.sqrt(n) * np.linalg.qr(rng.standard_normal((n, p)))[0]
    Y = X @ rng.standard_normal((p, T)) + rng.standard_normal((n, T))
    alpha = 0.3
    P, sigma, Rt = np.linalg.svd(X.T @ Y / n, full_matrices=False)
    shrunk = np.maximum(sigma[:k] - alpha, 0.0)
    W_expected = (P[:, :k] * shrunk) @ Rt[:k]
    reg = MultiTaskSharedRepRegressor(
        n_components=k, alpha=alpha, fit_intercept=False, tol=1e-10
    ).fit(X, Y)
    assert_allclose(reg.coef_.T, W_expected, atol=1e-7)


def test_single_task_is_group_shrinkage():
    # With one task the trace norm is the Euclidean norm of w.
    X, Y = low_rank_data(T=1, rank=1)
    y = Y[:, 0]
    alpha = 0.05
    _, _, ref_value = trace_norm_reference(X, Y, alpha)
    reg = MultiTaskSharedRepRegressor(alpha=alpha, tol=1e-10).fit(X, y)
    assert reg.coef_.shape == (X.shape[1],)
    assert isinstance(reg.intercept_, float)
    assert reg.components_.shape == (1, X.shape[1])
    assert reg.predict(X).shape == (X.shape[0],)
    assert fitted_objective(reg, X, y, alpha) == pytest.approx(ref_value, rel=1e-4)


def test_sample_weight_trace_norm_optimum():
    X, Y = low_rank_data(missing=0.3, seed=3)
    sw = np.random.RandomState(0).uniform(0.1, 3.0, X.shape[0])
    alpha = 0.05
    _, _, ref_value = trace_norm_reference(X, Y, alpha, sample_weight=sw)
    reg = MultiTaskSharedRepRegressor(alpha=alpha, tol=1e-10, max_iter=5000)
    reg.fit(X, Y, sample_weight=sw)
    value = fitted_objective(reg, X, Y, alpha, sample_weight=sw)
    assert value == pytest.approx(ref_value, rel=1e-4)


# --------------------------------------------------------------------------
# Sample weights, dtypes, sparse input, warm start
# --------------------------------------------------------------------------


@pytest.mark.parametrize("missing", [0.0, 0.3])
def test_sample_weight_equals_repeated_rows(missing):
    X, Y = low_rank_data(missing=missing, seed=4)
    rng = np.random.RandomState(0)
    sw = rng.randint(0, 4, X.shape[0])
    sw[:3] = 1  # every task keeps observed rows
    params = dict(n_components=3, alpha=0.05, tol=1e-12, max_iter=5000, random_state=0)
    weighted = MultiTaskSharedRepRegressor(**params).fit(X, Y, sample_weight=sw)
    repeated = MultiTaskSharedRepRegressor(**params).fit(
        np.repeat(X, sw, axis=0), np.repeat(Y, sw, axis=0)
    )
    assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-6, atol=1e-8)
    assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-6, atol=1e-8)


def test_sample_weight_scale_invariance():
    X, Y = low_rank_data(seed=5)
    sw = np.random.RandomState(1).uniform(0.5, 2.0, X.shape[0])
    a = MultiTaskSharedRepRegressor(alpha=0.05, tol=1e-12).fit(X, Y, sample_weight=sw)
    b = MultiTaskSharedRepRegressor(alpha=0.05, tol=1e-12).fit(
        X, Y, sample_weight=10 * sw
    )
    assert_allclose(a.coef_, b.coef_, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("missing", [0.0, 0.3])
def test_float32_preserved(missing):
    X, Y = low_rank_data(missing=missing, seed=6)
    # float32 products limit the attainable stationarity to about 1e-6.
    reg64 = MultiTaskSharedRepRegressor(alpha=0.05, tol=1e-5).fit(X, Y)
    reg32 = MultiTaskSharedRepRegressor(alpha=0.05, tol=1e-5).fit(
        X.astype(np.float32), Y.astype(np.float32)
    )
    for name in ["coef_", "intercept_", "components_", "heads_"]:
        assert getattr(reg32, name).dtype == np.float32, name
    assert reg32.predict(X.astype(np.float32)).dtype == np.float32
    assert reg32.transform(X.astype(np.float32)).dtype == np.float32
    assert_allclose(reg32.coef_, reg64.coef_, rtol=1e-3, atol=1e-4)
    assert_allclose(reg32.intercept_, reg64.intercept_, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("missing", [0.0, 0.3])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csc_array])
@pytest.mark.parametrize("n", [40, 12])
def test_sparse_equals_dense(missing, fit_intercept, container, n):
    X, Y = low_rank_data(n=n, p=20, missing=missing, seed=7)
    X[np.abs(X) < 0.8] = 0.0
    X += 0.0
    Xs = container(X)
    params = dict(alpha=0.05, fit_intercept=fit_intercept, tol=1e-11, max_iter=5000)
    dense = MultiTaskSharedRepRegressor(**params).fit(X, Y)
    sparse = MultiTaskSharedRepRegressor(**params).fit(Xs, Y)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6, atol=1e-8)
    assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-6, atol=1e-8)
    assert_allclose(sparse.predict(Xs), dense.predict(X), rtol=1e-6, atol=1e-8)
    # U alone is defined up to a rotation U R: compare Z Z^T, which is not.
    Z_sparse, Z_dense = sparse.transform(Xs), dense.transform(X)
    assert_allclose(Z_sparse @ Z_sparse.T, Z_dense @ Z_dense.T, rtol=1e-5, atol=1e-6)


def test_sparse_input_not_densified(monkeypatch):
    X, Y = low_rank_data(n=30, p=25, missing=0.3, seed=8)
    X[np.abs(X) < 1.0] = 0.0
    Xs = sp.csr_matrix(X)

    def forbidden(*args, **kwargs):
        raise AssertionError("sparse X was densified")

    monkeypatch.setattr(sp.csr_matrix, "toarray", forbidden)
    monkeypatch.setattr(sp.csr_matrix, "todense", forbidden)
    reg = MultiTaskSharedRepRegressor(alpha=0.05).fit(Xs, Y)
    reg.predict(Xs)
    reg.transform(Xs)


@pytest.mark.parametrize("missing", [0.0, 0.3])
def test_warm_start(missing):
    X, Y = low_rank_data(missing=missing, seed=9)
    reg = MultiTaskSharedRepRegressor(
        n_components=3, alpha=0.05, tol=1e-8, warm_start=True
    ).fit(X, Y)
    coef, n_iter = reg.coef_.copy(), reg.n_iter_
    reg.fit(X, Y)
    assert reg.n_iter_ <= 2 < n_iter
    assert_allclose(reg.coef_, coef, rtol=1e-5, atol=1e-7)
    # A warm start on a nearby alpha converges faster than a cold start (to
    # the same point: with n_components=None the problem is the convex one).
    reg = MultiTaskSharedRepRegressor(alpha=0.05, tol=1e-8, warm_start=True)
    reg.fit(X, Y)
    cold = MultiTaskSharedRepRegressor(alpha=0.06, tol=1e-8).fit(X, Y)
    reg.set_params(alpha=0.06).fit(X, Y)
    assert reg.n_iter_ < cold.n_iter_
    assert_allclose(reg.coef_, cold.coef_, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("missing", [0.0, 0.3])
def test_warm_start_from_switched_off_components(missing):
    # A path of decreasing alpha: the first fit is zero, or has fewer active
    # components than the next needs; warm starts must still reach the optimum.
    X, Y = low_rank_data(missing=missing, seed=30)
    reg = MultiTaskSharedRepRegressor(alpha=1e3, tol=1e-9, warm_start=True)
    reg.fit(X, Y)
    assert_allclose(reg.coef_, 0.0)
    for alpha in [0.5, 0.05]:
        reg.set_params(alpha=alpha).fit(X, Y)
        _, _, ref_value = trace_norm_reference(X, Y, alpha)
        assert fitted_objective(reg, X, Y, alpha) == pytest.approx(ref_value, rel=1e-4)


def test_warm_start_after_a_shape_change_is_an_error():
    # The same rule as the classifier's: a previous fit of another shape
    # cannot be continued, and silently restarting would hide that.
    X, Y = low_rank_data(seed=10)
    reg = MultiTaskSharedRepRegressor(n_components=2, warm_start=True, alpha=0.05)
    reg.fit(X, Y)
    with pytest.raises(ValueError, match="warm_start=True needs the previous fit"):
        reg.set_params(n_components=3).fit(X, Y)
    reg.set_params(warm_start=False).fit(X, Y)
    cold = MultiTaskSharedRepRegressor(n_components=3, alpha=0.05).fit(X, Y)
    assert_allclose(reg.coef_, cold.coef_, rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------
# Fitted model: attributes, transform, score, rank
# --------------------------------------------------------------------------


def test_attributes_and_transform():
    X, Y = low_rank_data(seed=11)
    reg = MultiTaskSharedRepRegressor(n_components=2, alpha=0.05, tol=1e-8)
    reg.fit(X, Y)
    T, p = Y.shape[1], X.shape[1]
    assert reg.coef_.shape == (T, p)
    assert reg.intercept_.shape == (T,)
    assert reg.components_.shape == (2, p)
    assert reg.heads_.shape == (T, 2)
    assert reg.n_iter_ >= 1
    assert_allclose(reg.coef_, reg.heads_ @ reg.components_, atol=1e-12)
    assert_allclose(reg.transform(X), X @ reg.components_.T)
    assert_allclose(
        reg.predict(X), reg.transform(X) @ reg.heads_.T + reg.intercept_, atol=1e-10
    )
    assert np.linalg.matrix_rank(reg.coef_, tol=1e-8) <= 2
    names = reg.get_feature_names_out()
    assert list(names) == [
        "multitasksharedrepregressor0",
        "multitasksharedrepregressor1",
    ]
    # The balanced factorisation of the optimum: U^T U = V V^T.
    U, V = reg.components_.T, reg.heads_.T
    assert_allclose(U.T @ U, V @ V.T, rtol=1e-3, atol=1e-6)


def test_score_ignores_missing_targets():
    X, Y = low_rank_data(missing=0.3, seed=12)
    reg = MultiTaskSharedRepRegressor(alpha=0.05).fit(X, Y)
    Y_pred = reg.predict(X)
    expected = np.mean(
        [
            r2_score(Y[~np.isnan(Y[:, t]), t], Y_pred[~np.isnan(Y[:, t]), t])
            for t in range(Y.shape[1])
        ]
    )
    assert reg.score(X, Y) == pytest.approx(expected)
    Y_full = np.where(np.isnan(Y), Y_pred, Y)
    assert reg.score(X, Y_full) == pytest.approx(r2_score(Y_full, Y_pred))


def test_generalises_on_low_rank_tasks():
    X, X_test, Y, Y_test = make_low_rank_tasks(
        n_samples=50, n_features=60, n_tasks=30, rank=3, noise=0.5,
        missing_fraction=0.3, n_test_samples=500, random_state=13,
    )
    reg = MultiTaskSharedRepRegressor(n_components=3, alpha=0.02).fit(X, Y)
    ridge = Ridge(alpha=50.0).fit(np.nan_to_num(X), np.where(np.isnan(Y), 0, Y))
    assert reg.score(X_test, Y_test) > 0.5
    assert reg.score(X_test, Y_test) > ridge.score(X_test, Y_test)


def test_deterministic_given_random_state():
    # n_components above the ridge rank: the extra directions are random.
    X, Y = low_rank_data(n=6, p=20, T=8, seed=14)
    a = MultiTaskSharedRepRegressor(n_components=8, alpha=0.05, random_state=0)
    b = MultiTaskSharedRepRegressor(n_components=8, alpha=0.05, random_state=0)
    assert_allclose(a.fit(X, Y).coef_, b.fit(X, Y).coef_)


def test_l1_ratio_selects_shared_features():
    rng = np.random.RandomState(15)
    n, p, T = 80, 30, 6
    X = rng.standard_normal((n, p))
    W = np.zeros((p, T))
    W[:5] = rng.standard_normal((5, 2)) @ rng.standard_normal((2, T))
    Y = X @ W + 0.1 * rng.standard_normal((n, T))
    Y[rng.rand(n, T) < 0.2] = np.nan
    dense_rows = MultiTaskSharedRepRegressor(n_components=2, alpha=0.1).fit(X, Y)
    with warnings.catch_warnings():
        # converged to a stationary point, measured by the stopping rule
        warnings.simplefilter("error", ConvergenceWarning)
        sparse_rows = MultiTaskSharedRepRegressor(
            n_components=2, alpha=0.1, l1_ratio=0.5, tol=1e-6, max_iter=2000
        ).fit(X, Y)
    used = np.any(sparse_rows.components_ != 0, axis=0)
    assert np.all(used[:5])
    assert used.sum() < 15
    assert np.all(np.any(dense_rows.components_ != 0, axis=0))
    assert sparse_rows.score(X, Y) > 0.9


@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csc_matrix])
def test_l1_ratio_sparse_equals_dense(container):
    X, Y = low_rank_data(missing=0.2, seed=27)
    X[np.abs(X) < 0.5] = 0.0
    params = dict(n_components=2, alpha=0.1, l1_ratio=0.3, tol=1e-8, random_state=0)
    dense = MultiTaskSharedRepRegressor(**params).fit(X, Y)
    sparse = MultiTaskSharedRepRegressor(**params).fit(container(X), Y)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-5, atol=1e-7)
    assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("missing", [0.0, 0.3])
def test_large_alpha_gives_zero_coef(missing):
    # alpha above the spectral norm of X^T Y / n (centred): W = 0 is optimal.
    X, Y = low_rank_data(missing=missing, seed=28)
    reg = MultiTaskSharedRepRegressor(alpha=1e3).fit(X, Y)
    assert_allclose(reg.coef_, 0.0)
    assert_allclose(reg.intercept_, np.nanmean(Y, axis=0))


def test_verbose_prints_progress(capsys):
    X, Y = low_rank_data(seed=29)
    MultiTaskSharedRepRegressor(alpha=0.05, verbose=1).fit(X, Y)
    assert "relative stationarity" in capsys.readouterr().out


def test_n_components_none_is_full_rank_bound():
    X, Y = low_rank_data(p=15, T=8)
    reg = MultiTaskSharedRepRegressor(alpha=0.05).fit(X, Y)
    assert reg.components_.shape == (8, 15)


# --------------------------------------------------------------------------
# Convergence warning, pickling, meta-estimators
# --------------------------------------------------------------------------


@pytest.mark.parametrize("missing", [0.0, 0.3])
def test_convergence_warning(missing):
    X, Y = low_rank_data(missing=missing, seed=16)
    reg = MultiTaskSharedRepRegressor(alpha=0.05, max_iter=1, tol=1e-14)
    with pytest.warns(
        ConvergenceWarning, match=r"relative stationarity is .* above tol=.*max_iter=1"
    ):
        reg.fit(X, Y)
    assert reg.n_iter_ == 1


def test_no_warning_when_converged():
    X, Y = low_rank_data(seed=17)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        MultiTaskSharedRepRegressor(alpha=0.05).fit(X, Y)


def test_pickle_roundtrip():
    X, Y = low_rank_data(missing=0.3, seed=18)
    reg = MultiTaskSharedRepRegressor(n_components=2, alpha=0.05).fit(X, Y)
    clone = pickle.loads(pickle.dumps(reg))
    assert_allclose(clone.predict(X), reg.predict(X))
    assert_allclose(clone.transform(X), reg.transform(X))


def test_pipeline_and_grid_search_with_missing_targets():
    X, Y = low_rank_data(n=60, p=15, missing=0.3, seed=19)
    pipe = make_pipeline(StandardScaler(), MultiTaskSharedRepRegressor())
    search = GridSearchCV(
        pipe,
        {
            "multitasksharedrepregressor__alpha": [0.01, 0.1],
            "multitasksharedrepregressor__n_components": [1, 2, 4],
        },
        cv=3,
    ).fit(X, Y)
    assert np.isfinite(search.best_score_)
    assert search.predict(X).shape == Y.shape
    # As a transformer: supervised dimensionality reduction.
    Z = make_pipeline(
        StandardScaler(), MultiTaskSharedRepRegressor(n_components=2, alpha=0.05)
    ).fit_transform(X, Y)
    assert Z.shape == (60, 2)


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------


def test_nan_or_inf_in_X_rejected():
    X, Y = low_rank_data(seed=20)
    for bad in [np.nan, np.inf]:
        Xb = X.copy()
        Xb[0, 0] = bad
        with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
            MultiTaskSharedRepRegressor().fit(Xb, Y)


def test_inf_in_y_rejected():
    X, Y = low_rank_data(seed=21)
    Y[3, 2] = np.inf
    with pytest.raises(ValueError, match="Input y contains infinity"):
        MultiTaskSharedRepRegressor().fit(X, Y)


def test_task_without_observed_target():
    X, Y = low_rank_data(seed=22)
    Y[:, 3] = np.nan
    with pytest.raises(ValueError, match=r"Task\(s\) \[3\] have no observed target"):
        MultiTaskSharedRepRegressor().fit(X, Y)
    with pytest.raises(ValueError, match="y has no observed target"):
        MultiTaskSharedRepRegressor().fit(X, Y[:, 3])
    # Observed only on samples of zero weight is not observed either.
    Y = low_rank_data(seed=22)[1]
    Y[2:, 1] = np.nan
    sw = np.ones(X.shape[0])
    sw[:2] = 0
    with pytest.raises(ValueError, match=r"Task\(s\) \[1\]"):
        MultiTaskSharedRepRegressor().fit(X, Y, sample_weight=sw)


def test_n_components_out_of_range():
    X, Y = low_rank_data(p=15, T=8, seed=23)
    with pytest.raises(ValueError, match=r"n_components=9 must be between 1 and"):
        MultiTaskSharedRepRegressor(n_components=9).fit(X, Y)
    with pytest.raises(InvalidParameterError, match="n_components"):
        MultiTaskSharedRepRegressor(n_components=0).fit(X, Y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": -1.0}, "alpha"),
        ({"l1_ratio": 1.0}, "l1_ratio"),
        ({"max_iter": 0}, "max_iter"),
        ({"tol": -1.0}, "tol"),
    ],
)
def test_invalid_parameters(params, match):
    X, Y = low_rank_data(seed=24)
    with pytest.raises(InvalidParameterError, match=match):
        MultiTaskSharedRepRegressor(**params).fit(X, Y)


def test_shape_mismatches():
    X, Y = low_rank_data(seed=25)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        MultiTaskSharedRepRegressor().fit(X, Y[:-1])
    with pytest.raises(ValueError, match="sample_weight.shape"):
        MultiTaskSharedRepRegressor().fit(X, Y, sample_weight=np.ones(3))
    reg = MultiTaskSharedRepRegressor(alpha=0.05).fit(X, Y)
    with pytest.raises(ValueError, match="features"):
        reg.predict(X[:, :-1])
    with pytest.raises(ValueError, match="features"):
        reg.transform(X[:, :-1])
    with pytest.raises(ValueError, match="dim 3"):
        MultiTaskSharedRepRegressor().fit(X, Y[:, :, None])


def test_negative_or_null_sample_weight_rejected():
    X, Y = low_rank_data(seed=26)
    with pytest.raises(ValueError, match="[Nn]egative"):
        MultiTaskSharedRepRegressor().fit(X, Y, sample_weight=-np.ones(X.shape[0]))
    with pytest.raises(ValueError, match="non-zero|positive sum"):
        MultiTaskSharedRepRegressor().fit(X, Y, sample_weight=np.zeros(X.shape[0]))
