"""The distributed pass that builds the sufficient statistics of a least-squares fit.

Every block of rows is cut into sub-blocks, each summarised by its weighted
means and centred second moments, :class:`~sklearn_mtl._datafits._statistics.
TaskStatistics` (the in-memory fits' own ``_block_statistics``, on sub-blocks
of the same size), and merged by Chan, Golub and LeVeque's update
(:meth:`TaskStatistics.merge <sklearn_mtl._datafits._statistics.TaskStatistics.merge>`);
the blocks' summaries are merged the same way across workers, in a fixed
tree. The rows are read relative to a point near the column means (the mean
of the first rows, :func:`reference_point`), so that the merges lose nothing
when a column's mean is large next to its spread.

Sample weights are used divided by a running scale (the largest weight seen),
as :func:`~sklearn_mtl._validation.rescaled_sample_weight` divides by the
largest weight before summing: when two summaries with different scales are
merged, the one with the smaller scale is brought to the larger, so huge
weights cannot overflow. The caller rescales the weights to sum to
``n_samples`` at the end (:meth:`Summary.weight_factor`).

Besides the statistics of ``(X, Y)``, a pass records the weighted mean and
centred sum of squares of every column of ``X`` (the design's column norms,
which decide the power-of-two rescaling and the penalty floors as in
:func:`~sklearn_mtl._design.make_design`): these are the statistics of the
columns taken as targets with no features, so the same merge serves.
"""

import dataclasses

import numpy as np

from .._datafits._statistics import (
    TaskStatistics,
    _block_statistics,
    _merge_shapes,
    block_rows,
    task_statistics,
)
from ._blocks import reduce_pass
from ._input import check_finite_block, check_weight_block, import_dask


@dataclasses.dataclass
class Summary:
    """What a pass knows about some rows; see the module docstring.

    ``stats`` are those of ``(X / x_scale, Y / y_scale)`` with weights
    ``s / scale``; ``columns`` the column moments of ``X / x_scale``;
    ``total`` the sum of ``s / scale`` over all rows; ``y_max`` the largest
    ``|Y|`` of each target (NaN where none is observed) and ``n_observed``
    the observed entries of each target. The largest ``|X|``, needed only
    to rescale ``X``, is computed then (:func:`largest_abs`).
    """

    scale: float
    total: float
    stats: object
    columns: object
    y_max: np.ndarray
    n_observed: np.ndarray
    any_missing: bool
    shift: object = None  # the point X / x_scale was read relative to

    def weight_factor(self, n_samples):
        """Multiplies the weights ``s / scale`` into weights that sum to ``n``
        (as :func:`~sklearn_mtl._validation.rescaled_sample_weight`)."""
        return n_samples / self.total


@dataclasses.dataclass(frozen=True)
class PassParams:
    """What every block needs: centring, input scalings, NaN policy."""

    center: bool
    x_scale: float = 1.0
    y_scale: object = None  # (n_targets,) or None
    allow_nan: bool = False
    with_targets: bool = True
    x_shift: object = None  # (p,), subtracted from X / x_scale, or None


def _scaled(stats, factor):
    """Statistics with weights multiplied by ``factor`` (means unchanged)."""
    if stats is None or factor == 1.0:
        return stats
    return dataclasses.replace(
        stats,
        weight=stats.weight * factor,
        xx=stats.xx * factor,
        xy=stats.xy * factor,
        yy=stats.yy * factor,
    )


def column_moments(Xs, s, center):
    """Weighted means and centred sums of squares of the columns of ``Xs``,
    as :class:`TaskStatistics` of the columns taken as targets (mergeable)."""
    return task_statistics(np.empty((Xs.shape[0], 0)), Xs, s, center)


def _merge(a, b):
    return b if a is None else a if b is None else _merge_shapes(a, b)


def weights_of_block(Sb, n_rows):
    """``(s / scale, scale)`` of a block; ``scale`` its largest weight."""
    if Sb is None:
        return np.ones(n_rows), 1.0
    scale = check_weight_block(Sb)
    if scale == 0.0:
        return np.zeros(n_rows), 0.0
    return Sb[:, 0] / scale, scale


def _columns_of(stats):
    """The column moments (see :func:`column_moments`) of shared statistics."""
    p = stats.x_mean.shape[1]
    return TaskStatistics(
        weight=stats.weight,
        x_mean=np.zeros((1, 0)),
        y_mean=stats.x_mean[0],
        xx=np.zeros((1, 0, 0)),
        xy=np.zeros((p, 0)),
        yy=np.diagonal(stats.xx[0]).copy(),
    )


def _finite(stats):
    return all(
        bool(np.all(np.isfinite(a)))
        for a in (stats.x_mean, stats.y_mean, stats.xy, stats.yy)
    ) and bool(np.all(np.isfinite(np.diagonal(stats.xx, axis1=1, axis2=2))))


def statistics_block(Xb, Yb, Sb, params):
    """The :class:`Summary` of one block of rows.

    Values are checked only where something is wrong: a sub-block whose
    statistics are not finite (NaN or infinity in the data, or an overflow
    that the caller undoes by rescaling) and rows of weight zero (which the
    statistics skip) are searched for NaN and infinity, to raise the
    in-memory estimators' errors.
    """
    n_rows = Xb.shape[0]
    if Yb is None:
        Yb = np.empty((n_rows, 0))
    s, scale = weights_of_block(Sb, n_rows)
    observed = ~np.isnan(Yb)
    with np.errstate(invalid="ignore"):
        y_max = np.fmax.reduce(np.abs(Yb), axis=0, initial=-np.inf)
    y_max[~observed.any(axis=0)] = np.nan
    any_missing = not bool(observed.all())
    if any_missing and not params.allow_nan:
        raise ValueError("Input y contains NaN.")
    summary = Summary(
        scale, 0.0, None, None, y_max, observed.sum(axis=0), any_missing,
        params.x_shift,
    )
    keep = s > 0
    if not keep.all():
        # Rows of weight zero add nothing: dropped (a zero weight times the
        # overflowing square of a huge value would be NaN); they must be
        # valid all the same.
        check_finite_block(Xb[~keep], "X")
        check_finite_block(Yb[~keep], "y", allow_nan=params.allow_nan)
        Xb, Yb, s = Xb[keep], Yb[keep], s[keep]
    if scale == 0.0:
        return summary
    step = block_rows(observed, Xb.shape[1])
    stats = columns = None
    for start in range(0, Xb.shape[0], step):
        rows = slice(start, start + step)
        Xs = np.asarray(Xb[rows], dtype=np.float64)
        owned = Xs is not Xb and not np.shares_memory(Xs, Xb)
        if params.x_scale != 1.0:
            Xs = Xs * (1.0 / params.x_scale)  # a power of two: exact
            owned = True
        if params.x_shift is not None:
            Xs = np.subtract(Xs, params.x_shift, out=Xs if owned else None)
            owned = True
        ss = s[rows]
        if not params.with_targets:
            with np.errstate(invalid="ignore", over="ignore"):  # checked below
                sub_columns = column_moments(Xs, ss, params.center)
            if not _finite(sub_columns):
                check_finite_block(Xb[rows], "X")
            columns = _merge(columns, sub_columns)
            continue
        Ys = Yb[rows]
        if params.y_scale is not None:
            Ys = Ys * (1.0 / params.y_scale)
        # Per-task statistics do not hold the columns' moments: computed
        # first (_block_statistics may centre Xs in place).
        sub_columns = None
        if np.isnan(Ys).any():
            with np.errstate(invalid="ignore", over="ignore"):
                sub_columns = column_moments(Xs, ss, params.center)
        with np.errstate(invalid="ignore", over="ignore"):  # checked below
            sub = _block_statistics(Xs, Ys, ss, params.center, overwrite=owned)
        if not _finite(sub):
            # NaN or infinity in the data (the in-memory error), or finite
            # values whose squares overflow (rescaled by the caller).
            check_finite_block(Xb[rows], "X")
            check_finite_block(Yb[rows], "y", allow_nan=params.allow_nan)
        if sub_columns is None:
            sub_columns = _columns_of(sub)
        columns = _merge(columns, sub_columns)
        stats = _merge(stats, sub)
    summary.total = float(s.sum())
    summary.stats = stats
    summary.columns = columns
    return summary


def merge_summaries(a, b):
    """The summary of the union of two sets of rows."""
    scale = max(a.scale, b.scale)
    fa = a.scale / scale if scale > 0 else 1.0
    fb = b.scale / scale if scale > 0 else 1.0
    with np.errstate(invalid="ignore"):
        y_max = np.fmax(a.y_max, b.y_max)
    return Summary(
        scale=scale,
        total=a.total * fa + b.total * fb,
        stats=_merge(_scaled(a.stats, fa), _scaled(b.stats, fb)),
        columns=_merge(_scaled(a.columns, fa), _scaled(b.columns, fb)),
        y_max=y_max,
        n_observed=a.n_observed + b.n_observed,
        any_missing=a.any_missing or b.any_missing,
        shift=a.shift,
    )


def _head_mean(head, x_scale):
    point = np.asarray(head, dtype=np.float64).mean(axis=0) / x_scale
    return point if np.all(np.isfinite(point)) else None


def reference_point(X, x_scale=1.0, n_rows=1024):
    """A point near the column means of ``X / x_scale``: the mean of its
    first rows, as a Delayed that the blocks of the same pass depend on (so
    the first block is read once), or None where those rows are not finite.

    The merge of two blocks' statistics carries the rounding error of their
    means (``|mean| * eps``) to first order: subtracting a point near the
    means first makes that error relative to the spread instead (as the
    in-memory statistics, computed on the design centred on the global
    means). It changes nothing else: the means are shifted back.
    """
    dask, _ = import_dask()
    return dask.delayed(_head_mean)(X[: min(n_rows, X.shape[0])], x_scale)


def shifted_back(summary):
    """The summary of ``X`` from that of ``X - summary.shift``."""
    shift = summary.shift
    if shift is None:
        return summary
    if summary.stats is not None:
        summary.stats = dataclasses.replace(
            summary.stats, x_mean=summary.stats.x_mean + shift
        )
    if summary.columns is not None:
        summary.columns = dataclasses.replace(
            summary.columns, y_mean=summary.columns.y_mean + shift
        )
    summary.shift = None
    return summary


def statistics_pass(X, Y, S, params):
    """One distributed pass: the :class:`Summary` of all the rows.

    Raises the in-memory estimators' errors for NaN or infinite ``X`` (and
    ``y`` unless ``params.allow_nan``), negative or non-finite weights, and
    weights that sum to zero. With centring, ``X`` is read relative to a
    :func:`reference_point` (the means are exact whatever the point).
    """
    if params.center and params.x_shift is None:
        params = dataclasses.replace(
            params, x_shift=reference_point(X, params.x_scale)
        )
    summary = reduce_pass(statistics_block, merge_summaries, X, Y, S, params)
    if not summary.scale > 0 or not summary.total > 0:
        raise ValueError("sample_weight must have a positive sum.")
    return shifted_back(summary)


def largest_abs(X):
    """``max |X|`` by one pass (only when a rescaling needs it)."""
    return float(abs(X).max().compute())


def all_finite(*arrays):
    return all(bool(np.all(np.isfinite(a))) for a in arrays)
