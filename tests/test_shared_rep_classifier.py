"""Tests of MultiTaskSharedRepClassifier and its jitted cross-entropy kernels."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import log_expit, log_softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from sklearn_mtl import MultiTaskSharedRepClassifier
from sklearn_mtl._datafits.cross_entropy import CrossEntropyHeads
from sklearn_mtl._design import make_design
from sklearn_mtl._kernels._cross_entropy import heads_loss_grad
from sklearn_mtl.datasets import make_low_rank_classification_tasks


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Single-threaded BLAS: these problems are tiny, and on a loaded 2-core
    machine multi-threaded OpenBLAS calls inside L-BFGS mostly wait for
    threads (40x slower fits)."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


# Tight enough that the sample-weight equivalence checks hold to 1e-7.
CHECKED = MultiTaskSharedRepClassifier(tol=1e-10, max_iter=300, random_state=0)


@parametrize_with_checks([MultiTaskSharedRepClassifier(), CHECKED])
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


# ---------------------------------------------------------------- fixtures


def _tasks(n_samples=80, n_features=6, n_classes=(2, 3, 2, 3), rank=2, seed=0,
           missing_fraction=0.0):
    X, _, Y, _ = make_low_rank_classification_tasks(
        n_samples=n_samples,
        n_features=n_features,
        n_tasks=len(n_classes),
        rank=rank,
        n_classes=list(n_classes),
        temperature=1.0,
        missing_fraction=missing_fraction,
        n_test_samples=1,
        random_state=seed,
    )
    return X, Y


def _fit(X, Y, sample_weight=None, **params):
    params = {"tol": 1e-8, "max_iter": 2000, "random_state": 0, **params}
    with warnings.catch_warnings():
        # Some fits (float32, L1 with FISTA) stop just above tol=1e-8.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MultiTaskSharedRepClassifier(**params).fit(
            X, Y, sample_weight=sample_weight
        )


def _stacked_coef(clf):
    coef = clf.coef_ if isinstance(clf.coef_, list) else [clf.coef_]
    intercept = clf.intercept_
    if not isinstance(intercept, list):
        intercept = [intercept]
    return np.vstack(coef).T, np.concatenate(intercept)


# ------------------------------------------------ independent reference solver


def _numpy_cross_entropy(S, Y, sample_weight, offsets):
    """Plain-numpy weighted cross-entropy / n and its gradient in S."""
    n_samples = S.shape[0]
    loss = 0.0
    grad = np.zeros_like(S)
    for t in range(Y.shape[1]):
        mask = ~np.isnan(Y[:, t])
        labels = Y[mask, t].astype(int)
        w = sample_weight[mask] / n_samples
        cols = slice(offsets[t], offsets[t + 1])
        if offsets[t + 1] - offsets[t] == 1:
            s = S[mask, offsets[t]]
            sign = np.where(labels == 1, 1.0, -1.0)
            loss -= np.sum(w * log_expit(sign * s))
            grad[mask, offsets[t]] = w * (np.exp(log_expit(s)) - labels)
        else:
            log_p = log_softmax(S[mask, cols], axis=1)
            loss -= np.sum(w * log_p[np.arange(len(labels)), labels])
            p = np.exp(log_p)
            p[np.arange(len(labels)), labels] -= 1.0
            grad[np.ix_(mask, np.arange(offsets[t], offsets[t + 1]))] = w[:, None] * p
    return loss, grad


def _offsets_of(Y):
    n_heads = []
    for t in range(Y.shape[1]):
        n_class = len(np.unique(Y[~np.isnan(Y[:, t]), t]))
        n_heads.append(1 if n_class == 2 else n_class)
    return np.concatenate([[0], np.cumsum(n_heads)])


def _trace_norm_reference(X, Y, alpha, sample_weight=None, n_iter=20000, tol=1e-10):
    """min_{W, b} CE(X W + b) / n + alpha ||W||_*, by FISTA with SVT.

    Accelerated proximal gradient with backtracking and monotone restart; the
    prox of the trace norm soft-thresholds the singular values. Stops when the
    proximal gradient mapping is below ``tol``.
    """
    n_samples, n_features = X.shape
    sw = np.ones(n_samples) if sample_weight is None else sample_weight
    sw = sw * n_samples / sw.sum()
    offsets = _offsets_of(Y)
    n_columns = offsets[-1]

    def smooth(W, b):
        loss, dS = _numpy_cross_entropy(X @ W + b, Y, sw, offsets)
        return loss, X.T @ dS, dS.sum(axis=0)

    def svt(W, threshold):
        P, s, Qt = np.linalg.svd(W, full_matrices=False)
        return (P * np.maximum(s - threshold, 0.0)) @ Qt

    def objective(W, b):
        return smooth(W, b)[0] + alpha * np.linalg.svd(W, compute_uv=False).sum()

    W = np.zeros((n_features, n_columns))
    b = np.zeros(n_columns)
    W_prev, b_prev = W, b
    F = objective(W, b)
    t, L = 1.0, 1.0
    for _ in range(n_iter):
        t_next = 0.5 * (1 + np.sqrt(1 + 4 * t * t))
        beta = (t - 1) / t_next
        for restart in (False, True):
            if restart:
                beta, t_next = 0.0, 1.0
            Wy, by = W + beta * (W - W_prev), b + beta * (b - b_prev)
            f_y, gW, gb = smooth(Wy, by)
            while True:  # L never decreases: no step accepted on rounding noise
                W_new = svt(Wy - gW / L, alpha / L)
                b_new = by - gb / L
                dW, db = W_new - Wy, b_new - by
                bound = (f_y + np.sum(gW * dW) + gb @ db
                         + 0.5 * L * (np.sum(dW**2) + db @ db))
                if smooth(W_new, b_new)[0] <= bound + 1e-15:
                    break
                L *= 2.0
            F_new = objective(W_new, b_new)
            if F_new <= F or beta == 0.0:
                break
        W_prev, b_prev, W, b, F, t = W, b, W_new, b_new, F_new, t_next
        if L * max(np.abs(dW).max(), np.abs(db).max()) < tol:
            break
    return W, b, F


def _factored_objective(clf, X, Y, alpha, sample_weight=None):
    """CE / n + alpha ||W||_* at the classifier's fitted W = U V."""
    W, b = _stacked_coef(clf)
    sw = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    sw = sw * X.shape[0] / sw.sum()
    loss, _ = _numpy_cross_entropy(X @ W + b, Y, sw, _offsets_of(Y))
    return loss + alpha * np.linalg.svd(W, compute_uv=False).sum()


# ------------------------------------------------------------------ exactness


def _observations(Y, weights):
    """``(rows, tasks, labels, weights)`` of the observed entries of ``Y``."""
    rows, tasks = np.nonzero(~np.isnan(Y))
    labels = Y[rows, tasks].astype(np.int64)
    return rows.astype(np.int64), tasks.astype(np.int64), labels, weights[rows, tasks]


def test_kernel_matches_numpy_and_finite_differences():
    rng = np.random.RandomState(0)
    offsets = np.array([0, 1, 4, 5, 7])
    n, k = 7, 3
    Y = np.column_stack([
        rng.randint(0, 2, n), rng.randint(0, 3, n), rng.randint(0, 2, n),
        rng.randint(0, 2, n),
    ]).astype(float)
    Y[2, 1] = np.nan  # a missing label
    obs = _observations(Y, np.full(Y.shape, 1.0 / n))
    Z, V, b = rng.standard_normal((n, k)), rng.standard_normal((k, 7)), rng.randn(7)

    def loss_and_grads(Z, V, b):
        dZ, dV, db = np.zeros_like(Z), np.zeros_like(V), np.zeros_like(b)
        loss = heads_loss_grad(Z, V, b, *obs, offsets, dZ, dV, db)
        return loss, dZ, dV, db

    loss, dZ, dV, db = loss_and_grads(Z, V, b)
    # Against the plain-numpy reference on the full score matrix.
    ref_loss, ref_grad = _numpy_cross_entropy(Z @ V + b, Y, np.ones(n), offsets)
    assert_allclose(loss, ref_loss, rtol=1e-12)
    assert_allclose(db, ref_grad.sum(axis=0), atol=1e-14)
    assert_allclose(dZ, ref_grad @ V.T, atol=1e-14)
    assert_allclose(dV, Z.T @ ref_grad, atol=1e-14)
    # ... and central finite differences of the kernel's own loss.
    eps = 1e-6
    for array, grad in [(Z, dZ), (V, dV), (b, db)]:
        numeric = np.empty_like(array)
        for idx in np.ndindex(*array.shape):
            saved = array[idx]
            array[idx] = saved + eps
            up = loss_and_grads(Z, V, b)[0]
            array[idx] = saved - eps
            down = loss_and_grads(Z, V, b)[0]
            array[idx] = saved
            numeric[idx] = (up - down) / (2 * eps)
        assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)
    # Large scores neither overflow nor lose the gradient.
    big = loss_and_grads(Z, V, b + 800.0)
    assert all(np.all(np.isfinite(part)) for part in big)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("shrinkage", [0.0, 0.3])
def test_objective_gradient_matches_finite_differences(fit_intercept, sparse, shrinkage):
    X, Y = _tasks(n_samples=30, n_features=5, missing_fraction=0.2)
    rng = np.random.RandomState(1)
    sw = rng.uniform(0.5, 2.0, 30)
    weights = np.repeat(sw[:, None], Y.shape[1], axis=1) / 30
    offsets = _offsets_of(Y)
    Xd = sp.csr_matrix(X) if sparse else X
    # Tasks 0 and 2 are binary, 1 and 3 three-class: two pooling groups.
    groups = [np.array([0, 2]), np.array([1, 3])]
    # The datafit reads X centred around its weighted means.
    design = make_design(Xd, np.ones(30), np.ones(30), fit_intercept)
    objective = CrossEntropyHeads(
        design, _observations(Y, weights), offsets, 3, 0.3, fit_intercept, groups,
        shrinkage,
    )
    x = rng.standard_normal(objective.size) * 0.5
    value, grad = objective.value_and_grad(x)
    U, V, b = objective.unpack(x)
    Xc = X - X.mean(axis=0) if fit_intercept else X
    ref, _ = _numpy_cross_entropy(Xc @ U @ V + b, Y, sw, offsets)
    pooled = 0.0
    if fit_intercept:
        for group in groups:
            cols = [np.arange(offsets[t], offsets[t + 1]) for t in group]
            B = np.array([b[c] for c in cols])
            pooled += 0.5 * shrinkage / 4 * np.sum((B - B.mean(axis=0)) ** 2)
    expected = ref + 0.15 * (np.sum(U**2) + np.sum(V**2)) + pooled
    assert_allclose(value, expected, rtol=1e-12)
    eps = 1e-6
    numeric = np.empty_like(x)
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = eps
        numeric[j] = (
            objective.value_and_grad(x + e)[0] - objective.value_and_grad(x - e)[0]
        ) / (2 * eps)
    assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)
    # Hessian-vector products (used by the Newton polish) against finite
    # differences of the gradient.
    v = rng.standard_normal(objective.size)
    numeric_hv = (
        objective.value_and_grad(x + eps * v)[1]
        - objective.value_and_grad(x - eps * v)[1]
    ) / (2 * eps)
    assert_allclose(objective.hessp(x, v), numeric_hv, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "params",
    [
        {},  # n_components=None: min(n_features, n_columns)
        {"n_components": 3},  # at least the rank of the solution
        {"solver": "fista", "max_iter": 20000},
    ],
    ids=["full", "k3", "fista"],
)
def test_reaches_trace_norm_optimum(params):
    X, Y = _tasks(missing_fraction=0.2)
    alpha = 0.15
    sw = np.random.RandomState(3).uniform(0.5, 2.0, X.shape[0])
    W_ref, b_ref, F_ref = _trace_norm_reference(X, Y, alpha, sample_weight=sw)
    rank = np.sum(np.linalg.svd(W_ref, compute_uv=False) > 1e-6)
    assert 1 <= rank <= 3 < W_ref.shape[1]  # the penalty selects a low rank
    # The reference leaves the intercepts free: so does the fit here.
    clf = MultiTaskSharedRepClassifier(
        **{"alpha": alpha, "tol": 1e-9, "max_iter": 3000, "random_state": 0,
           "intercept_shrinkage": 0.0, **params}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, Y, sample_weight=sw)
    W, b = _stacked_coef(clf)
    F = _factored_objective(clf, X, Y, alpha, sample_weight=sw)
    assert F >= F_ref - 1e-10 * abs(F_ref)
    assert (F - F_ref) / F_ref < 1e-6
    assert np.linalg.norm(W - W_ref) / np.linalg.norm(W_ref) < 1e-4
    assert_allclose(b, b_ref, rtol=1e-4, atol=1e-5)
    if "solver" not in params:
        # components_ are the balanced factors: squared norms = singular values.
        assert_allclose(
            np.sum(clf.components_**2, axis=1)[:rank],
            np.linalg.svd(W_ref, compute_uv=False)[:rank],
            rtol=1e-4,
        )


def test_l1_ratio_gives_sparse_shared_features():
    rng = np.random.RandomState(0)
    X, Y = _tasks(n_samples=200, n_features=4)
    X = np.hstack([X, rng.standard_normal((X.shape[0], 16))])  # useless features
    clf = _fit(X, Y, alpha=0.1, l1_ratio=0.5, n_components=3, tol=1e-6)
    zero_rows = np.all(clf.components_ == 0, axis=0)
    assert not zero_rows[:4].any()
    assert zero_rows[4:].sum() >= 6
    dense = _fit(X, Y, alpha=0.1, n_components=3, tol=1e-6)
    assert not np.any(np.all(dense.components_ == 0, axis=0))


def test_lbfgs_and_fista_agree():
    X, Y = _tasks(seed=4)
    a = _fit(X, Y, alpha=0.02, solver="lbfgs")
    b = _fit(X, Y, alpha=0.02, solver="fista", max_iter=20000)
    Wa, ba = _stacked_coef(a)
    Wb, bb = _stacked_coef(b)
    assert np.linalg.norm(Wa - Wb) / np.linalg.norm(Wa) < 1e-4


# ---------------------------------------------------------- API and shapes


def test_single_task_shapes_match_logistic_regression():
    X, Y = _tasks(n_classes=(3,))
    y = Y[:, 0]
    clf = _fit(X, y)
    assert_array_equal(clf.classes_, [0.0, 1.0, 2.0])
    assert clf.coef_.shape == (3, X.shape[1])
    assert clf.intercept_.shape == (3,)
    assert clf.predict(X).shape == (X.shape[0],)
    assert clf.predict_proba(X).shape == (X.shape[0], 3)
    assert clf.decision_function(X).shape == (X.shape[0], 3)
    binary = _fit(X, (y > 0).astype(int))
    assert binary.coef_.shape == (1, X.shape[1])
    assert binary.decision_function(X).shape == (X.shape[0],)
    assert_allclose(
        binary.decision_function(X), X @ binary.coef_[0] + binary.intercept_[0]
    )
    assert_allclose(binary.predict_proba(X).sum(axis=1), 1.0)
    assert_allclose(
        np.exp(binary.predict_log_proba(X)), binary.predict_proba(X), rtol=1e-12
    )


def test_several_tasks_shapes_like_multioutput_classifier():
    X, Y = _tasks(n_classes=(2, 3, 4))
    clf = _fit(X, Y, n_components=2)
    assert isinstance(clf.classes_, list) and len(clf.classes_) == 3
    assert [len(c) for c in clf.classes_] == [2, 3, 4]
    proba = clf.predict_proba(X)
    assert [p.shape for p in proba] == [(80, 2), (80, 3), (80, 4)]
    log_proba = clf.predict_log_proba(X)
    for p, lp in zip(proba, log_proba):
        assert_allclose(np.exp(lp), p, rtol=1e-10, atol=1e-300)
    decision = clf.decision_function(X)
    assert [d.shape for d in decision] == [(80,), (80, 3), (80, 4)]
    assert [c.shape for c in clf.coef_] == [(1, 6), (3, 6), (4, 6)]
    pred = clf.predict(X)
    assert pred.shape == (80, 3)
    for t in range(3):
        assert_array_equal(pred[:, t], clf.classes_[t][np.argmax(proba[t], axis=1)])
        expected = X @ clf.coef_[t].T + clf.intercept_[t]
        assert_allclose(decision[t], expected.squeeze(), rtol=1e-10, atol=1e-12)
    assert clf.components_.shape == (2, 6)
    assert_allclose(clf.transform(X), X @ clf.components_.T)
    assert clf.get_feature_names_out().tolist() == [
        "multitasksharedrepclassifier0",
        "multitasksharedrepclassifier1",
    ]


def test_score_is_mean_per_task_accuracy_on_observed_labels():
    X, Y = _tasks(missing_fraction=0.3)
    clf = _fit(X, Y)
    pred = clf.predict(X)
    accuracies = [
        np.mean(pred[~np.isnan(Y[:, t]), t] == Y[~np.isnan(Y[:, t]), t])
        for t in range(Y.shape[1])
    ]
    assert clf.score(X, Y) == pytest.approx(np.mean(accuracies))
    single = _fit(X, Y[:, 0])
    mask = ~np.isnan(Y[:, 0])
    assert single.score(X[mask], Y[mask, 0]) == pytest.approx(
        np.mean(single.predict(X[mask]) == Y[mask, 0])
    )


def test_missing_labels_are_ignored():
    X, Y = _tasks(missing_fraction=0.3, seed=2)
    clf = _fit(X, Y, alpha=0.02)
    # A single task with missing labels is the fit on its observed rows, with
    # alpha rescaled by n_observed / n (the loss is divided by n, not n_obs).
    y = Y[:, 1]
    mask = ~np.isnan(y)
    with_missing = _fit(X, y, alpha=0.02)
    dropped = _fit(X[mask], y[mask], alpha=0.02 * X.shape[0] / mask.sum())
    assert_allclose(with_missing.coef_, dropped.coef_, rtol=1e-5, atol=1e-7)
    assert_allclose(with_missing.intercept_, dropped.intercept_, rtol=1e-5, atol=1e-7)
    # None in an object label matrix is the same as NaN in a float one.
    Y_obj = Y.astype(object)
    Y_obj[np.isnan(Y)] = None
    clf_obj = _fit(X, Y_obj, alpha=0.02)
    assert_allclose(_stacked_coef(clf_obj)[0], _stacked_coef(clf)[0])
    assert np.all(np.isfinite(clf.predict(X).astype(float)))


def test_string_labels():
    X, Y = _tasks(n_classes=(2, 3))
    names = np.array(["ant", "bee", "cat"], dtype=object)
    Y_str = np.empty(Y.shape, dtype=object)
    Y_str[:, 0] = np.where(Y[:, 0] == 1, "yes", "no")
    Y_str[:, 1] = names[Y[:, 1].astype(int)]
    Y_str[5, 1] = None  # missing
    Y_num = Y.copy()
    Y_num[5, 1] = np.nan
    clf = _fit(X, Y_str)
    ref = _fit(X, Y_num)
    assert_array_equal(clf.classes_[0], ["no", "yes"])
    assert_array_equal(clf.classes_[1], names)
    pred = clf.predict(X)
    assert pred.dtype == object
    assert set(pred[:, 1]) <= set(names)
    assert_array_equal(pred[:, 1], names[ref.predict(X)[:, 1].astype(int)])
    assert_allclose(_stacked_coef(clf)[0], _stacked_coef(ref)[0])
    assert clf.score(X, Y_str) == pytest.approx(ref.score(X, Y_num))


def test_class_weight():
    X, Y = _tasks(missing_fraction=0.2)
    # "balanced" equals the sample weights it stands for, task by task: check
    # on one task (class weights multiply the sample weights).
    y = Y[:, 1]
    mask = ~np.isnan(y)
    balanced = _fit(X[mask], y[mask], class_weight="balanced")
    sw = compute_sample_weight("balanced", y[mask])
    weighted = _fit(X[mask], y[mask], sample_weight=sw)
    assert_allclose(balanced.coef_, weighted.coef_, rtol=1e-5, atol=1e-7)
    # Class weights multiply the rescaled sample weights without being
    # rescaled themselves: as sample weights, they need alpha * n / sum(sw).
    as_dict = _fit(X[mask], y[mask], class_weight={0.0: 2.0, 1.0: 1.0, 2.0: 0.5})
    sw = np.array([2.0, 1.0, 0.5])[y[mask].astype(int)]
    as_sw = _fit(X[mask], y[mask], sample_weight=sw, alpha=0.01 * len(sw) / sw.sum())
    assert_allclose(as_dict.coef_, as_sw.coef_, rtol=1e-5, atol=1e-7)
    # A list with one entry per task; "balanced" shifts predictions towards
    # the rare class.
    Y_imb = Y.copy()
    Y_imb[:, 0] = (X[:, 0] > 1.0).astype(float)
    plain = _fit(X, Y_imb)
    per_task = _fit(X, Y_imb, class_weight=["balanced", None, None, None])
    assert (per_task.predict(X)[:, 0] == 1).sum() >= (plain.predict(X)[:, 0] == 1).sum()
    with pytest.raises(ValueError, match="single dict but y has 4 tasks"):
        _fit(X, Y, class_weight={0: 1.0})
    with pytest.raises(ValueError, match="class_weight has 2 entries"):
        _fit(X, Y, class_weight=["balanced", None])


def test_sample_weight_equals_repeated_rows():
    X, Y = _tasks(missing_fraction=0.2, n_classes=(2, 3, 3))
    sw = np.random.RandomState(0).randint(0, 4, X.shape[0])
    weighted = _fit(X, Y, sample_weight=sw, alpha=0.05)
    repeated = _fit(X.repeat(sw, axis=0), Y.repeat(sw, axis=0), alpha=0.05)
    assert_allclose(_stacked_coef(weighted)[0], _stacked_coef(repeated)[0],
                    rtol=1e-5, atol=1e-7)
    for a, b in zip(weighted.predict_proba(X), repeated.predict_proba(X)):
        assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_float32_keeps_dtype_and_matches_float64():
    X, Y = _tasks()
    clf64 = _fit(X, Y, tol=1e-6)
    clf32 = _fit(X.astype(np.float32), Y, tol=1e-4)
    assert clf32.components_.dtype == np.float32
    assert all(c.dtype == np.float32 for c in clf32.coef_)
    assert all(b.dtype == np.float32 for b in clf32.intercept_)
    assert clf32.transform(X.astype(np.float32)).dtype == np.float32
    W32, W64 = _stacked_coef(clf32)[0], _stacked_coef(clf64)[0]
    assert np.linalg.norm(W32 - W64) / np.linalg.norm(W64) < 1e-3


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_matches_dense(fmt):
    X, Y = _tasks(missing_fraction=0.1)
    X[np.abs(X) < 0.7] = 0.0
    Xs = sp.csr_matrix(X).asformat(fmt)
    dense = _fit(X, Y)
    sparse = _fit(Xs, Y)
    assert_allclose(_stacked_coef(sparse)[0], _stacked_coef(dense)[0],
                    rtol=1e-6, atol=1e-8)
    assert_array_equal(sparse.predict(Xs), dense.predict(X))
    assert_allclose(sparse.transform(Xs), dense.transform(X), rtol=1e-6, atol=1e-8)


def test_sparse_input_is_not_densified(monkeypatch):
    X, Y = _tasks()
    Xs = sp.csr_matrix(X)

    def no_toarray(self, *args, **kwargs):
        raise AssertionError("sparse X was densified")

    monkeypatch.setattr(sp.csr_matrix, "toarray", no_toarray)
    monkeypatch.setattr(sp.csr_matrix, "todense", no_toarray)
    clf = _fit(Xs, Y, tol=1e-4)
    clf.predict(Xs)
    clf.transform(Xs)


def test_warm_start():
    X, Y = _tasks(seed=5)
    cold = _fit(X, Y, alpha=0.02)
    clf = MultiTaskSharedRepClassifier(
        alpha=0.02, tol=1e-6, max_iter=2000, warm_start=True, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, Y)
        first = clf.n_iter_
        clf.fit(X, Y)
    assert clf.n_iter_ < first / 2
    assert_allclose(_stacked_coef(clf)[0], _stacked_coef(cold)[0], rtol=1e-4,
                    atol=1e-5)
    # A path of alphas: each fit starts from the previous solution.
    clf.set_params(alpha=0.05, tol=1e-6)
    clf.fit(X, Y)
    assert_allclose(_stacked_coef(clf)[0], _stacked_coef(_fit(X, Y, alpha=0.05))[0],
                    rtol=1e-3, atol=1e-5)
    with pytest.raises(ValueError, match="warm_start=True needs the same tasks"):
        clf.fit(X[:, :4], Y)


def test_deterministic_and_pickle():
    X, Y = _tasks(missing_fraction=0.2)
    a = _fit(X, Y, n_components=5, random_state=7)
    b = _fit(X, Y, n_components=5, random_state=7)
    assert_array_equal(a.components_, b.components_)
    restored = pickle.loads(pickle.dumps(a))
    assert_array_equal(restored.predict(X), a.predict(X))
    for p, q in zip(restored.predict_proba(X), a.predict_proba(X)):
        assert_array_equal(p, q)


def test_pipeline_and_grid_search_with_missing_labels():
    X, Y = _tasks(n_samples=90, missing_fraction=0.3)
    pipe = make_pipeline(
        StandardScaler(),
        MultiTaskSharedRepClassifier(tol=1e-4, max_iter=200, random_state=0),
    )
    # An explicit splitter: for a classifier, cv=3 would ask type_of_target
    # to stratify, and it rejects NaN labels.
    search = GridSearchCV(
        pipe,
        {"multitasksharedrepclassifier__alpha": [0.003, 0.03, 0.3]},
        cv=KFold(3),
        error_score="raise",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, Y)
    assert search.best_params_["multitasksharedrepclassifier__alpha"] in (
        0.003, 0.03, 0.3,
    )
    assert 0.5 < search.score(X, Y) <= 1.0


def test_tight_tol_is_reached():
    # L-BFGS alone stalls near 1e-8 (its line search compares objective
    # values at rounding level); Newton steps carry the gradient further.
    X, Y = _tasks(missing_fraction=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = MultiTaskSharedRepClassifier(tol=1e-11, random_state=0).fit(X, Y)
    offsets = _offsets_of(Y)
    weights = np.full(Y.shape, 1.0 / X.shape[0])
    groups = [np.array([0, 2]), np.array([1, 3])]
    # X centred on its means under each row's weight in the loss (its number
    # of observed labels here), where the intercepts are pooled.
    row_weight = (~np.isnan(Y)).sum(axis=1).astype(float)
    row_weight *= len(X) / row_weight.sum()
    design = make_design(X, row_weight, np.ones(len(X)), True)
    objective = CrossEntropyHeads(
        design, _observations(Y, weights), offsets, clf.components_.shape[0], 0.01,
        True, groups, 0.01,
    )
    # The datafit's intercepts are those of centred X.
    U, V = clf.components_.T, clf._heads
    b = clf._intercepts + design.x_mean @ U @ V
    x = objective.pack(U, V, b)
    assert np.max(np.abs(objective.value_and_grad(x)[1])) < 1e-9


def test_convergence_warning_names_measure_and_tol():
    X, Y = _tasks()
    match = r"largest absolute \(pseudo-\)gradient entry.*tol=1\.000e-10"
    with pytest.warns(ConvergenceWarning, match=match):
        MultiTaskSharedRepClassifier(max_iter=2, tol=1e-10).fit(X, Y)
    with pytest.warns(ConvergenceWarning, match="proximal gradient mapping"):
        MultiTaskSharedRepClassifier(max_iter=2, l1_ratio=0.5, solver="fista").fit(
            X, Y
        )
    with pytest.warns(ConvergenceWarning, match=r"\(pseudo-\)gradient entry"):
        MultiTaskSharedRepClassifier(max_iter=2, l1_ratio=0.5).fit(X, Y)


# ---------------------------------------------------------------- bad input


def test_bad_targets():
    X, Y = _tasks()
    clf = MultiTaskSharedRepClassifier()
    with pytest.raises(ValueError, match="Unknown label type: 'continuous' in task 1"):
        clf.fit(X, np.column_stack([Y[:, 0], X[:, 0]]))
    with pytest.raises(ValueError, match="Unknown label type: 'continuous' in y"):
        clf.fit(X, X[:, 0])
    one_class = Y.copy()
    one_class[:, 2] = np.where(np.isnan(Y[:, 2]), np.nan, 1.0)
    # Without pooling a one-class task has no finite intercept: an error.
    match = r"task 2 \(column 2 of y\) has only one class .* intercept_shrinkage=0"
    with pytest.raises(ValueError, match=match):
        MultiTaskSharedRepClassifier(intercept_shrinkage=0).fit(X, one_class)
    # A single task needs two classes with positive weight.
    with pytest.raises(ValueError, match="y has only one class"):
        clf.fit(X, Y[:, 0], sample_weight=(Y[:, 0] == 1).astype(float))
    with pytest.raises(ValueError, match="Input y contains infinity in task 0"):
        clf.fit(X, np.where(np.arange(len(Y))[:, None] == 0, np.inf, Y))
    unobserved = Y.copy()
    unobserved[:, 3] = np.nan
    with pytest.raises(ValueError, match="task 3 .* has no observed label"):
        clf.fit(X, unobserved)
    mixed = Y.astype(object)
    mixed[0, 0] = "a"
    with pytest.raises(ValueError, match="mix strings and numbers"):
        clf.fit(X, mixed)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clf.fit(X[:-1], Y)
    with pytest.raises(ValueError, match="at least one non-zero"):
        clf.fit(X, Y, sample_weight=np.zeros(X.shape[0]))


def test_bad_features():
    X, Y = _tasks()
    clf = MultiTaskSharedRepClassifier()
    X_nan = X.copy()
    X_nan[3, 2] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        clf.fit(X_nan, Y)
    X_inf = X.copy()
    X_inf[3, 2] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        clf.fit(X_inf, Y)
    clf.set_params(tol=1e-3).fit(X, Y)
    with pytest.raises(ValueError, match="X has 5 features, but"):
        clf.predict(X[:, :5])
    match = "y has 2 tasks but the estimator was fitted on 4"
    with pytest.raises(ValueError, match=match):
        clf.score(X, Y[:, :2])


def test_bad_parameters():
    X, Y = _tasks()
    with pytest.raises(ValueError, match="l1_ratio"):
        MultiTaskSharedRepClassifier(l1_ratio=1.0).fit(X, Y)
    with pytest.raises(ValueError, match="finite non-negative"):
        MultiTaskSharedRepClassifier(class_weight=[None, {0.0: -1.0}, None, None]).fit(
            X, Y
        )


def test_column_vector_y_is_one_task():
    X, Y = _tasks()
    y = Y[:, 0]
    with pytest.warns(Warning, match="A column-vector y was passed"):
        col = _fit(X, y[:, None])
    flat = _fit(X, y)
    assert_array_equal(col.predict(X), flat.predict(X))
    assert col.predict(X).shape == (X.shape[0],)


# ------------------------------------------------------------------ generator


def test_make_low_rank_classification_tasks():
    X, X_test, Y, Y_test, coef, intercept = make_low_rank_classification_tasks(
        n_samples=50, n_features=8, n_tasks=5, rank=2, n_classes=[2, 3, 2, 4, 3],
        missing_fraction=0.3, n_test_samples=200, return_coef=True, random_state=0,
    )
    assert X.shape == (50, 8) and X_test.shape == (200, 8)
    assert Y.shape == (50, 5) and Y_test.shape == (200, 5)
    assert not np.isnan(Y_test).any()
    assert 0.15 < np.isnan(Y).mean() < 0.45
    for t, n_class in enumerate([2, 3, 2, 4, 3]):
        assert coef[t].shape == (n_class, 8) and intercept[t].shape == (n_class,)
        assert len(np.unique(Y[~np.isnan(Y[:, t]), t])) >= 2
        assert set(np.unique(Y_test[:, t])) <= set(range(n_class))
    assert np.linalg.matrix_rank(np.vstack(coef), tol=1e-8) == 2
    again = make_low_rank_classification_tasks(
        n_samples=50, n_features=8, n_tasks=5, rank=2, n_classes=[2, 3, 2, 4, 3],
        missing_fraction=0.3, n_test_samples=200, random_state=0,
    )
    assert_array_equal(again[2], Y)
    with pytest.raises(ValueError, match="n_classes must be an integer >= 2"):
        make_low_rank_classification_tasks(n_classes=1)
    with pytest.raises(ValueError, match="rank=9 cannot exceed n_features=8"):
        make_low_rank_classification_tasks(n_features=8, rank=9)
