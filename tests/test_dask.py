"""Dask: distributed searches equal sequential ones, out-of-core fits equal
in-memory fits, predictions stay lazy, kernels compile once per worker.

Everything runs on one ``LocalCluster`` of two single-threaded worker
processes (module-scoped). Needs the ``dask`` extra; skipped without it.
"""

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import joblib  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402

from sklearn_mtl import (  # noqa: E402
    MultiTaskSharedRepClassifier,
    MultiTaskSharedRepRegressor,
    MultiTaskSharedRepRegressorCV,
    RegularizedGDRegressor,
    RegularizedGDRegressorCV,
)
from sklearn_mtl.dask import WarmKernels, kernel_compilations  # noqa: E402

CHUNK = 300  # rows per block: several blocks per array


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        # "Port 8787 is already in use" when another cluster runs here.
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None,
        )
    with cluster, distributed.Client(cluster) as client:
        client.register_plugin(WarmKernels())
        yield client


def _dask(array):
    chunks = (CHUNK,) + array.shape[1:]
    return da.from_array(array, chunks=chunks)


def _data(n=1200, p=8, n_tasks=1, dtype=np.float64, seed=0):
    """Features with means of a few units (not centred), noisy linear targets."""
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, p)) + rng.uniform(-3, 3, p)
    W = rng.standard_normal((p, n_tasks))
    Y = X @ W + rng.uniform(-2, 2, n_tasks) + 0.5 * rng.standard_normal((n, n_tasks))
    return X.astype(dtype), Y, rng.uniform(0.0, 2.0, n)


def _enet_objective(model, X, y, sw, alpha, l1_ratio):
    """The documented objective: 1/(2n) sum s_i r_i^2 + alpha l1_ratio |w|_1
    + alpha (1 - l1_ratio) / 2 |w|^2, with s rescaled to sum to n."""
    X = X.astype(np.float64)
    n = X.shape[0]
    s = np.ones(n) if sw is None else sw * (n / sw.sum())
    coef = np.asarray(model.coef_, dtype=np.float64)
    r = y - X @ coef - model.intercept_
    return (
        0.5 * s @ r**2 / n
        + alpha * l1_ratio * np.abs(coef).sum()
        + 0.5 * alpha * (1 - l1_ratio) * coef @ coef
    )


def _shared_objective(model, X, Y, sw, alpha, l1_ratio):
    """MultiTaskSharedRepRegressor's documented objective (NaN: not observed)."""
    X = X.astype(np.float64)
    n = X.shape[0]
    s = np.ones(n) if sw is None else sw * (n / sw.sum())
    U = model.components_.T.astype(np.float64)
    V = model.heads_.T.astype(np.float64).reshape(U.shape[1], -1)
    R = Y.reshape(n, -1) - (X @ U @ V + model.intercept_)
    R = np.where(np.isnan(R), 0.0, R)
    return (
        0.5 * (s[:, None] * R**2).sum() / n
        + 0.5 * alpha * (1 - l1_ratio) * ((U**2).sum() + (V**2).sum())
        + alpha * l1_ratio * np.abs(U).sum()
    )


# ----------------------------------------------------------------- searches


def test_grid_search_on_the_cluster_equals_sequential(client):
    X, Y, _ = _data(n=240, p=10)
    y = Y[:, 0]
    grid = {"penalty": ["l1", "l2"], "alpha": [0.01, 0.1, 1.0]}
    sequential = GridSearchCV(RegularizedGDRegressor(), grid, cv=3, n_jobs=1).fit(X, y)
    with distributed.get_task_stream(client) as stream:
        with joblib.parallel_config(backend="dask"):
            distributed_search = GridSearchCV(
                RegularizedGDRegressor(), grid, cv=3, n_jobs=-1
            ).fit(X, y)
    assert stream.data  # the fits ran on the workers
    for key in ("mean_test_score", "split0_test_score", "rank_test_score"):
        np.testing.assert_array_equal(
            sequential.cv_results_[key], distributed_search.cv_results_[key]
        )
    assert sequential.best_params_ == distributed_search.best_params_


def test_cv_estimators_on_the_cluster_equal_sequential(client):
    X, Y, _ = _data(n=240, p=10, n_tasks=4)
    Y[::5, 1] = np.nan
    linear = dict(l1_ratio=[0.5, 1.0], alphas=8, cv=3)
    shared = dict(alphas=[0.3, 0.1, 0.03], n_components=[1, 2], cv=KFold(3))
    expected = (
        RegularizedGDRegressorCV(**linear).fit(X, Y[:, 0]),
        MultiTaskSharedRepRegressorCV(**shared, random_state=0).fit(X, Y),
    )
    with distributed.get_task_stream(client) as stream:
        with joblib.parallel_config(backend="dask"):
            got = (
                RegularizedGDRegressorCV(**linear, n_jobs=-1).fit(X, Y[:, 0]),
                MultiTaskSharedRepRegressorCV(**shared, random_state=0, n_jobs=-1).fit(
                    X, Y
                ),
            )
    assert stream.data
    np.testing.assert_array_equal(expected[0].mse_path_, got[0].mse_path_)
    assert (expected[0].alpha_, expected[0].l1_ratio_) == (got[0].alpha_, got[0].l1_ratio_)
    np.testing.assert_array_equal(expected[0].coef_, got[0].coef_)
    np.testing.assert_array_equal(expected[1].score_path_, got[1].score_path_)
    assert (expected[1].alpha_, expected[1].n_components_) == (
        got[1].alpha_, got[1].n_components_
    )
    np.testing.assert_array_equal(expected[1].coef_, got[1].coef_)


def test_kernels_compile_once_per_worker(client):
    """The plugin loaded (or compiled) every kernel a search needs when the
    workers started: searches load or compile nothing more, however many
    tasks they run, and no signature is ever compiled or loaded twice."""
    warmed = client.run(kernel_compilations)
    assert len(warmed) == 2
    for counts in warmed.values():
        assert {
            "coordinate_descent.cd_epochs_dense", "cross_entropy.heads_loss_grad"
        } <= set(counts)
    X, Y, _ = _data(n=240, p=10, n_tasks=3)
    labels = (Y > np.median(Y, axis=0)).astype(float)
    for _ in range(2):
        with joblib.parallel_config(backend="dask"):
            GridSearchCV(
                RegularizedGDRegressor("l1"), {"alpha": [0.01, 0.1, 1.0]}, cv=4,
                n_jobs=-1,
            ).fit(X, Y[:, 0])
            GridSearchCV(
                MultiTaskSharedRepClassifier(n_components=2), {"alpha": [0.01, 0.1]},
                cv=KFold(3), n_jobs=-1,
            ).fit(X, labels)
    after = client.run(kernel_compilations)
    assert after == warmed
    for counts in after.values():
        for signatures in counts.values():
            for record in signatures.values():
                assert record["compiled"] + record["loaded"] <= 1, record


# ------------------------------------------------------------ out-of-core fits

PENALTIES = [("l1", 1.0), ("l2", 0.0), ("elasticnet", 0.5), (None, 0.0)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_regularized_out_of_core_equals_in_memory(client, dtype):
    X, Y, sw = _data(dtype=dtype, n_tasks=1)
    y = Y[:, 0]
    for i, (penalty, l1_ratio) in enumerate(PENALTIES):
        # Every penalty with and without weights over the two dtypes.
        weights = sw if (i + (dtype == np.float32)) % 2 == 0 else None
        alpha = 0.0 if penalty is None else 0.05
        params = dict(penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, tol=1e-8)
        memory = RegularizedGDRegressor(**params).fit(X, y, sample_weight=weights)
        dask_fit = RegularizedGDRegressor(**params).fit(
            _dask(X), _dask(y), None if weights is None else _dask(weights)
        )
        assert dask_fit.coef_.dtype == memory.coef_.dtype == dtype
        expected = _enet_objective(memory, X, y, weights, alpha, l1_ratio)
        got = _enet_objective(dask_fit, X, y, weights, alpha, l1_ratio)
        assert got == pytest.approx(expected, rel=1e-8), penalty
        np.testing.assert_allclose(dask_fit.coef_, memory.coef_, rtol=1e-5, atol=1e-6)


def test_float32_intercept_comes_from_float64_coefficients(client):
    """With float32 ``X`` the coefficients are the float64 ones rounded to
    float32, as in memory. The linear regressor's intercept then comes from
    ``coef_`` as stored (the float64 intercept corrected for that rounding
    at the weighted column means, so that predictions keep the optimum); the
    multi-task regressor's from the float64 coefficients, to the bit. Large
    column means make a rounded ``coef_`` visible in the intercept."""
    X, Y, sw = _data(n_tasks=3, seed=8)
    X32 = (X + 1000.0).astype(np.float32)
    X64 = X32.astype(np.float64)  # the same values
    for model, y, objective, params in (
        (RegularizedGDRegressor, Y[:, 0], _enet_objective,
         dict(penalty="l2", alpha=0.05)),
        (MultiTaskSharedRepRegressor, Y, _shared_objective, dict(alpha=0.05)),
    ):
        fit32 = model(tol=1e-8, **params).fit(_dask(X32), _dask(y), _dask(sw))
        fit64 = model(tol=1e-8, **params).fit(_dask(X64), _dask(y), _dask(sw))
        assert fit32.coef_.dtype == np.float32
        np.testing.assert_array_equal(fit32.coef_, fit64.coef_.astype(np.float32))
        # A float for one 1-D target, else in X's dtype.
        intercept_dtype = np.asarray(fit32.intercept_).dtype
        expected = np.asarray(fit64.intercept_)
        if model is RegularizedGDRegressor:
            rounding = fit64.coef_ - fit32.coef_.astype(np.float64)
            expected = expected + rounding @ np.average(X64, axis=0, weights=sw)
            np.testing.assert_allclose(fit32.intercept_, expected, rtol=1e-12)
        else:
            np.testing.assert_array_equal(
                fit32.intercept_, expected.astype(intercept_dtype)
            )
        memory = model(tol=1e-8, **params).fit(X32, y, sw)
        args = (X32, y, sw, 0.05, 0.0)
        assert objective(fit32, *args) == pytest.approx(objective(memory, *args), rel=1e-8)


def test_regularized_out_of_core_several_targets_and_large_means(client):
    X, Y, sw = _data(n_tasks=3)
    X[:, 2] += 1e6  # a timestamp-like column: the Chan merge loses nothing
    memory = RegularizedGDRegressor("l1", alpha=0.02, tol=1e-8).fit(X, Y, sw)
    dask_fit = RegularizedGDRegressor("l1", alpha=0.02, tol=1e-8).fit(
        _dask(X), _dask(Y), _dask(sw)
    )
    assert dask_fit.coef_.shape == memory.coef_.shape == (3, 8)
    for k in range(3):
        expected = _enet_objective(
            _Target(memory, k), X, Y[:, k], sw, 0.02, 1.0
        )
        got = _enet_objective(_Target(dask_fit, k), X, Y[:, k], sw, 0.02, 1.0)
        assert got == pytest.approx(expected, rel=1e-8)


class _Target:
    """One target of a multi-target linear model."""

    def __init__(self, model, k):
        self.coef_ = model.coef_[k]
        self.intercept_ = model.intercept_[k]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("missing", [False, True])
def test_shared_regressor_out_of_core_equals_in_memory(client, dtype, missing):
    X, Y, sw = _data(n_tasks=5, dtype=dtype, seed=1)
    if missing:
        Y[np.random.RandomState(2).rand(*Y.shape) < 0.25] = np.nan
    # The eigenbasis form (no L1 part) and the statistics form (L1), each
    # with and without weights over the four cases.
    for i, params in enumerate((dict(alpha=0.05), dict(alpha=0.05, l1_ratio=0.3))):
        weights = sw if (i + missing + (dtype == np.float32)) % 2 == 0 else None
        memory = MultiTaskSharedRepRegressor(tol=1e-8, **params).fit(X, Y, weights)
        dask_fit = MultiTaskSharedRepRegressor(tol=1e-8, **params).fit(
            _dask(X), _dask(Y), None if weights is None else _dask(weights)
        )
        assert dask_fit.coef_.dtype == memory.coef_.dtype == dtype
        args = (X, Y, weights, params["alpha"], params.get("l1_ratio", 0.0))
        expected = _shared_objective(memory, *args)
        assert _shared_objective(dask_fit, *args) == pytest.approx(expected, rel=1e-8)


def _classifier_objective(model, X, labels, sw, alpha):
    """The documented objective with ``l1_ratio=0`` and no intercept pooling:
    (1/n) sum over observed labels of s_i CE + alpha / 2 (|U|^2 + |V|^2)."""
    from scipy.special import log_expit, log_softmax

    X = X.astype(np.float64)
    n = X.shape[0]
    s = np.ones(n) if sw is None else sw * (n / sw.sum())
    loss = 0.0
    for t in range(labels.shape[1]):
        seen = ~np.isnan(labels[:, t])
        scores = X[seen] @ model.coef_[t].T + model.intercept_[t]
        encoded = np.searchsorted(model.classes_[t], labels[seen, t])
        if scores.shape[1] == 1:
            log_p = np.where(encoded == 1, log_expit(scores[:, 0]), log_expit(-scores[:, 0]))
        else:
            log_p = log_softmax(scores, axis=1)[np.arange(encoded.size), encoded]
        loss -= s[seen] @ log_p
    U = model.components_.astype(np.float64)
    V = np.concatenate([np.asarray(v, dtype=np.float64) for v in model._heads.T]).T
    return loss / n + 0.5 * alpha * ((U**2).sum() + (V**2).sum())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_classifier_out_of_core_equals_in_memory(client, dtype):
    X, Y, sw = _data(n=600, p=5, n_tasks=2, seed=3, dtype=dtype)
    labels = (Y > np.median(Y, axis=0)).astype(float)
    labels[:, 1] += Y[:, 1] > np.quantile(Y[:, 1], 0.8)  # a three-class task
    labels[np.random.RandomState(4).rand(*labels.shape) < 0.2] = np.nan
    params = dict(n_components=1, alpha=0.1, tol=1e-9, intercept_shrinkage=0.0)
    memory = MultiTaskSharedRepClassifier(**params).fit(X, labels, sw)
    dask_fit = MultiTaskSharedRepClassifier(**params).fit(
        _dask(X), _dask(labels), _dask(sw)
    )
    expected = _classifier_objective(memory, X, labels, sw, 0.1)
    got = _classifier_objective(dask_fit, X, labels, sw, 0.1)
    # Converged tightly, both fits round the same float64 model to float32.
    assert got == pytest.approx(expected, rel=1e-8)
    predicted = dask_fit.predict(_dask(X))
    assert isinstance(predicted, da.Array)
    np.testing.assert_array_equal(predicted.compute(), dask_fit.predict(X))
    assert np.mean(predicted.compute() == memory.predict(X)) > 0.99
    transformed = dask_fit.transform(_dask(X))
    assert isinstance(transformed, da.Array)
    np.testing.assert_allclose(transformed.compute(), dask_fit.transform(X), rtol=1e-6)
    for weights in (None, sw):
        got = dask_fit.score(_dask(X), _dask(labels), None if weights is None else _dask(weights))
        assert got == pytest.approx(dask_fit.score(X, labels, weights), abs=1e-12)


def test_classifier_initial_point_out_of_core_equals_in_memory(client):
    """The core ``_initial_point`` on the dask objective (its gradient at
    W = 0 and its curvature, a pass each) gives the in-memory start."""
    from sklearn_mtl._dask._classifier import BlockCrossEntropy, prepare
    from sklearn_mtl._dask._input import check_sample_weight, check_targets, check_X

    X, Y, sw = _data(n=600, p=5, n_tasks=2, seed=5)
    labels = (Y > np.median(Y, axis=0)).astype(float)
    labels[:, 1] += Y[:, 1] > np.quantile(Y[:, 1], 0.8)  # a three-class task
    labels[np.random.RandomState(6).rand(*labels.shape) < 0.2] = np.nan
    model = MultiTaskSharedRepClassifier(n_components=2, alpha=0.1)
    problem = model._prepare(X, labels, sw, single_task=False)
    objective = model._objective(problem, 2, model.alpha)
    dX = check_X(model, _dask(X), reset=True)
    dY, _ = check_targets(_dask(labels), dX, numeric=False)
    dS = check_sample_weight(_dask(sw), dX)
    block_problem = prepare(model, dX, dY, dS, single_task=False)
    block_objective = BlockCrossEntropy(
        (dX, dY, dS), block_problem, 2, model._penalties(block_problem, 0.1)[1],
        model.fit_intercept, model.intercept_shrinkage,
    )
    rng = np.random.RandomState(7)
    P, sQt = rng.standard_normal((5, 2)), rng.standard_normal((2, 4))
    task_of_column = np.array([0, 1, 1, 1])
    assert block_objective.curvature(P, sQt, task_of_column) == pytest.approx(
        objective.curvature(P, sQt, task_of_column), rel=1e-10
    )
    x0 = model._initial_point(objective, problem, np.random.RandomState(0))
    got = model._initial_point(block_objective, block_problem, np.random.RandomState(0))
    np.testing.assert_allclose(got, x0, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("missing", [0.0, 0.2, 0.9])
def test_distributed_statistics_equal_the_package_statistics(client, missing):
    """One pass over blocks, merged by the Chan update across workers, gives
    the statistics of all the rows (large means included)."""
    from sklearn_mtl._dask._statistics import PassParams, statistics_pass
    from sklearn_mtl._datafits._statistics import task_statistics

    X, Y, sw = _data(n_tasks=3, seed=6)
    X[:, 1] += 1e6
    Y[np.random.RandomState(7).rand(*Y.shape) < missing] = np.nan
    expected = task_statistics(X, Y, sw / sw.max(), True)
    summary = statistics_pass(
        _dask(X), _dask(Y), _dask(sw)[:, None], PassParams(center=True, allow_nan=True)
    )
    got = summary.stats
    factor = sw.max() / summary.scale
    np.testing.assert_allclose(got.weight * factor, expected.weight, rtol=1e-13)
    np.testing.assert_allclose(got.x_mean, expected.x_mean, rtol=1e-13)
    np.testing.assert_allclose(got.y_mean, expected.y_mean, rtol=1e-12)
    for name in ("xx", "xy", "yy"):
        a, b = getattr(got, name) * factor, getattr(expected, name)
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-11 * np.abs(b).max())


@pytest.mark.parametrize("missing", [False, True])
def test_blocks_of_zero_weight_add_nothing(client, missing):
    """Whole blocks of weight zero: the fit on the rows of positive weight."""
    X, Y, sw = _data(n_tasks=3, seed=10)
    if missing:
        Y[np.random.RandomState(11).rand(*Y.shape) < 0.25] = np.nan
    sw[: 2 * CHUNK] = 0.0
    keep = sw > 0
    cases = [(MultiTaskSharedRepRegressor, Y, _shared_objective)]
    if not missing:
        cases.append((RegularizedGDRegressor, Y[:, 0], _enet_objective))
    for model, y, objective in cases:
        for params in (dict(alpha=0.05), dict(alpha=0.05, l1_ratio=0.5)):
            dask_fit = model(tol=1e-8, **params).fit(_dask(X), _dask(y), _dask(sw))
            memory = model(tol=1e-8, **params).fit(X[keep], y[keep], sw[keep])
            args = (X[keep], y[keep], sw[keep], 0.05, params.get("l1_ratio", 0.0))
            assert objective(dask_fit, *args) == pytest.approx(
                objective(memory, *args), rel=1e-8
            )


# ------------------------------------------------------------- lazy outputs


def test_predict_transform_score_are_lazy_and_equal(client):
    X, Y, sw = _data(n_tasks=4, seed=5)
    Y[::7, 0] = np.nan
    Xd = _dask(X)
    linear = RegularizedGDRegressor("l1", alpha=0.05).fit(X, Y[:, 1])
    shared = MultiTaskSharedRepRegressor(n_components=2, alpha=0.05).fit(X, Y)
    for model, method in ((linear, "predict"), (shared, "predict"), (shared, "transform")):
        lazy = getattr(model, method)(Xd)
        assert isinstance(lazy, da.Array)
        assert lazy.chunks[0] == Xd.chunks[0]
        np.testing.assert_allclose(lazy.compute(), getattr(model, method)(X), rtol=1e-12)
    for weights in (None, sw):
        got = shared.score(Xd, _dask(Y), None if weights is None else _dask(weights))
        assert got == pytest.approx(shared.score(X, Y, weights), abs=1e-12)
    Y_full = np.nan_to_num(Y)
    assert shared.score(Xd, _dask(Y_full)) == pytest.approx(
        shared.score(X, Y_full), abs=1e-12
    )


def _refuse(self, *args, **kwargs):
    raise AssertionError("a dask array was converted to numpy on the client")


def _scored_models():
    X, Y, sw = _data(n_tasks=3, seed=9)
    labels = (Y > np.median(Y, axis=0)).astype(float)
    labels[::9, 2] = np.nan
    models = (
        (RegularizedGDRegressor("l1", alpha=0.05).fit(X, Y[:, 0]), Y[:, 0]),
        (MultiTaskSharedRepRegressor(alpha=0.05).fit(X, Y), Y),
        (MultiTaskSharedRepClassifier(alpha=0.05).fit(X, labels), labels),
    )
    return X, sw, models


def test_score_reduces_over_the_blocks(client, monkeypatch):
    """``score`` on dask inputs sums per block on the workers: neither ``y``
    nor the predictions are gathered on the client. (RegularizedGDRegressor's
    own ``score`` is scikit-learn's, see the next test: its one-pass score is
    ``sklearn_mtl._dask.score``.)"""
    from sklearn_mtl import _dask as dask_impl

    X, sw, models = _scored_models()
    expected = [model.score(X, y, sw) for model, y in models]
    monkeypatch.setattr(da.Array, "__array__", _refuse)
    (linear, y_linear), *multi_task = models
    got = [dask_impl.score(linear, _dask(X), _dask(y_linear), _dask(sw))]
    got += [model.score(_dask(X), _dask(y), _dask(sw)) for model, y in multi_task]
    for value, want in zip(got, expected):
        assert isinstance(value, float)
        assert value == pytest.approx(want, abs=1e-12)


def test_regularized_score_reduces_over_the_blocks(client, monkeypatch):
    X, sw, ((linear, y), *_) = _scored_models()
    expected = linear.score(X, y, sw)
    monkeypatch.setattr(da.Array, "__array__", _refuse)
    assert linear.score(_dask(X), _dask(y), _dask(sw)) == pytest.approx(expected, abs=1e-12)


def test_fit_never_gathers_the_data(client, monkeypatch):
    """No ``np.asarray`` of a dask array during fit: the data stay on the workers."""
    X, Y, sw = _data(n_tasks=3)
    Xd, Yd, swd = _dask(X), _dask(Y), _dask(sw)
    monkeypatch.setattr(da.Array, "__array__", _refuse)
    RegularizedGDRegressor("l1", alpha=0.05).fit(Xd, Yd[:, 0], swd)
    MultiTaskSharedRepRegressor(alpha=0.05).fit(Xd, Yd, swd)
    model = MultiTaskSharedRepRegressor(alpha=0.05).fit(Xd, Yd, swd)
    assert isinstance(model.predict(Xd), da.Array)


# ------------------------------------------------------------------ checks


def test_invalid_dask_input_raises_the_in_memory_errors(client):
    X, Y, sw = _data()
    y = Y[:, 0]
    model = RegularizedGDRegressor()
    X_nan = X.copy()
    X_nan[500, 3] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.fit(_dask(X_nan), _dask(y))
    X_inf = X.copy()
    X_inf[10, 0] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        model.fit(_dask(X_inf), _dask(y))
    y_nan = y.copy()
    y_nan[7] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        model.fit(_dask(X), _dask(y_nan))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        model.fit(_dask(X), _dask(y[:-1]))
    with pytest.raises(ValueError, match="Negative values"):
        model.fit(_dask(X), _dask(y), _dask(-sw))
    with pytest.raises(ValueError, match="positive sum"):
        model.fit(_dask(X), _dask(y), _dask(0 * sw))
    with pytest.raises(ValueError, match="Expected 2D array"):
        model.fit(_dask(X[:, 0]), _dask(y))
    model.fit(_dask(X), _dask(y))
    with pytest.raises(ValueError, match="features"):
        model.predict(_dask(X[:, :3]))
    Y_inf = Y.copy()
    Y_inf[3, 0] = np.inf
    with pytest.raises(ValueError, match="Input y contains infinity"):
        MultiTaskSharedRepRegressor().fit(_dask(X), _dask(Y_inf))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(_dask(X), _dask(y))  # no stray warning on valid data


# ------------------------------------------------------------ public module

ROOT = Path(__file__).resolve().parents[1]


def test_public_module_needs_the_extra():
    """``import sklearn_mtl`` never imports Dask; ``import sklearn_mtl.dask``
    without the extra says how to install it."""
    code = (
        "import sys\n"
        "class NoDask:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('dask', 'distributed'):\n"
        "            raise ImportError(f'No module named {name!r}')\n"
        "sys.meta_path.insert(0, NoDask())\n"
        "import sklearn_mtl\n"
        "from sklearn_mtl import MultiTaskSharedRepClassifier, RegularizedGDRegressor\n"
        "try:\n"
        "    import sklearn_mtl.dask\n"
        "except ImportError as exc:\n"
        "    assert 'pip install \"sklearn_mtl[dask]\"' in str(exc), exc\n"
        "else:\n"
        "    raise AssertionError('sklearn_mtl.dask imported without dask')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_public_module_is_in_the_api_reference():
    import sklearn_mtl.dask

    text = (ROOT / "docs" / "api.rst").read_text()
    section = text.split(".. currentmodule:: sklearn_mtl.dask", 1)[1]
    section = section.split(".. currentmodule::", 1)[0]
    listed = {line.strip() for line in section.splitlines() if line.startswith("   ")}
    assert set(sklearn_mtl.dask.__all__) <= listed
