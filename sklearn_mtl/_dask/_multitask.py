"""``MultiTaskSharedRepRegressor.fit`` on dask arrays: one pass, then a local solve.

One distributed pass builds the per-task statistics (one shared set when
every target is observed) that the statistics form of the loss reads
(:func:`~sklearn_mtl._datafits.squared.statistics_form`); the solver then
runs on the client exactly as in memory (:func:`solve_problem`), with the
same form: the eigenbasis of the shared Gram matrix when every target is
observed and there is no L1 part (what the in-memory fit chooses then), the
per-task statistics otherwise (the in-memory fit may read rows instead, for
the same loss). The power-of-two rescalings, task weights, penalty floor and
intercepts are those of :func:`prepare_problem`.
"""

import numpy as np
from sklearn.utils import check_random_state

from .._datafits.squared import EigenForm, StatisticsForm
from .._design import _SAFE_SQUARE_RANGE, power_of_two
from .._multitask._base import task_weights
from .._multitask._regressor import (
    _ALPHA_FLOOR,
    _SAFE_RANGE,
    Problem,
    _check_observed,
    _choose_form,
)
from ._input import check_sample_weight, check_targets, check_X
from ._statistics import PassParams, all_finite, largest_abs, statistics_pass


def _eigen_form(G, C, task_weight):
    """:class:`EigenForm` of the shared Gram matrix ``G`` (``p x p``, over
    ``n``) and ``C`` (``p x T``), with the maps to and from its basis (the
    ``n >= p`` branch of :func:`~sklearn_mtl._datafits.squared.eigen_form`)."""
    lam, Q = np.linalg.eigh((G + G.T) / 2)
    form = EigenForm(
        np.maximum(lam, 0.0), np.ascontiguousarray(Q.T @ C), task_weight, 1.0
    )
    return form, (lambda U: Q.T @ U), (lambda U_basis: Q @ U_basis)


def problem_from_pass(X, Y, S, task_weight, fit_intercept, has_l1, ks, single_task):
    """The :class:`Problem` of :func:`prepare_problem`, from one pass."""
    n_samples, n_features = X.shape
    n_tasks = Y.shape[1]
    params = PassParams(center=fit_intercept, allow_nan=True)
    summary = statistics_pass(X, Y, S, params)
    x_in, y_in = 1.0, 1.0
    f = summary.weight_factor(n_samples)
    if not all_finite(summary.stats.xx * f, summary.stats.xy * f, summary.columns.yy * f):
        # Overflow: once more with X and Y divided by powers of two.
        x_in = power_of_two(largest_abs(X))
        y_in = power_of_two(np.nanmax(summary.y_max, initial=0.0))
        params = PassParams(
            center=fit_intercept, x_scale=x_in, y_scale=np.full(n_tasks, y_in),
            allow_nan=True,
        )
        summary = statistics_pass(X, Y, S, params)
        f = summary.weight_factor(n_samples)
        if not all_finite(summary.stats.xx * f, summary.stats.xy * f):
            raise ValueError(
                "X holds values too large to be fitted even after rescaling; "
                "scale the features."
            )
    stats = summary.stats
    shared = stats.weight.shape[0] == 1
    observed_weight = np.broadcast_to(stats.weight * f, (n_tasks,)).copy()
    _check_observed(observed_weight, single_task)
    c = task_weights(task_weight, observed_weight)
    # Y: divided by a power of two when its magnitude is out of range.
    top = np.nanmax(summary.y_max, initial=0.0) / y_in
    y_scale = y_in
    if top > _SAFE_RANGE[1] or 0 < top < _SAFE_RANGE[0]:
        y_scale = y_in * power_of_two(top)
    # X: likewise when its mean squares are (make_design's rule).
    sq_norms = summary.columns.yy * f
    x_scale = x_in
    rms2 = sq_norms.max(initial=0.0) / n_samples
    if x_in == 1.0 and (
        not np.all(np.isfinite(sq_norms))
        or rms2 > _SAFE_SQUARE_RANGE[1]
        or 0 < rms2 < _SAFE_SQUARE_RANGE[0]
    ):
        x_scale = power_of_two(largest_abs(X))
    x_post, y_post = x_scale / x_in, y_scale / y_in
    inv_n = 1.0 / n_samples
    G = stats.xx * (f * inv_n / (x_post * x_post))
    C = stats.xy.T * (f * inv_n / (x_post * y_post))
    kind = _choose_form(
        shared and not summary.any_missing, has_l1, n_samples, n_features, n_tasks,
        int(summary.n_observed.sum()), max(ks),
    )
    to_basis = from_basis = None
    if kind == "eigen":
        form, to_basis, from_basis = _eigen_form(G[0], C, c)
    else:
        form = StatisticsForm(G, C, c, 1.0)
    floor = _ALPHA_FLOOR * sq_norms.max(initial=0.0) / (x_post * x_post) * inv_n
    return Problem(
        form, to_basis, from_basis, c, x_scale, y_scale, stats.x_mean * x_in,
        stats.y_mean * y_in, floor,
    )


def fit_shared_regressor(estimator, X, y, sample_weight=None):
    """:meth:`MultiTaskSharedRepRegressor.fit` for dask arrays (see the module)."""
    X = check_X(estimator, X, reset=True)
    Y, y_ndim = check_targets(y, X)
    single_task = y_ndim == 1
    n_features, n_tasks = X.shape[1], Y.shape[1]
    k = estimator._n_components(n_features, n_tasks, "min(n_features, n_tasks)")
    S = check_sample_weight(sample_weight, X)
    rng = check_random_state(estimator.random_state)
    U_prev = estimator._previous_factor(n_features, k)
    problem = problem_from_pass(
        X, Y, S, estimator.task_weight, estimator.fit_intercept,
        estimator.l1_ratio > 0, [k], single_task,
    )
    # The warning shows at the caller of fit: this, _dask.fit, fit, its wrapper.
    return estimator._fit_problem(
        problem, k, U_prev, rng, single_task, X.dtype, stacklevel=7
    )
