"""Per-task sufficient statistics of a weighted least-squares problem.

For each task ``t`` observed on the rows ``O_t`` with weights ``s``::

    weight_t = sum_{O_t} s_i,   x_mean_t, y_mean_t (weighted means),
    xx_t = sum_{O_t} s_i (x_i - x_mean_t)(x_i - x_mean_t)^T,
    xy_t = sum_{O_t} s_i (x_i - x_mean_t)(y_it - y_mean_t),
    yy_t = sum_{O_t} s_i (y_it - y_mean_t)^2.

They are computed block of rows by block of rows, each block centred on its
own means (:func:`_block_statistics`, with products shaped for BLAS by how
much of the block is observed), and blocks are combined by Chan, Golub and
LeVeque's pairwise update (:meth:`TaskStatistics.merge`). Nothing cancels
when the columns have large means, and the same code sums the statistics of
chunks held by different workers (:mod:`sklearn_mtl._dask._statistics`). A
block whose weights are all zero adds nothing. When every task is observed
on every row, ``x``-parts are shared (a leading axis of length 1) instead of
repeated ``T`` times.
"""

from dataclasses import dataclass

import numpy as np

# Rows per block (bounds the float64 copies of the blocks).
_BLOCK_ROWS = 1 << 16
# With fewer than this fraction of a block's (row, task) pairs observed, each
# task's rows are gathered (their Gram matrices then cost the observed rows
# only); above it, every task weights all the rows (no copies).
_GATHER_BELOW = 0.5
# Entries of a block's gathered rows (fit in cache), and the fewest rows of
# a block whose rows are gathered.
_GATHER_ENTRIES = 1 << 19
_MIN_BLOCK_ROWS = 1024


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


def _block_statistics(Xb, Yb, sb, center, overwrite=False):
    """Statistics of one block: dense float64 ``Xb`` (``n_b x p``), ``Yb``
    (``n_b x T``, NaN where not observed), non-negative weights ``sb``.

    ``overwrite``: ``Xb`` is a copy the caller owns, centred in place. The
    products are shaped for BLAS, by how much of ``Yb`` is observed: all of
    it, one Gram matrix for every task (:func:`_shared_statistics`); most of
    it, per task a Gram matrix of all the rows under the weights of its
    observed ones (:func:`_masked_statistics`); little of it, per task a Gram
    matrix of its rows gathered (:func:`_gathered_statistics`). A block of
    zero total weight contributes nothing (zero statistics, zero weight).
    """
    observed = ~np.isnan(Yb)
    if observed.all():
        return _shared_statistics(Xb, Yb, sb, center, overwrite)
    if not sb.sum() > 0:
        return _zero_statistics(Yb.shape[1], Xb.shape[1], shared=False)
    if observed.mean() < _GATHER_BELOW:
        return _gathered_statistics(Xb, Yb, observed, sb, center)
    return _masked_statistics(Xb, Yb, observed, sb, center, overwrite)


def _zero_statistics(n_tasks, p, shared):
    """The statistics of no rows (or of rows of weight zero)."""
    n_x = 1 if shared else n_tasks
    return TaskStatistics(
        weight=np.zeros(n_x),
        x_mean=np.zeros((n_x, p)),
        y_mean=np.zeros(n_tasks),
        xx=np.zeros((n_x, p, p)),
        xy=np.zeros((n_tasks, p)),
        yy=np.zeros(n_tasks),
    )


def _shared_statistics(Xb, Yb, sb, center, overwrite=False):
    """Every task observed on every row: one Gram matrix for all tasks,
    ``R.T @ R`` with ``R = sqrt(s) (X - m)`` (a symmetric rank-k update,
    half the work of a general product)."""
    weight = sb.sum()
    if not weight > 0:
        return _zero_statistics(Yb.shape[1], Xb.shape[1], shared=True)
    x_mean = sb @ Xb / weight if center else np.zeros(Xb.shape[1])
    y_mean = sb @ Yb / weight if center else np.zeros(Yb.shape[1])
    Xc = np.subtract(Xb, x_mean, out=Xb if overwrite else None)
    Yc = Yb - y_mean
    R = Xc if np.all(sb == 1.0) else Xc * np.sqrt(sb)[:, None]
    return TaskStatistics(
        weight=np.array([weight]),
        x_mean=x_mean[None, :],
        y_mean=y_mean,
        xx=(R.T @ R)[None],
        xy=(Xc.T @ (sb[:, None] * Yc)).T,
        yy=sb @ Yc**2,
    )


def _masked_statistics(Xb, Yb, observed, sb, center, overwrite=False):
    """Most tasks observed on most rows: one Gram matrix of all the rows, and
    per task the Gram matrix of its missing rows subtracted from it (or of
    its observed rows, when they are the fewer), centred on the task's own
    mean by a rank-one correction."""
    n_rows, n_tasks, p = Xb.shape[0], Yb.shape[1], Xb.shape[1]
    W = observed * sb[:, None]
    weight = W.sum(axis=0)
    safe = np.where(weight > 0, weight, 1.0)
    # Every row relative to the block's mean, which brings large column means
    # down: the tasks' own means are then small offsets, and their rank-one
    # corrections cancel nothing.
    reference = sb @ Xb / sb.sum() if center else np.zeros(p)
    Xc = np.subtract(Xb, reference, out=Xb if overwrite else None)
    Y0 = np.where(observed, Yb, 0.0)
    x_offset = (W.T @ Xc) / safe[:, None] if center else np.zeros((n_tasks, p))
    y_mean = np.einsum("it,it->t", W, Y0) / safe if center else np.zeros(n_tasks)
    Yc = np.where(observed, Y0 - y_mean, 0.0)
    root = Xc if np.all(sb == 1.0) else Xc * np.sqrt(sb)[:, None]
    gram = root.T @ root
    xx = np.empty((n_tasks, p, p))
    for t in range(n_tasks):
        rows = observed[:, t]
        if 2 * np.count_nonzero(rows) >= n_rows:
            missing = root[~rows]
            xx[t] = gram - missing.T @ missing
        else:
            kept = root[rows]
            xx[t] = kept.T @ kept
        xx[t] -= weight[t] * np.outer(x_offset[t], x_offset[t])
    return TaskStatistics(
        weight=weight,
        x_mean=reference + x_offset,
        y_mean=y_mean,
        xx=xx,
        # sum_i W_it Yc_it = 0: the task's offset drops out of X^T W y.
        xy=(Xc.T @ (W * Yc)).T,
        yy=np.einsum("it,it->t", W, Yc * Yc),
    )


def _gathered_statistics(Xb, Yb, observed, sb, center):
    """Tasks observed on few rows: each task's rows gathered (a copy of
    ``n_observed x p`` numbers, which :func:`block_rows` bounds)."""
    n_tasks, p = Yb.shape[1], Xb.shape[1]
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


def block_rows(observed, n_features):
    """Rows per block for targets observed where ``observed`` (``n x T``).

    :data:`_BLOCK_ROWS`, unless the tasks' rows are gathered: then the
    gathered copy (observed pairs times ``n_features``) is kept near
    :data:`_GATHER_ENTRIES`, small enough to stay in cache.
    """
    if observed.size == 0:
        return _BLOCK_ROWS
    fraction = np.count_nonzero(observed) / observed.size
    if fraction >= _GATHER_BELOW:
        return _BLOCK_ROWS
    per_row = max(fraction * observed.shape[1], 1.0)
    rows = int(_GATHER_ENTRIES / (per_row * max(n_features, 1)))
    return min(_BLOCK_ROWS, max(_MIN_BLOCK_ROWS, rows))


def task_statistics(X, Y, sw, center, x_shift=None, x_scale=1.0):
    """Statistics of ``(X - x_shift) / x_scale`` and ``Y`` (NaN: not observed).

    ``X`` is dense or sparse; rows are converted to float64 a block at a
    time (:func:`block_rows`). ``x_shift`` (a row vector subtracted first,
    e.g. the global means) only improves the conditioning; the result is
    expressed in the shifted coordinates.
    """
    step = block_rows(~np.isnan(Y), X.shape[1])
    total = None
    for start in range(0, X.shape[0], step):
        rows = slice(start, start + step)
        Xb, owned = _float64_rows(X, rows)
        if x_shift is not None:
            Xb = np.subtract(Xb, x_shift, out=Xb if owned else None)
            owned = True
        if x_scale != 1.0:
            Xb = np.divide(Xb, x_scale, out=Xb if owned else None)
            owned = True
        block = _block_statistics(Xb, Y[rows], sw[rows], center, overwrite=owned)
        total = block if total is None else _merge_shapes(total, block)
    return total


def _float64_rows(X, rows):
    """``X[rows]`` as a dense float64 array, and whether it is a copy (which
    the block statistics may then centre in place)."""
    block = X[rows]
    if hasattr(block, "toarray"):
        return np.asarray(block.toarray(), dtype=np.float64), True
    converted = np.asarray(block, dtype=np.float64)
    # A view (possibly read-only, of an equivalent dtype) is not a copy.
    return converted, not np.may_share_memory(converted, block)


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
