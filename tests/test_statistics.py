"""The per-task sufficient statistics (``sklearn_mtl._datafits._statistics``):
every way of computing a block's statistics gives the definition, blocks of
zero weight add nothing, and the caller's data are never modified."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_mtl import MultiTaskSharedRepRegressor
from sklearn_mtl._datafits._statistics import (
    _BLOCK_ROWS,
    _GATHER_BELOW,
    _block_statistics,
    block_rows,
    task_statistics,
)


def _definition(X, Y, s, center):
    """The statistics of the module docstring, one task at a time."""
    n_tasks, p = Y.shape[1], X.shape[1]
    weight, y_mean, yy = np.zeros(n_tasks), np.zeros(n_tasks), np.zeros(n_tasks)
    x_mean, xx = np.zeros((n_tasks, p)), np.zeros((n_tasks, p, p))
    xy = np.zeros((n_tasks, p))
    for t in range(n_tasks):
        rows = ~np.isnan(Y[:, t])
        Xt, yt, st = X[rows], Y[rows, t], s[rows]
        weight[t] = st.sum()
        if center and weight[t] > 0:
            x_mean[t], y_mean[t] = st @ Xt / weight[t], st @ yt / weight[t]
        Xc, yc = Xt - x_mean[t], yt - y_mean[t]
        xx[t], xy[t], yy[t] = Xc.T @ (st[:, None] * Xc), Xc.T @ (st * yc), st @ yc**2
    return weight, x_mean, y_mean, xx, xy, yy


def _assert_statistics_equal(stats, expected, rtol=1e-10):
    n_tasks = stats.y_mean.shape[0]
    names = ("weight", "x_mean", "y_mean", "xx", "xy", "yy")
    for name, want in zip(names, expected):
        got = getattr(stats, name)
        if name in ("weight", "x_mean", "xx"):  # shared by every task, or per task
            got = np.broadcast_to(got, (n_tasks,) + got.shape[1:])
        atol = rtol * max(np.abs(want).max(initial=0.0), 1.0)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=name)


def _data(n, p, n_tasks, observed, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, p)) + rng.uniform(-5, 5, p)
    Y = X @ rng.standard_normal((p, n_tasks)) + rng.standard_normal((n, n_tasks))
    Y[rng.rand(n, n_tasks) >= observed] = np.nan
    return X, Y, rng.uniform(0.0, 2.0, n)


# Every task observed; most (each task weights all the rows); few (each
# task's rows gathered).
@pytest.mark.parametrize("observed", [1.0, 0.8, 0.2])
@pytest.mark.parametrize("center", [True, False])
def test_block_statistics_equal_the_definition(observed, center):
    X, Y, s = _data(500, 6, 4, observed)
    s[::5] = 0.0  # rows of weight zero add nothing
    stats = _block_statistics(X.copy(), Y, s, center, overwrite=True)
    _assert_statistics_equal(stats, _definition(X, Y, s, center))


@pytest.mark.parametrize("observed", [1.0, 0.8, 0.2])
def test_block_of_zero_weight_adds_nothing(observed):
    X, Y, s = _data(300, 5, 3, observed)
    stats = _block_statistics(X.copy(), Y, np.zeros(300), True, overwrite=True)
    for name in ("weight", "x_mean", "y_mean", "xx", "xy", "yy"):
        assert np.all(getattr(stats, name) == 0.0), name


@pytest.mark.parametrize("observed", [1.0, 0.8, 0.2])
def test_statistics_skip_a_block_of_zero_weight(observed):
    """Regression: a first block whose weights are all zero gave NaN means,
    which the merge carried into every statistic."""
    X, Y, s = _data(_BLOCK_ROWS + 3000, 4, 3, observed)
    s[:_BLOCK_ROWS] = 0.0
    stats = task_statistics(X, Y, s, True)
    keep = s > 0
    _assert_statistics_equal(stats, _definition(X[keep], Y[keep], s[keep], True))


@pytest.mark.parametrize("missing", [False, True])
@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
def test_shared_regressor_ignores_rows_of_zero_weight(missing, l1_ratio):
    """70,000 rows whose first 65,536 (a whole block) weigh zero: the fit on
    the rows of positive weight, for the eigenbasis and statistics forms."""
    X, Y, sw = _data(70_000, 5, 3, 0.8 if missing else 1.0, seed=1)
    sw[:65_536] = 0.0
    keep = sw > 0
    params = dict(alpha=0.05, l1_ratio=l1_ratio, tol=1e-8, random_state=0)
    weighted = MultiTaskSharedRepRegressor(**params).fit(X, Y, sw)
    subset = MultiTaskSharedRepRegressor(**params).fit(X[keep], Y[keep], sw[keep])
    assert np.all(np.isfinite(weighted.coef_))
    np.testing.assert_allclose(weighted.coef_, subset.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(weighted.intercept_, subset.intercept_, rtol=1e-6, atol=1e-8)


def test_block_rows_bound_the_gathered_copies():
    observed = np.ones((10, 20), dtype=bool)
    assert block_rows(observed, 50) == _BLOCK_ROWS
    observed[:, : int(20 * (1 - _GATHER_BELOW))] = False  # weighted, not gathered
    assert block_rows(observed, 50) == _BLOCK_ROWS
    # Few observed: the gathered rows of a block hold about 2 ** 19 numbers.
    one_per_row = np.zeros((10, 139), dtype=bool)
    one_per_row[:, 0] = True
    assert block_rows(one_per_row, 27) == (1 << 19) // 27
    eight_per_row = np.zeros((10, 20), dtype=bool)
    eight_per_row[:, :8] = True
    assert block_rows(eight_per_row, 50) == (1 << 19) // (8 * 50)
    assert block_rows(eight_per_row, 5000) == 1024  # never fewer rows


def _read_only(X):
    X = X.copy()
    X.flags.writeable = False
    return X


def _read_only_memmap(X, path):
    """As joblib hands large arrays to parallel workers."""
    np.save(path, X)
    return np.load(path, mmap_mode="r")


LAYOUTS = ["C", "F", "float32", "big-endian", "read-only", "strided", "memmap", "csr", "csc"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("observed", [1.0, 0.8, 0.2])
def test_task_statistics_leave_the_data_unchanged(layout, observed, tmp_path):
    X, Y, s = _data(400, 5, 3, observed)
    data = {
        "C": lambda: np.ascontiguousarray(X),
        "F": lambda: np.asfortranarray(X),
        "float32": lambda: X.astype(np.float32),
        "big-endian": lambda: X.astype(">f8"),
        "read-only": lambda: _read_only(X),
        "strided": lambda: _read_only(np.repeat(X, 2, axis=1))[:, ::2],
        "memmap": lambda: _read_only_memmap(X, tmp_path / "X.npy"),
        "csr": lambda: sp.csr_matrix(X),
        "csc": lambda: sp.csc_matrix(X),
    }[layout]()
    before = data.copy()
    shift = X.mean(axis=0)
    for x_shift in (None, shift):
        stats = task_statistics(data, Y, s, True, x_shift=x_shift)
        dense = np.asarray(before.todense() if sp.issparse(before) else before, float)
        expected = _definition(dense if x_shift is None else dense - shift, Y, s, True)
        _assert_statistics_equal(stats, expected, rtol=1e-9)
    after = data.toarray() if sp.issparse(data) else data
    np.testing.assert_array_equal(after, before.toarray() if sp.issparse(before) else before)
