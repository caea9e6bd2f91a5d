"""Per-task sufficient statistics of a weighted least-squares problem.

For each task ``t`` observed on the rows ``O_t`` with weights ``s``::

    weight_t = sum_{O_t} s_i,   x_mean_t, y_mean_t (weighted means),
    xx_t = sum_{O_t} s_i (x_i - x_mean_t)(x_i - x_mean_t)^T,
    xy_t = sum_{O_t} s_i (x_i - x_mean_t)(y_it - y_mean_t),
    yy_t = sum_{O_t} s_i (y_it - y_mean_t)^2.

They are computed block of rows by block of rows, each block centred on its
own means, and blocks are combined by Chan, Golub and LeVeque's pairwise
update (:meth:`TaskStatistics.merge`). Nothing cancels when the columns have
large means, and the same code sums the statistics of chunks held by
different workers. When every task is observed on every row, ``x``-parts are
shared (a leading axis of length 1) instead of repeated ``T`` times.
"""

from dataclasses import dataclass

import numpy as np

# Rows per block (bounds the float64 copies of the blocks).
_BLOCK_ROWS = 1 << 16


@dataclass(frozen=True)
class TaskStatistics:
    """Centred per-task statistics; see the module docstring.

    ``weight``, ``x_mean`` and ``xx`` have a leading axis of length ``T`` or
    1 (shared by every task, for fully observed targets).
    """

    weight: np.ndarray  # (T_x,)
    x_mean: np.ndarray  # (T_x, p)
    y_mean: np.ndarray  # (T,)
    xx: np.ndarray  # (T_x, p, p)
    xy: np.ndarray  # (T, p)
    yy: np.ndarray  # (T,)

    def merge(self, other):
        """Statistics of the union of the two sets of rows."""
        wa, wb = self.weight, other.weight
        w = wa + wb
        with np.errstate(invalid="ignore", divide="ignore"):
            fb = np.where(w > 0, wb / w, 0.0)
        cross = wa * fb  # wa * wb / w
        dx = other.x_mean - self.x_mean
        dy = other.y_mean - self.y_mean
        # Shared x-parts broadcast over tasks (leading axis 1).
        cross_t = np.broadcast_to(cross, dy.shape)
        dx_t = np.broadcast_to(dx, (dy.shape[0], dx.shape[1]))
        return TaskStatistics(
            weight=w,
            x_mean=self.x_mean + fb[:, None] * dx,
            y_mean=self.y_mean + np.broadcast_to(fb, dy.shape) * dy,
            xx=self.xx + other.xx + cross[:, None, None] * (dx[:, :, None] * dx[:, None, :]),
            xy=self.xy + other.xy + (cross_t * dy)[:, None] * dx_t,
            yy=self.yy + other.yy + cross_t * dy**2,
        )


def _block_statistics(Xb, Yb, sb, center):
    """Statistics of one block (dense float64 ``Xb``, ``Yb`` with NaN)."""
    n_tasks = Yb.shape[1]
    p = Xb.shape[1]
    observed = ~np.isnan(Yb)
    if observed.all():
        return _shared_statistics(Xb, Yb, sb, center)
    # The (row, task) pairs sorted by task: each task's rows are a
    # contiguous run, so that sums over tasks are single reductions.
    rows, tasks = np.nonzero(observed)
    order = np.argsort(tasks, kind="stable")
    rows, tasks = rows[order], tasks[order]
    bounds = np.searchsorted(tasks, np.arange(n_tasks + 1))
    s = sb[rows]
    y = Yb[rows, tasks]
    weight = np.bincount(tasks, weights=s, minlength=n_tasks)
    Xs = Xb[rows]
    x_mean = np.zeros((n_tasks, p))
    y_mean = np.zeros(n_tasks)
    if center:
        safe = np.where(weight > 0, weight, 1.0)
        x_mean = _task_sums(s[:, None] * Xs, bounds) / safe[:, None]
        y_mean = np.bincount(tasks, weights=s * y, minlength=n_tasks) / safe
        Xs -= x_mean[tasks]
        y = y - y_mean[tasks]
    root = np.sqrt(s)[:, None] * Xs
    xx = np.zeros((n_tasks, p, p))
    for t in np.flatnonzero(np.diff(bounds)):
        block = root[bounds[t] : bounds[t + 1]]
        xx[t] = block.T @ block
    xy = _task_sums(Xs * (s * y)[:, None], bounds)
    yy = np.bincount(tasks, weights=s * y * y, minlength=n_tasks)
    return TaskStatistics(weight, x_mean, y_mean, xx, xy, yy)


def _task_sums(values, bounds):
    """Sums of the rows of ``values`` over the runs ``bounds[t]:bounds[t + 1]``."""
    cumulative = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(values, axis=0)])
    return cumulative[bounds[1:]] - cumulative[bounds[:-1]]


def _shared_statistics(Xb, Yb, sb, center):
    """Every task observed on every row: one Gram matrix for all tasks."""
    wt = sb.sum()
    x_mean = sb @ Xb / wt if center else np.zeros(Xb.shape[1])
    y_mean = sb @ Yb / wt if center else np.zeros(Yb.shape[1])
    Xc = Xb - x_mean
    Yc = Yb - y_mean
    return TaskStatistics(
        weight=np.array([wt]),
        x_mean=x_mean[None, :],
        y_mean=y_mean,
        xx=(Xc.T @ (sb[:, None] * Xc))[None],
        xy=(Xc.T @ (sb[:, None] * Yc)).T,
        yy=sb @ Yc**2,
    )


def task_statistics(X, Y, sw, center, x_shift=None, x_scale=1.0):
    """Statistics of ``(X - x_shift) / x_scale`` and ``Y`` (NaN: not observed).

    ``X`` is dense or sparse; rows are converted to float64 a block at a
    time. ``x_shift`` (a row vector subtracted first, e.g. the global means)
    only improves the conditioning; the result is expressed in the shifted
    coordinates.
    """
    n = X.shape[0]
    total = None
    for start in range(0, n, _BLOCK_ROWS):
        rows = slice(start, start + _BLOCK_ROWS)
        Xb = X[rows]
        Xb = Xb.toarray() if hasattr(Xb, "toarray") else Xb
        Xb = np.asarray(Xb, dtype=np.float64)
        if x_shift is not None:
            Xb = Xb - x_shift
        if x_scale != 1.0:
            Xb = Xb / x_scale
        block = _block_statistics(Xb, Y[rows], sw[rows], center)
        total = block if total is None else _merge_shapes(total, block)
    return total


def _merge_shapes(a, b):
    """Merge, expanding shared x-parts when only one side is shared."""
    if a.weight.shape != b.weight.shape:
        a, b = _expand(a, b.y_mean.shape[0]), _expand(b, a.y_mean.shape[0])
    return a.merge(b)


def _expand(stats, n_tasks):
    if stats.weight.shape[0] == n_tasks:
        return stats
    return TaskStatistics(
        weight=np.repeat(stats.weight, n_tasks),
        x_mean=np.repeat(stats.x_mean, n_tasks, axis=0),
        y_mean=stats.y_mean,
        xx=np.repeat(stats.xx, n_tasks, axis=0),
        xy=stats.xy,
        yy=stats.yy,
    )
