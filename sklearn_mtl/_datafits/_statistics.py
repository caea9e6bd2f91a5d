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
_BLOCK_ROWS = 8192


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
            fa = np.where(w > 0, wa / w, 0.0)
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
    shared = bool(observed.all())
    T_x = 1 if shared else n_tasks
    weight = np.zeros(T_x)
    x_mean = np.zeros((T_x, p))
    xx = np.zeros((T_x, p, p))
    y_mean = np.zeros(n_tasks)
    xy = np.zeros((n_tasks, p))
    yy = np.zeros(n_tasks)
    for t in range(T_x):
        rows = slice(None) if shared else observed[:, t]
        Xt = Xb[rows]
        st = sb[rows]
        wt = st.sum()
        if not wt > 0:
            continue
        weight[t] = wt
        if center:
            x_mean[t] = st @ Xt / wt
            Xt = Xt - x_mean[t]
        xx[t] = Xt.T @ (st[:, None] * Xt)
        tasks = range(n_tasks) if shared else [t]
        for u in tasks:
            yt = Yb[rows, u]
            if center:
                y_mean[u] = st @ yt / wt
                yt = yt - y_mean[u]
            xy[u] = Xt.T @ (st * yt)
            yy[u] = st @ yt**2
    return TaskStatistics(weight, x_mean, y_mean, xx, xy, yy)


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
