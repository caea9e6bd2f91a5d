"""``MultiTaskSharedRepClassifier.fit`` on dask arrays: the solver on the client,
one distributed pass per evaluation.

The cross-entropy has no finite set of sufficient statistics, so the data are
read once per evaluation: every block computes the loss of its observed
labels and its gradient in ``(U, V, b)`` with the package's kernel
(:func:`~sklearn_mtl._kernels._cross_entropy.heads_loss_grad`, on the block's
rows of ``Z = A U``), and the sums of the blocks reach the client, where the
estimator's own L-BFGS (or FISTA) loop runs. Hessian products (FISTA's first
step, the Newton polish where L-BFGS stalls) take one pass each; the Newton
polish that carries small in-memory problems from ``tol`` to ``1e-6 tol`` is
left out, since out of core each of its Hessian products is a pass.

A first pass gathers what the in-memory fit reads from the whole data before
solving: the weighted column means and norms of ``X`` (the centring and the
power-of-two rescaling of :func:`~sklearn_mtl._design.make_design`) and, per
task, its observed labels with their counts and weights. From these the
estimator's own ``_encode``, ``_label_weights`` and ``task_weights`` run on
one row per (task, label), which carries that label's total weight: the
classes, class weights and task weights, and every error message, are the
in-memory ones. Two more passes give the initial point (the gradient at
``W = 0`` and the curvature along its leading factors).
"""

import dataclasses
import warnings

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.utils import Bunch, check_random_state

from .._datafits.cross_entropy import CrossEntropyHeads
from .._design import _SAFE_SQUARE_RANGE, power_of_two
from .._kernels._cross_entropy import heads_hessp, heads_loss_grad
from .._multitask._base import task_weights, warn_not_converged
from .._multitask._classifier import _ALPHA_FLOOR, _as_labels
from .._validation import missing_mask
from ._blocks import reduce_pass, sum_pass
from ._input import check_sample_weight, check_targets, check_X
from ._statistics import (
    PassParams,
    largest_abs,
    merge_summaries,
    reference_point,
    shifted_back,
    statistics_block,
    weights_of_block,
)

# Entries of the float64 temporaries of a block's rows processed at a time.
_SUB_BLOCK_ENTRIES = 1 << 22
_MAX_SUB_BLOCK = 1 << 16


@dataclasses.dataclass
class _LabelSummary:
    """The weights' scale and sum (``s / scale``) of some rows and, per task,
    its observed labels with their counts and weights ``s / scale``."""

    scale: float
    total: float
    labels: list  # per task: (values, counts, weights)


def _task_name(t, single_task):
    return "y" if single_task else f"task {t} (column {t} of y)"


def _labels_block(Yb, _, Sb, single_task):
    s, scale = weights_of_block(Sb, Yb.shape[0])
    labels = []
    for t in range(Yb.shape[1]):
        mask = ~missing_mask(Yb[:, t])
        values = _as_labels(Yb[mask, t], _task_name(t, single_task))
        unique, inverse = np.unique(values, return_inverse=True)
        labels.append((
            unique,
            np.bincount(inverse, minlength=unique.size),
            np.bincount(inverse, weights=s[mask], minlength=unique.size),
        ))
    return _LabelSummary(scale, float(s.sum()), labels)


def _merge_labels(a, b):
    scale = max(a.scale, b.scale)
    fa = a.scale / scale if scale > 0 else 1.0
    fb = b.scale / scale if scale > 0 else 1.0
    labels = []
    for (ua, ca, wa), (ub, cb, wb) in zip(a.labels, b.labels):
        unique, inverse = np.unique(np.concatenate([ua, ub]), return_inverse=True)
        counts = np.bincount(inverse, np.concatenate([ca, cb]), minlength=unique.size)
        weights = np.bincount(
            inverse, np.concatenate([wa * fa, wb * fb]), minlength=unique.size
        )
        labels.append((unique, counts.astype(np.int64), weights))
    return _LabelSummary(scale, a.total * fa + b.total * fb, labels)


def _aggregated_labels(labels, dtype, single_task):
    """One row per (task, observed label): the labels ``(R, T)`` with the
    other tasks missing, each row's task, and its total weight."""
    n_tasks = len(labels)
    n_rows = sum(len(values) for values, _, _ in labels)
    if single_task:
        Y = np.empty((n_rows, 1), dtype=labels[0][0].dtype)
    elif dtype.kind == "f":
        Y = np.full((n_rows, n_tasks), np.nan, dtype=dtype)
    else:
        Y = np.full((n_rows, n_tasks), None, dtype=object)
    task_of_row = np.empty(n_rows, dtype=np.int64)
    weight = np.empty(n_rows)
    start = 0
    for t, (values, _, weights) in enumerate(labels):
        rows = slice(start, start + len(values))
        Y[rows, t] = values
        task_of_row[rows] = t
        weight[rows] = weights
        start += len(values)
    return Y, task_of_row, weight


@dataclasses.dataclass(frozen=True)
class _BlockParams:
    """What every block needs to rebuild its observed labels and weights."""

    classes: list
    class_weight: np.ndarray  # (T, max classes)
    task_weight: np.ndarray  # (T,)
    offsets: np.ndarray
    weight_scale: float  # s / weight_scale * weight_factor = rescaled weights
    weight_factor: float
    n_samples: int
    mean: np.ndarray  # the centre, internal units
    x_scale: float
    single_task: bool


def _row_weights_block(Xb, Yb, Sb, payload):
    """The column moments of a block under each row's weight in the loss
    (the sum of its observed labels' weights), as make_design reads them."""
    bp, params = payload
    s = np.ones(Xb.shape[0]) if Sb is None else Sb[:, 0]
    rows, _, _, weights = _observations(Yb, s, bp)
    row_weight = np.bincount(rows, weights=weights, minlength=Xb.shape[0])
    return statistics_block(Xb, None, row_weight[:, None], params)


def _design_pass(X, Y, S, block, center, x_scale):
    """The column moments of ``X / x_scale`` under the rows' loss weights."""
    shift = reference_point(X, x_scale) if center else None
    params = PassParams(
        center=center, x_scale=x_scale, with_targets=False, x_shift=shift
    )
    summary = reduce_pass(
        _row_weights_block, merge_summaries, X, Y, S, (block, params)
    )
    return shifted_back(summary)


def prepare(estimator, X, Y, S, single_task):
    """The ``problem`` of the in-memory ``_prepare``: a pass over the labels
    (and weights), then one over ``X`` for its centre and column norms (once
    more when ``X`` must be divided by a power of two to keep its squares
    finite)."""
    n_samples, n_features = X.shape
    fit_intercept = estimator.fit_intercept
    result = reduce_pass(_labels_block, _merge_labels, Y, None, S, single_task)
    if not result.scale > 0 or not result.total > 0:
        raise ValueError("sample_weight must have a positive sum.")
    f = n_samples / result.total
    # The in-memory checks and weights, on one row per (task, label).
    Y_rows, task_of_row, row_weight = _aggregated_labels(
        result.labels, Y.dtype, single_task
    )
    classes, Y_enc, observed = estimator._encode(Y_rows, single_task)
    row_sw = row_weight * f
    label_weight = estimator._label_weights(
        Y_enc, observed, classes, row_sw, single_task
    )
    n_tasks = len(classes)
    n_heads = np.array([1 if len(c) == 2 else len(c) for c in classes])
    offsets = np.zeros(n_tasks + 1, dtype=np.int64)
    np.cumsum(n_heads, out=offsets[1:])
    class_weight = np.zeros((n_tasks, max(len(c) for c in classes)))
    rows = np.arange(len(task_of_row))
    enc = Y_enc[rows, task_of_row]
    with np.errstate(divide="ignore", invalid="ignore"):
        per_row = np.where(row_sw > 0, label_weight[rows, task_of_row] / row_sw, 0.0)
    class_weight[task_of_row, enc] = per_row
    c = task_weights(estimator.task_weight, label_weight.sum(axis=0))
    groups = {}
    for t, task_classes in enumerate(classes):
        groups.setdefault(tuple(task_classes.tolist()), []).append(t)
    block = _BlockParams(
        classes=classes, class_weight=class_weight, task_weight=c, offsets=offsets,
        weight_scale=result.scale, weight_factor=f, n_samples=n_samples,
        mean=np.zeros(n_features), x_scale=1.0, single_task=single_task,
    )
    # The design of make_design: X centred on its means under the rows'
    # weights in the loss, divided by a power of two when its mean squares
    # are out of range.
    x_in = 1.0
    summary = _design_pass(X, Y, S, block, fit_intercept, x_in)
    g = summary.weight_factor(n_samples)
    if not np.all(np.isfinite(summary.columns.yy * g)):
        x_in = power_of_two(largest_abs(X))
        summary = _design_pass(X, Y, S, block, fit_intercept, x_in)
        g = summary.weight_factor(n_samples)
    sq_norms = summary.columns.yy * g
    x_scale = x_in
    rms2 = sq_norms.max(initial=0.0) / n_samples
    if x_in == 1.0 and (rms2 > _SAFE_SQUARE_RANGE[1] or 0 < rms2 < _SAFE_SQUARE_RANGE[0]):
        x_scale = power_of_two(largest_abs(X))
    x_post = x_scale / x_in
    mean_user = summary.columns.y_mean * x_in
    design = Bunch(
        x_mean=mean_user, n_features=n_features, n_samples=n_samples,
        x_scale=x_scale,
    )
    block = dataclasses.replace(block, mean=mean_user / x_scale, x_scale=x_scale)
    # The observed labels summed per (task, label), for the frequencies.
    label_rows = Bunch(
        tasks=task_of_row, labels=enc,
        weights=label_weight[rows, task_of_row] * c[task_of_row] / n_samples,
    )
    return Bunch(
        classes=classes,
        offsets=offsets,
        n_columns=int(offsets[-1]),
        design=design,
        groups=[np.array(g) for g in groups.values()],
        root_scale=np.sqrt(x_scale),
        alpha_floor=_ALPHA_FLOOR * sq_norms.max(initial=0.0) / (x_post * x_post)
        / n_samples,
        block=block,
        label_rows=label_rows,
    )


def _observations(Yb, s, bp):
    """``(rows, tasks, labels, weights)`` of a block's observed labels, in the
    in-memory order (by row, then task) and with its weights."""
    n_rows, n_tasks = Yb.shape
    enc = np.full((n_rows, n_tasks), -1, dtype=np.int64)
    for t in range(n_tasks):
        mask = ~missing_mask(Yb[:, t])
        labels = _as_labels(Yb[mask, t], _task_name(t, bp.single_task))
        enc[mask, t] = np.searchsorted(bp.classes[t], labels)
    rows, tasks = np.nonzero(enc >= 0)
    labels = enc[rows, tasks]
    sw = (s[rows] / bp.weight_scale) * bp.weight_factor
    weights = sw * bp.class_weight[tasks, labels] * bp.task_weight[tasks] / bp.n_samples
    return rows.astype(np.int64), tasks.astype(np.int64), labels, weights


def _sub_blocks(Xb, Yb, Sb, bp):
    """``(A, observations)`` of each sub-block of rows: ``A`` the centred
    rows in float64 (internal units)."""
    n_rows, n_features = Xb.shape
    step = max(256, min(_MAX_SUB_BLOCK, _SUB_BLOCK_ENTRIES // max(n_features, 1)))
    for start in range(0, n_rows, step):
        rows = slice(start, start + step)
        A = np.asarray(Xb[rows], dtype=np.float64)
        if bp.x_scale != 1.0:
            A = A * (1.0 / bp.x_scale)
        A = A - bp.mean
        s = np.ones(A.shape[0]) if Sb is None else Sb[rows, 0]
        yield A, _observations(Yb[rows], s, bp)


def _cross_entropy_block(Xb, Yb, Sb, payload):
    """One block's share of an evaluation, as a flat vector (see the modes)."""
    bp, mode, state = payload
    offsets = bp.offsets
    if mode == "loss_grad":
        U, V, b = state
        loss, gU = 0.0, np.zeros(U.shape)
        dV, db = np.zeros(V.shape), np.zeros(b.shape)
        for A, (rows, tasks, labels, weights) in _sub_blocks(Xb, Yb, Sb, bp):
            Z = A @ U
            dZ = np.zeros_like(Z)
            loss += heads_loss_grad(
                Z, V, b, rows, tasks, labels, weights, offsets, dZ, dV, db
            )
            gU += A.T @ dZ
        return np.concatenate([[loss], gU.ravel(), dV.ravel(), db])
    if mode == "hessp":
        U, V, b, dU, dV, db = state
        oU, oV, ob = np.zeros(U.shape), np.zeros(V.shape), np.zeros(b.shape)
        for A, (rows, tasks, labels, weights) in _sub_blocks(Xb, Yb, Sb, bp):
            Z, ZD = A @ U, A @ dU
            oZ = np.zeros_like(Z)
            heads_hessp(
                Z, V, b, ZD, dV, db, rows, tasks, labels, weights, offsets, oZ, oV, ob
            )
            oU += A.T @ oZ
        return np.concatenate([oU.ravel(), oV.ravel(), ob])
    if mode == "gradient_at_zero":
        b = state
        n_columns = b.shape[0]
        out = np.zeros((Xb.shape[1], n_columns))
        for A, (rows, tasks, labels, weights) in _sub_blocks(Xb, Yb, Sb, bp):
            G = np.zeros((A.shape[0], n_columns))
            heads_loss_grad(
                np.zeros((A.shape[0], n_columns)), np.eye(n_columns), b, rows, tasks,
                labels, weights, offsets, G, np.zeros((n_columns, n_columns)),
                np.zeros(n_columns),
            )
            out += A.T @ G
        return out.ravel()
    # "curvature": label-weighted squared norm of X D along D = P diag(s) Qt.
    P, sQt, task_of_column = state
    total = 0.0
    n_tasks = len(bp.classes)
    for A, (rows, tasks, _, weights) in _sub_blocks(Xb, Yb, Sb, bp):
        XD = (A @ P) @ sQt
        weight_at = np.zeros((A.shape[0], n_tasks))
        np.add.at(weight_at, (rows, tasks), weights)
        total += float(np.sum(weight_at[:, task_of_column] * XD**2))
    return np.array([0.25 * total])


class BlockCrossEntropy(CrossEntropyHeads):
    """:class:`CrossEntropyHeads` whose data stay in dask arrays.

    Packing, the penalty and the intercept shrinkage are the parent's; the
    loss of the observed labels and its derivatives are sums over the blocks
    of rows, one distributed pass per evaluation.
    """

    def __init__(self, data, problem, n_components, alpha2, fit_intercept,
                 shrinkage):
        # The rows stay on the workers: the observations known here are one
        # per (task, label) with its total weight, which is all that the
        # label frequencies (_frequency_intercepts) read.
        labels = problem.label_rows
        super().__init__(
            problem.design,
            (np.empty(0, dtype=np.int64), labels.tasks, labels.labels, labels.weights),
            problem.offsets, n_components, alpha2, fit_intercept, problem.groups,
            shrinkage,
        )
        self.data = data
        self.block = problem.block
        self.n_passes = 0

    def _pass(self, mode, state, width):
        self.n_passes += 1
        X, Y, S = self.data
        return sum_pass(_cross_entropy_block, width, X, Y, S, (self.block, mode, state))

    def value_and_grad(self, x):
        U, V, b = self.unpack(x)
        n_U, n_V = self.n_U, self.n_V
        out = self._pass("loss_grad", (U, V, b), 1 + n_U + n_V + self.n_columns)
        grad = np.empty(self.size)
        grad[:n_U] = out[1 : 1 + n_U] + self.alpha2 * U.ravel()
        grad[n_U : n_U + n_V] = out[1 + n_U : 1 + n_U + n_V] + self.alpha2 * V.ravel()
        factors = x[: n_U + n_V]
        value = out[0] + 0.5 * self.alpha2 * float(factors @ factors)
        if self.fit_intercept:
            shrink_value, shrink_grad = self._shrink(b)
            value += shrink_value
            grad[n_U + n_V :] = out[1 + n_U + n_V :] + shrink_grad
        return value, grad

    def hessp(self, x, v):
        U, V, b = self.unpack(x)
        dU, dV, db = self.unpack(v)
        n_U, n_V = self.n_U, self.n_V
        out = self._pass("hessp", (U, V, b, dU, dV, db), n_U + n_V + self.n_columns)
        result = np.empty(self.size)
        result[:n_U] = out[:n_U] + self.alpha2 * dU.ravel()
        result[n_U : n_U + n_V] = out[n_U : n_U + n_V] + self.alpha2 * dV.ravel()
        if self.fit_intercept:
            result[n_U + n_V :] = out[n_U + n_V :] + self._shrink(db)[1]
        return result

    def loss_gradient_at(self, b):
        out = self._pass("gradient_at_zero", b, self.n_features * self.n_columns)
        return out.reshape(self.n_features, self.n_columns), None

    def curvature(self, P, sQt, task_of_column):
        """:meth:`CrossEntropyHeads.curvature`, in one pass."""
        return float(self._pass("curvature", (P, sQt, task_of_column), 1)[0])


def fit_shared_classifier(estimator, X, y, sample_weight=None):
    """:meth:`MultiTaskSharedRepClassifier.fit` for dask arrays (see the module)."""
    X = check_X(estimator, X, reset=True)
    Y, y_ndim = check_targets(y, X, numeric=False)
    if y_ndim == 2 and Y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please "
            "change the shape of y to (n_samples, ), for example using ravel().",
            DataConversionWarning,
            stacklevel=3,
        )
        y_ndim = 1
    single_task = y_ndim == 1
    S = check_sample_weight(sample_weight, X)
    problem = prepare(estimator, X, Y, S, single_task)
    k = estimator._n_components(
        X.shape[1], problem.n_columns, "min(n_features, n_columns)"
    )
    rng = check_random_state(estimator.random_state)
    objective = BlockCrossEntropy(
        (X, Y, S), problem, k, estimator._penalties(problem, estimator.alpha)[1],
        estimator.fit_intercept, estimator.intercept_shrinkage,
    )
    x0 = estimator._initial_point(objective, problem, rng)
    # Each Hessian product is a pass: a converged run stops at tol, as a
    # large problem does in memory.
    x, n_iter, measure, status = estimator._solve(
        objective, x0, problem, estimator.alpha, polish_converged=False
    )
    warn_not_converged(
        estimator, status, measure, estimator.tol, n_iter, estimator._measure_name()
    )
    estimator._store_solution(problem, objective, x, n_iter, single_task, X.dtype)
    return estimator
