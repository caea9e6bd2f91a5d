"""``predict``, ``transform`` and ``score`` on dask arrays.

``predict`` and ``transform`` map the fitted estimator's own in-memory method
over the blocks of rows (``map_blocks``): the result is a lazy dask array
with ``X``'s row chunks, equal block by block to the in-memory result.

``score`` takes one pass: each block returns the sums the score needs (per
task: the weighted statistics of the targets, merged by the Chan update, and
the weighted sum of squared residuals; or the weighted count of correct
labels), reduced on the workers, and the client combines them as
``r2_score`` or the per-task accuracy do.
"""

import dataclasses
import warnings

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.utils.validation import check_is_fitted

from .._datafits._statistics import task_statistics
from .._validation import missing_mask
from ._blocks import reduce_pass
from ._input import check_sample_weight, check_targets, check_X
from ._statistics import _merge, _scaled, weights_of_block


class _Method:
    """``estimator.<name>`` on a block (a picklable callable for map_blocks)."""

    def __init__(self, estimator, name):
        self.estimator = estimator
        self.name = name

    def __call__(self, block):
        with warnings.catch_warnings():
            # Feature names were checked on the client, on the collection.
            warnings.filterwarnings("ignore", message="X does not have valid feature")
            return getattr(self.estimator, self.name)(block)


def _map_rows(estimator, name, X, width, dtype):
    """A lazy dask array: ``estimator.<name>`` of each block of rows of ``X``.

    ``width`` None: 1-D output; else 2-D with that many columns.
    """
    func = _Method(estimator, name)
    if width is None:
        return X.map_blocks(
            func, drop_axis=1, dtype=dtype, meta=np.empty((0,), dtype=dtype)
        )
    return X.map_blocks(
        func, chunks=(X.chunks[0], (width,)), dtype=dtype,
        meta=np.empty((0, 0), dtype=dtype),
    )


def _output_shape(estimator):
    """``(width, dtype or None)`` of ``predict``: width None for 1-D."""
    classes = getattr(estimator, "_classes", None)
    if classes is not None:  # the shared-representation classifier
        if estimator._single_task:
            return None, classes[0].dtype
        dtypes = {c.dtype for c in classes}
        return len(classes), dtypes.pop() if len(dtypes) == 1 else np.dtype(object)
    coef = np.asarray(estimator.coef_)
    return (None if coef.ndim == 1 else coef.shape[0]), None


def predict(estimator, X):
    """``estimator.predict(X)`` as a lazy dask array."""
    check_is_fitted(estimator)
    X = check_X(estimator, X, reset=False)
    width, dtype = _output_shape(estimator)
    return _map_rows(estimator, "predict", X, width, dtype or X.dtype)


def transform(estimator, X):
    """``estimator.transform(X)`` (``X @ components_.T``) as a lazy dask array."""
    check_is_fitted(estimator)
    X = check_X(estimator, X, reset=False)
    return _map_rows(estimator, "transform", X, estimator.components_.shape[0], X.dtype)


@dataclasses.dataclass
class _ScoreSums:
    """Per-task sums of some rows, weights ``s / scale``."""

    scale: float
    stats: object  # TaskStatistics of the targets (regression)
    sums: dict  # weight-linear per-task sums
    counts: np.ndarray  # observed entries per task


def _merge_sums(a, b):
    scale = max(a.scale, b.scale)
    fa = a.scale / scale if scale > 0 else 1.0
    fb = b.scale / scale if scale > 0 else 1.0
    return _ScoreSums(
        scale,
        _merge(_scaled(a.stats, fa), _scaled(b.stats, fb)),
        {key: a.sums[key] * fa + b.sums[key] * fb for key in a.sums},
        a.counts + b.counts,
    )


def _regression_block(Xb, Yb, Sb, estimator):
    s, scale = weights_of_block(Sb, Xb.shape[0])
    observed = ~np.isnan(Yb)
    # r2_score's residuals (no missing target) come from ``predict``, in the
    # data's dtype; those of the per-task score (missing targets) in float64,
    # as the in-memory score computes them.
    predicted = np.asarray(_Method(estimator, "predict")(Xb), dtype=np.float64)
    residual = np.where(observed, Yb - predicted.reshape(Yb.shape), 0.0)
    sums = {"residual": s @ residual**2}
    if Xb.dtype != np.float64:
        coef = np.asarray(estimator.coef_, dtype=np.float64).reshape(Yb.shape[1], -1)
        predicted = np.asarray(Xb, dtype=np.float64) @ coef.T + np.asarray(
            estimator.intercept_, dtype=np.float64
        )
        residual = np.where(observed, Yb - predicted, 0.0)
    sums["residual64"] = s @ residual**2
    keep = s > 0
    stats = None
    if keep.any():
        Yk, sk = Yb[keep], s[keep]
        stats = task_statistics(np.empty((Yk.shape[0], 0)), Yk, sk, True)
    return _ScoreSums(scale, stats, sums, observed.sum(axis=0))


def _r2(estimator, X, y, sample_weight):
    X = check_X(estimator, X, reset=False)
    Y, _ = check_targets(y, X)
    S = check_sample_weight(sample_weight, X)
    total = reduce_pass(_regression_block, _merge_sums, X, Y, S, estimator)
    complete = bool(np.all(total.counts == Y.shape[0]))
    residual = total.sums["residual" if complete else "residual64"]
    n_tasks = Y.shape[1]
    if total.stats is None:  # every weight zero
        spread = np.zeros(n_tasks)
    else:
        spread = np.broadcast_to(total.stats.yy, (n_tasks,))
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(
            spread > 0, 1.0 - residual / spread, np.where(residual == 0, 1.0, 0.0)
        )
    if complete:
        # No missing target: r2_score's uniform average (NaN below 2 samples).
        if Y.shape[0] < 2:
            warnings.warn(
                "R^2 score is not well-defined with less than two samples.",
                UndefinedMetricWarning,
                stacklevel=5,
            )
            return float("nan")
        return float(r2.mean())
    scores = r2[total.counts >= 2]
    return float(scores.mean()) if scores.size else float("nan")


def _accuracy_block(Xb, Yb, Sb, estimator):
    s, scale = weights_of_block(Sb, Xb.shape[0])
    predicted = _Method(estimator, "predict")(Xb).reshape(Yb.shape)
    n_tasks = Yb.shape[1]
    correct, weight = np.zeros(n_tasks), np.zeros(n_tasks)
    counts = np.zeros(n_tasks, dtype=np.int64)
    for t in range(n_tasks):
        mask = ~missing_mask(Yb[:, t])
        hit = np.asarray(Yb[mask, t] == predicted[mask, t], dtype=float)
        correct[t] = s[mask] @ hit
        weight[t] = s[mask].sum()
        counts[t] = mask.sum()
    return _ScoreSums(scale, None, {"correct": correct, "weight": weight}, counts)


def _accuracy(estimator, X, y, sample_weight):
    X = check_X(estimator, X, reset=False)
    Y, y_ndim = check_targets(y, X, numeric=False)
    n_tasks = len(estimator._classes)
    if Y.shape[1] != n_tasks:
        raise ValueError(
            f"y has {Y.shape[1]} tasks but the estimator was fitted on {n_tasks}."
        )
    S = check_sample_weight(sample_weight, X)
    total = reduce_pass(_accuracy_block, _merge_sums, X, Y, S, estimator)
    accuracies = []
    for t in range(n_tasks):
        if total.counts[t] == 0:
            continue
        if S is not None and not total.sums["weight"][t] > 0:
            continue
        accuracies.append(total.sums["correct"][t] / total.sums["weight"][t])
    if not accuracies:
        raise ValueError("y has no observed label to score.")
    return float(np.mean(accuracies))


def score(estimator, X, y, sample_weight=None):
    """``estimator.score(X, y)`` from one pass over the blocks (a float)."""
    check_is_fitted(estimator)
    if hasattr(estimator, "_classes"):
        return _accuracy(estimator, X, y, sample_weight)
    return _r2(estimator, X, y, sample_weight)
