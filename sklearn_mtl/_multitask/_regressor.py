"""Multi-task linear regression through a shared low-rank representation."""

import copy

import numpy as np
import scipy.sparse as sp
from sklearn.base import MultiOutputMixin, RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from .._datafits.squared import eigen_form, gram_form, row_form, statistics_form
from .._design import make_design, power_of_two
from .._linear._path import linear_predict
from .._penalties import enet_prox, factor_penalty_value, factor_stationarity
from .._solvers._stall import ROUNDING_ULPS, StallWatch
from .._solvers.cg import conjugate_gradient
from .._solvers.fista import fista
from .._solvers.lbfgs import _STALL_ITERATIONS, lbfgs
from .._validation import as_float_targets, in_data_dtype, rescaled_sample_weight
from ._base import (
    BaseSharedRep,
    initial_factor,
    revive_columns,
    task_weights,
    warn_not_converged,
)

# The eigenbasis form needs a dense factorisation of this dimension at most.
_EIGEN_MAX_DIM = 3000
# Iterations an iterative fit is assumed to need, in the cost of the forms
# (accelerated EM from the surrogate's minimiser needs far fewer).
_EXPECTED_EVALUATIONS = 50
_EXPECTED_EM_EVALUATIONS = 10
# The Gram form's memory is at most this share of X's (in float64 entries).
_GRAM_MEMORY_SHARE = 0.125
# Per-task statistics may hold at most this many numbers (or n * p).
_STATISTICS_MAX_ENTRIES = 1 << 22
# Inner iterations of the alternating U step.
_CG_MAX_ITER = 25
_CG_RTOL = 1e-2
_PROX_MAX_ITER = 30
# Past EM steps the extrapolation of the EM map combines.
_ANDERSON_MEMORY = 5
# alpha (relative to the largest feature's mean square) is at least this.
_ALPHA_FLOOR = 1e-12
# Magnitudes of y outside this range are rescaled by a power of two.
_SAFE_RANGE = (1e-100, 1e100)
# Entries of y read at a time when summarising the targets.
_TARGET_BLOCK = 1 << 18


def _choose_form(fully_observed, has_l1, n, p, n_tasks, n_observed, k, dense=False):
    """``"eigen"``, ``"statistics"``, ``"gram"`` or ``"rows"``: the cheapest
    exact form (``"gram"`` only for ``dense`` data)."""
    if fully_observed and not has_l1 and min(n, p) <= _EIGEN_MAX_DIM:
        return "eigen"
    T_x = 1 if fully_observed else n_tasks
    rows_in_statistics = n if fully_observed else n_observed
    n_missing = n * n_tasks - n_observed
    products = 4 * n * p * k
    costs = {}
    if T_x * p * p <= max(_STATISTICS_MAX_ENTRIES, n * p):
        costs["statistics"] = rows_in_statistics * p * p
    if dense and not has_l1 and _gram_fits(n, p, n_tasks, n_missing, n_observed):
        # One pass builds the Gram matrix; EM from the surrogate's minimiser
        # then needs few evaluations, each visiting the missing entries only.
        costs["gram"] = n * p * (p + n_tasks) + _EXPECTED_EM_EVALUATIONS * (
            products + 3 * n_missing * k * k
        )
    costs["rows"] = _EXPECTED_EVALUATIONS * (products + 3 * n_observed * k * k)
    return min(costs, key=costs.get)


def _gram_fits(n, p, n_tasks, n_missing, n_observed):
    """Whether :class:`~sklearn_mtl._datafits.squared.GramForm` suits the data.

    At most half of the entries miss: each task's Gram matrix is the shared
    one minus its missing rows, which then cancels at most one digit, and EM
    gains at least a factor two per step. Its memory (the Gram matrix, the
    ``(p, T)`` statistics, the missing entries' indices) stays a small
    fraction of ``X``'s.
    """
    memory = p * p + 4 * p * n_tasks + n_missing / 2 + n
    return (
        n_missing <= n_observed
        and p <= _EIGEN_MAX_DIM
        and memory <= _GRAM_MEMORY_SHARE * n * p
    )


def _check_observed(observed_weight, single_task):
    """Raise if a task has no observed target with positive sample weight."""
    empty = np.flatnonzero(~(observed_weight > 0))
    if empty.size:
        if single_task:
            raise ValueError(
                "y has no observed target: every value is NaN or has zero "
                "sample weight."
            )
        raise ValueError(
            f"Task(s) {empty.tolist()} have no observed target: every value of "
            "y[:, t] is NaN or has zero sample weight. Drop these tasks before "
            "fitting."
        )


def _minimise_factor(form, U0, g0, task_weight, alpha1, alpha2, max_iter, tol, verbose):
    """L-BFGS (OWL-QN) on ``U`` with the heads eliminated; alternating U steps
    where the line search fails. Returns ``U, V, n_iter, measure, status``.

    Forms with a fully observed surrogate (missing targets) are minimised by
    accelerated EM instead (:func:`_accelerated_em`).
    """
    if alpha1 == 0 and hasattr(form, "surrogate"):
        # Overflow shows up as non-finite values, which end the run with a status.
        with np.errstate(over="ignore", invalid="ignore"):
            return _accelerated_em(form, U0, alpha2, max_iter, tol, verbose)

    def evaluate(U):
        value, grad_loss, V = form.evaluate(U)
        value += factor_penalty_value(U, V, 0.0, alpha2)
        return value, grad_loss + alpha2 * U, (V, grad_loss)

    def measure(U, pseudo_grad, extra):
        return factor_stationarity(extra[1], U, alpha1, alpha2)

    def fallback(U, grad, extra):
        V, grad_loss = extra
        return _alternating_ustep(form, U, V, grad_loss, g0 @ V.T, task_weight,
                                  alpha1, alpha2, feature_var)

    # The diagonal of the Hessian in U evens out features of different scales.
    feature_var = None if hasattr(form, "ustep") else form.feature_var() * task_weight

    def preconditioner(U, extra):
        return feature_var @ (extra[0].T ** 2) + alpha2

    U, (V, _), n_iter, value, status = lbfgs(
        U0, evaluate, max_iter=max_iter, measure=measure, tol=tol, l1=alpha1,
        fallback=fallback, verbose=verbose, measure_name="relative stationarity",
        preconditioner=None if feature_var is None else preconditioner,
    )
    return U, V, n_iter, value, status


def _accelerated_em(form, U0, alpha2, max_iter, tol, verbose):
    """EM on ``U``, Anderson-accelerated. Returns ``U, V, n_iter, measure, status``.

    An EM step (``form.ustep``) minimises in ``U`` the fully observed loss
    whose missing targets are filled with the current fit, a bound that
    touches the loss at the current point; the heads are then exact. Each
    step so lowers the objective, by a factor near the share of missing
    entries. The extrapolation of the last steps (Anderson, type II) is
    taken when it lowers the objective, else the plain EM step (at most two
    evaluations per iteration). Stops as :func:`lbfgs` does: on the relative
    stationarity, at ``max_iter``, when the objective stops falling
    ("stalled") or on a non-finite value.
    """

    def evaluate(U):
        value, grad_loss, V = form.evaluate(U)
        return value + factor_penalty_value(U, V, 0.0, alpha2), grad_loss, V

    def finite(objective, grad):
        return np.isfinite(objective) and np.all(np.isfinite(grad))

    U = np.array(U0, dtype=np.float64)
    objective, grad, V = evaluate(U)
    current = factor_stationarity(grad, U, 0.0, alpha2)
    if not finite(objective, grad):
        return U, V, 0, current, "non-finite"
    history = []  # (U_i, EM step from U_i)
    n_iter, status = 0, "max_iter"
    watch = StallWatch(_STALL_ITERATIONS)
    watch.stalled(current, objective)
    slack = ROUNDING_ULPS * np.finfo(np.float64).eps
    for it in range(max_iter):
        if current <= tol:
            status = "converged"
            break
        step = form.ustep(U, grad, V)
        history = (history + [(U, step)])[-_ANDERSON_MEMORY:]
        kind = "EM"
        if len(history) > 1:
            trial = _anderson_point(history)
            new = evaluate(trial)
            if finite(new[0], new[1]) and new[0] <= objective:
                U_new, kind = trial, "extrapolated"
        if kind == "EM":
            history = history[-1:]
            U_new, new = step, evaluate(step)
            if not finite(new[0], new[1]):
                status = "non-finite"
                break
            # EM steps never raise the objective but by rounding: near the
            # optimum a lower measure tells more than the objective.
            lower = factor_stationarity(new[1], U_new, 0.0, alpha2) < current
            if not (new[0] <= objective + slack * abs(objective) or lower):
                status = "stalled"
                break
        U, (objective, grad, V) = U_new, new
        current = factor_stationarity(grad, U, 0.0, alpha2)
        n_iter = it + 1
        if verbose:
            print(
                f"iteration {n_iter} ({kind}): objective {objective:.12e}, "
                f"relative stationarity {current:.3e}"
            )
        if watch.stalled(current, objective) and current > tol:
            status = "stalled"
            break
    else:
        if current <= tol:
            status = "converged"
    return U, V, n_iter, current, status


def _anderson_point(history):
    """Anderson (type II) extrapolation of the map ``U -> step`` from its last
    ``(U_i, step_i)`` pairs: the combination of the steps whose residuals
    ``step_i - U_i`` combine to the smallest one."""
    residuals = np.stack([(step - U).ravel() for U, step in history], axis=1)
    steps = np.stack([step.ravel() for _, step in history], axis=1)
    gamma = np.linalg.lstsq(np.diff(residuals, axis=1), residuals[:, -1], rcond=1e-10)[0]
    shape = history[-1][1].shape
    return (steps[:, -1] - np.diff(steps, axis=1) @ gamma).reshape(shape)


def _alternating_ustep(form, U, V, grad_loss, B, task_weight, alpha1, alpha2,
                       feature_var):
    """Lower the objective in ``U`` at fixed ``V``.

    The problem is ``1/2 <U, H U> - <B, U> + alpha1 ||U||_1`` with ``H`` the
    Hessian of the loss in ``U`` plus ``alpha2``: solved exactly by the
    eigenbasis form, by a few conjugate-gradient steps without an L1 part, and
    by accelerated proximal gradient with one.
    """
    if alpha1 == 0 and hasattr(form, "ustep"):
        return form.ustep(U, grad_loss, V)

    def matvec(D):
        return form.hessp(D, V) + alpha2 * D

    if alpha1 == 0:
        diagonal = feature_var @ (V.T**2) + alpha2
        threshold = _CG_RTOL * np.linalg.norm(grad_loss + alpha2 * U)
        U_new, _, _ = conjugate_gradient(
            matvec,
            B,
            U,
            _CG_MAX_ITER,
            lambda x, r: "converged" if np.linalg.norm(r) <= threshold else None,
            precond=lambda r: r / diagonal,
        )
        return U_new

    def evaluate(D):
        HD = matvec(D)
        return 0.5 * np.vdot(D, HD) - np.vdot(B, D), HD - B

    grad = grad_loss + alpha2 * U
    norm2 = np.vdot(grad, grad)
    lipschitz = np.vdot(grad, matvec(grad)) / norm2 if norm2 > 0 else 1.0
    U_new, _, _, _ = fista(
        U,
        evaluate,
        lambda v, step: enet_prox(v, step * alpha1).reshape(v.shape),
        lambda D: alpha1 * np.abs(D).sum(),
        lipschitz,
        max_iter=_PROX_MAX_ITER,
        tol=0.0,
    )
    return U_new


class Problem:
    """A multi-task least-squares problem ready for any alpha and ``k``.

    Holds the loss in its cheapest form (built once: the statistics or the
    eigendecomposition serve every alpha of a path), the scalings by powers
    of two (``X = x_scale X'``, ``Y = y_scale Y'``, ``U = unit U'``,
    ``V = unit V'`` with ``unit = sqrt(y_scale / x_scale)``) and the means
    that give the intercepts.
    """

    def __init__(self, form, to_basis, from_basis, task_weight, x_scale, y_scale,
                 x_mean, y_mean, alpha_floor):
        self.form = form
        self.to_basis = to_basis
        self.from_basis = from_basis
        self.task_weight = task_weight
        self.x_scale = x_scale
        self.y_scale = y_scale
        # Square roots first: y_scale / x_scale alone may overflow (X near 1e-310).
        self.unit = np.sqrt(y_scale) / np.sqrt(x_scale)
        self.x_mean = x_mean  # (T or 1, p), user units
        self.y_mean = y_mean  # (T,), user units
        self.alpha_floor = alpha_floor
        self.gradient_at_zero = form.gradient_at_zero()

    def penalties(self, alpha, l1_ratio):
        """``(alpha1, alpha2)`` in the internal units."""
        alpha1 = alpha * l1_ratio * self.unit / self.y_scale / self.y_scale
        alpha2 = alpha * (1.0 - l1_ratio) / (self.x_scale * self.y_scale)
        # Below rounding of the data's scale the penalty no longer fixes the
        # scale of the factors (U V is unchanged by U c, V / c): floor it.
        return alpha1, max(alpha2, self.alpha_floor)

    def alpha_max(self, l1_ratio):
        """The smallest alpha with an all-zero solution (user units)."""
        top = np.linalg.norm(self.gradient_at_zero, 2)
        return top * self.x_scale * self.y_scale / max(1.0 - l1_ratio, 1e-12)

    def to_internal(self, U):
        U = U / self.unit
        return self.to_basis(U) if self.to_basis is not None else U

    def user_model(self, U, V):
        """``U``, ``V``, ``coef`` ``(T, p)`` and intercepts in user units."""
        if self.from_basis is not None:
            U = self.from_basis(U)
        U, V = self.unit * U, self.unit * V
        coef = (U @ V).T
        intercept = self.y_mean - np.einsum(
            "tj,tj->t", np.broadcast_to(self.x_mean, coef.shape), coef
        )
        return U, V, coef, intercept


def _target_summary(Y, sw):
    """Each task's observed weight, the number of observed entries and the
    largest observed ``|y|``, by blocks of rows (no ``n x T`` temporaries)."""
    n, n_tasks = Y.shape
    observed_weight = np.zeros(n_tasks)
    n_observed, top = 0, 0.0
    step = max(1, _TARGET_BLOCK // max(n_tasks, 1))
    for start in range(0, n, step):
        Yb = Y[start : start + step]
        observed = ~np.isnan(Yb)
        observed_weight += sw[start : start + step] @ observed
        n_observed += int(np.count_nonzero(observed))
        top = max(top, float(np.fmax.reduce(np.abs(Yb), axis=None, initial=0.0)))
    return observed_weight, n_observed, top


def prepare_problem(X, Y, sw, task_weight, fit_intercept, has_l1, ks, single_task):
    """Validate the targets and build the :class:`Problem` (``ks``: the values
    of ``k`` it will be solved for, which set the cost of the forms)."""
    n_samples, n_features = X.shape
    n_tasks = Y.shape[1]
    observed_weight, n_observed, top = _target_summary(Y, sw)
    _check_observed(observed_weight, single_task)
    c = task_weights(task_weight, observed_weight)
    # Exact rescalings by powers of two keep extreme magnitudes in range.
    y_scale = 1.0
    if top > _SAFE_RANGE[1] or 0 < top < _SAFE_RANGE[0]:
        y_scale = power_of_two(top)
        Y = Y / y_scale
    design = make_design(X, sw, np.ones(n_samples), fit_intercept, any_layout=True)
    kind = _choose_form(
        n_observed == Y.size, has_l1, n_samples, n_features, n_tasks, n_observed,
        max(ks), dense=not sp.issparse(X),
    )
    to_basis = from_basis = None
    if kind == "eigen":
        y_mean = sw @ Y / n_samples if fit_intercept else np.zeros(n_tasks)
        form, to_basis, from_basis = eigen_form(design, Y, sw, c, 1.0, y_mean)
        delta = np.zeros((1, n_features))
    elif kind == "statistics":
        form, delta, y_mean = statistics_form(design, Y, sw, c, 1.0, fit_intercept)
    elif kind == "gram":
        form, delta, y_mean = gram_form(design, Y, sw, c, 1.0, fit_intercept)
    else:
        form, delta, y_mean = row_form(design, Y, sw, c, 1.0, fit_intercept)
    floor = _ALPHA_FLOOR * design.sq_norms.max(initial=0.0) / n_samples
    return Problem(
        form, to_basis, from_basis, c, design.x_scale, y_scale,
        design.x_mean + design.x_scale * delta, y_mean * y_scale, floor,
    )


def _objective_value(form, U, alpha1, alpha2):
    value, _, V = form.evaluate(U)
    return value + factor_penalty_value(U, V, alpha1, alpha2)


def solve_problem(problem, alpha, l1_ratio, k, U_start, rng, max_iter, tol, verbose,
                  fresh_if_better=False):
    """Fit at one ``alpha`` and ``k`` from ``U_start`` (internal units) or from
    the ridge initialisation. Returns ``U, V`` (internal), ``n_iter``, the
    final measure and the solver's status."""
    alpha1, alpha2 = problem.penalties(alpha, l1_ratio)
    form = copy.copy(problem.form)
    form.alpha = alpha2  # the heads' ridge weight
    g0 = problem.gradient_at_zero
    n_tasks = g0.shape[1]
    if np.linalg.norm(g0, 2) <= alpha2:
        # The loss gradient at W = 0 is inside the penalty's subdifferential.
        return np.zeros((g0.shape[0], k)), np.zeros((k, n_tasks)), 1, 0.0, "converged"
    U0 = None if U_start is None else revive_columns(U_start, rng)
    if U0 is not None:
        # A start that does no better than W = 0 sits near the saddle of the
        # factors there, which the solver may not leave: start fresh instead.
        at_zero = _objective_value(form, 0 * U0, alpha1, alpha2)
        if not _objective_value(form, U0, alpha1, alpha2) < at_zero - 1e-12 * abs(at_zero):
            U0 = None
    n_start = 0
    if U0 is None and hasattr(form, "surrogate"):
        U0, n_start = _surrogate_start(form, k, rng, alpha2, max_iter, tol)
    elif U0 is None:
        U0 = initial_factor(form.initial_direction(), k, rng)
    elif fresh_if_better:
        # With fewer components than the solution's rank the problem is not
        # convex: a warm start can lead to a worse local optimum than the
        # ridge start, so start from the better of the two.
        fresh = initial_factor(form.initial_direction(), k, rng)
        U0 = min(U0, fresh, key=lambda U: _objective_value(form, U, alpha1, alpha2))
    U, V, n_iter, measure, status = _minimise_factor(
        form, U0, g0, problem.task_weight, alpha1, alpha2, max_iter - n_start, tol,
        verbose,
    )
    return U, V, n_start + n_iter, measure, status


def _surrogate_start(form, k, rng, alpha2, max_iter, tol):
    """Start from the minimiser of the form's fully observed surrogate (cheap:
    it never reads ``X``). Returns ``U0`` and the iterations spent, which
    count against ``max_iter`` (at least one is left for the real loss)."""
    surrogate, Q = form.surrogate()
    U0 = initial_factor(surrogate.initial_direction(), k, rng)
    U0, _, n_iter, _, _ = _minimise_factor(
        surrogate, U0, surrogate.gradient_at_zero(), surrogate.c, 0.0, alpha2,
        max_iter - 1, tol, False,
    )
    return Q @ U0, n_iter


class MultiTaskSharedRepRegressor(RegressorMixin, MultiOutputMixin, BaseSharedRep):
    r"""Multi-task linear regression through a shared low-rank representation.

    The ``T`` tasks share a linear representation ``Z = X U`` with ``k``
    components; task ``t`` reads its own head ``v_t`` from it, so the
    coefficient matrix ``W = U V`` has rank at most ``k``. Targets may be
    missing (NaN in ``y``): each task is fit on the samples where it is
    observed. The objective is

    .. math::

        \frac{1}{2n} \sum_{(i, t)\ \mathrm{observed}} s_i
        (y_{it} - x_i U v_t - b_t)^2
        + \frac{\alpha (1 - \rho)}{2} (\|U\|_F^2 + \|V\|_F^2)
        + \alpha \rho \|U\|_1

    with ``rho = l1_ratio``, sample weights ``s`` rescaled to sum to ``n``,
    ``U`` of shape ``(n_features, k)``, ``V`` of shape ``(k, T)`` and
    unpenalised intercepts ``b_t``.

    With ``l1_ratio=0`` the penalty is the variational form of the trace
    norm: whenever ``k`` is at least the rank of the solution (always the case
    for the default ``n_components=None``), the fitted ``W = U V`` solves the
    convex problem ``loss(W) + alpha * ||W||_*``. Lowering ``n_components``
    adds a hard rank constraint. ``l1_ratio > 0`` adds an L1 penalty on ``U``
    that selects features shared by all tasks.

    Parameters
    ----------
    n_components : int, default=None
        Number of shared components ``k``, between 1 and
        ``min(n_features, n_tasks)``. None uses ``min(n_features, n_tasks)``:
        the rank is then only controlled by ``alpha``.

    alpha : float, default=1.0
        Strength of the penalty, a positive float.

    l1_ratio : float, default=0.0
        Share of the penalty put on the L1 norm of ``U``, in ``[0, 1)``. The
        ridge part ``alpha * (1 - l1_ratio) / 2 (||U||_F^2 + ||V||_F^2)`` must
        remain: without it the L1 part could be shrunk to nothing by scaling
        ``U`` down and ``V`` up.

    fit_intercept : bool, default=True
        Whether to fit an unpenalised intercept per task. With missing targets,
        each task is centred on its own observed samples; a sparse ``X`` is
        never centred explicitly.

    task_weight : {"balanced"} or array-like of shape (n_tasks,), default=None
        Weight of each task in the loss. None: every observed entry counts
        the same, so tasks with more rows weigh more. "balanced": every task
        counts the same whatever its number of rows. An array: positive
        weights, one per task. Weights are rescaled so that the observed
        entries' total weight is unchanged (``alpha`` keeps its scale); on
        tasks observed on their own rows, task weights are the same as the
        corresponding sample weights.

    max_iter : int, default=1000
        Maximum number of iterations (see Notes: each is an L-BFGS step, an
        alternating step or an (extrapolated) EM step on ``U``, followed by the
        exact ``V`` step; the steps on the surrogate that starts the EM fit
        count too).

    tol : float, default=1e-4
        Stopping tolerance on the relative stationarity (see Notes).

    warm_start : bool, default=False
        When True and the shapes match, start from the ``components_`` of the
        previous fit instead of the ridge initialisation.

    random_state : int, RandomState instance or None, default=None
        Seeds the directions of the initial ``U`` that the ridge fit does not
        span (when ``n_components`` exceeds its rank). Pass an int for
        reproducible output across calls.

    verbose : int, default=0
        Print the stationarity measure at every iteration if positive.

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features) or (n_features,)
        Task coefficients ``(U V)^T``; 1-D when ``y`` is 1-D.

    intercept_ : ndarray of shape (n_tasks,) or float
        Task intercepts; a float when ``y`` is 1-D.

    components_ : ndarray of shape (n_components, n_features)
        The shared factor ``U^T``; ``transform(X)`` returns
        ``X @ components_.T``.

    heads_ : ndarray of shape (n_tasks, n_components) or (n_components,)
        The task heads ``V^T``, so that ``coef_ = heads_ @ components_``.

    n_iter_ : int
        Number of iterations run (1 when the zero solution is detected at
        once).

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.linear_model.MultiTaskLasso : Multi-task model with features
        selected jointly by an L1/L2 penalty.
    sklearn.cross_decomposition.PLSRegression : Shared components chosen by
        covariance, without a penalty.

    Notes
    -----
    **Solver.** The intercepts are eliminated by centring (each task on its
    own observed samples) and, for a given ``U``, the heads ``V`` by an exact
    ridge step (one ``k x k`` system per task). What remains is a function of
    ``U`` alone (plus the L1 part), minimised by L-BFGS with an Armijo line
    search (orthant-wise, OWL-QN, with ``l1_ratio > 0``); by the envelope
    theorem its gradient is the gradient of the objective in ``U`` at the
    optimal ``V``. The first iteration, and any iteration whose line search
    fails, is an exact alternating step instead: a Sylvester solve with fully
    observed targets, conjugate gradient otherwise, accelerated proximal
    gradient with an L1 part.

    The loss is held in one of four forms, chosen by cost. With every
    target observed and ``l1_ratio=0`` (and ``min(n_samples, n_features) <=
    3000``), everything runs in the eigenbasis of the shared Gram matrix: an
    iteration costs ``O(min(n, p) k T)`` whatever ``n``. Otherwise, when
    building the per-task sufficient statistics ``X_t^T S X_t`` (about
    ``p^2`` times the number of observed entries, ``T p^2`` numbers) costs less
    than the products with ``X`` that an iterative fit needs (about ``50 (4 n
    p k + 3 m k^2)`` for ``m`` observed entries), the fit runs on the
    statistics alone: tasks observed on their own rows (School) fit in
    milliseconds. With dense ``X``, ``l1_ratio=0`` and at most half of the
    targets missing, one pass builds the shared Gram matrix and ``X^T y``;
    the fit then starts from the minimiser of the fully observed loss that
    they approximate (each task's Gram matrix taken as the shared one times
    its observed share: no pass over ``X``) and runs EM steps on ``U`` (the
    missing targets filled with the current fit, the exact ``U`` step of
    the filled-in loss solved in the Gram matrix's eigenbasis, then the exact
    heads), extrapolated by Anderson acceleration when that lowers the
    objective. Each iteration takes two products with ``X`` and visits the
    missing entries only. Else each iteration takes two products with ``X``
    and reads the observed entries of ``y`` block by block: its memory is
    ``O(n k)`` beyond the data, never ``n x T``.

    **Centring.** Columns whose mean is large next to their spread (years,
    timestamps) are centred explicitly and the others implicitly, so that a
    constant added to ``X`` leaves the fit unchanged.

    With ``n_components`` below the rank of the trace-norm solution the
    problem is not convex: the fit returns a stationary point reached from a
    deterministic initialisation. When ``X^T X / n`` is the identity and the
    targets are fully observed it is the global minimum (the ``k`` leading
    singular values of the trace-norm solution); in general, and in
    particular with missing targets, it may be a local one.

    The initial ``U`` holds the leading left singular vectors of a ridge fit
    (fully observed targets) or of a diagonal ridge fit (missing targets),
    scaled by the square roots of the singular values, so it does not depend
    on luck; ``random_state`` only seeds the directions that fit does not
    span. When the spectral norm of ``C`` is at most ``alpha * (1 -
    l1_ratio)`` the solution is exactly zero and is returned at once.

    **Stopping rule.** After each V step the gradient in ``V`` is zero and the
    fit stops when the relative stationarity

    ``||d_U F||_F / max(||grad_U loss||_F, ||d_U penalty||_F) <= tol``,

    where ``d_U F`` is the minimum-norm subgradient of the objective in ``U``
    (with ``l1_ratio=0`` the two norms in the denominator are equal at a
    stationary point, so the measure is a relative residual). A
    :class:`~sklearn.exceptions.ConvergenceWarning` is raised when
    ``max_iter`` iterations do not reach it.

    **Score.** :meth:`score` is the mean over tasks of the coefficient of
    determination :math:`R^2` of each task, computed on its observed entries
    only (NaN targets are ignored).

    Examples
    --------
    >>> from sklearn_mtl import MultiTaskSharedRepRegressor
    >>> from sklearn_mtl.datasets import make_low_rank_tasks
    >>> X, X_test, Y, Y_test = make_low_rank_tasks(
    ...     n_samples=60, n_features=30, n_tasks=10, rank=2, noise=0.1,
    ...     missing_fraction=0.3, random_state=0)
    >>> reg = MultiTaskSharedRepRegressor(n_components=2, alpha=0.01).fit(X, Y)
    >>> reg.coef_.shape, reg.components_.shape, reg.transform(X).shape
    ((10, 30), (2, 30), (60, 2))
    >>> bool(reg.score(X_test, Y_test) > 0.8)
    True
    """

    _parameter_constraints: dict = {
        **BaseSharedRep._parameter_constraints,
        "task_weight": [None, StrOptions({"balanced"}), "array-like"],
    }

    def __init__(
        self,
        n_components=None,
        *,
        alpha=1.0,
        l1_ratio=0.0,
        fit_intercept=True,
        task_weight=None,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            n_components,
            alpha=alpha,
            l1_ratio=l1_ratio,
            fit_intercept=fit_intercept,
            max_iter=max_iter,
            tol=tol,
            warm_start=warm_start,
            random_state=random_state,
            verbose=verbose,
        )
        self.task_weight = task_weight

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the shared representation and the task heads.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse CSR or CSC input is never densified.

        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets; NaN (or None, or pandas' ``NA``) marks a target that was
            not observed.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights, rescaled to sum to ``n_samples``.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if type(X).__module__.startswith("dask."):  # out of core: sklearn_mtl._dask
            from .. import _dask
            return _dask.fit(self, X, y, sample_weight)
        X, y = validate_data(
            self,
            X,
            as_float_targets(y),
            validate_separately=(
                dict(accept_sparse=("csr", "csc"), dtype=[np.float64, np.float32]),
                dict(ensure_2d=False, dtype=np.float64, ensure_all_finite="allow-nan"),
            ),
        )
        check_consistent_length(X, y)
        single_task = y.ndim == 1
        Y = y.reshape(-1, 1) if single_task else y
        n_samples, n_features = X.shape
        n_tasks = Y.shape[1]
        k = self._n_components(n_features, n_tasks, "min(n_features, n_tasks)")
        sw = rescaled_sample_weight(sample_weight, X)
        rng = check_random_state(self.random_state)
        U_prev = self._previous_factor(n_features, k)
        problem = prepare_problem(
            X, Y, sw, self.task_weight, self.fit_intercept, self.l1_ratio > 0, [k],
            single_task,
        )
        return self._fit_problem(problem, k, U_prev, rng, single_task, X.dtype)

    def _fit_problem(self, problem, k, U_prev, rng, single_task, dtype, stacklevel=5):
        """Solve a prepared problem (in memory or from a distributed pass),
        warn if it did not converge (at the caller of ``fit``: ``stacklevel``
        counts the frames from here), and store the model."""
        U, V, n_iter, measure, status = solve_problem(
            problem, self.alpha, self.l1_ratio, k,
            None if U_prev is None else problem.to_internal(U_prev), rng,
            self.max_iter, self.tol, self.verbose,
        )
        warn_not_converged(
            self, status, measure, self.tol, n_iter, "relative stationarity",
            stacklevel=stacklevel,
        )
        self._set_fitted(problem, U, V, n_iter, single_task, dtype)
        return self

    def _set_fitted(self, problem, U, V, n_iter, single_task, dtype):
        """Store the attributes of the model ``U V`` (internal units)."""
        U, V, coef, intercept = problem.user_model(U, V)
        self.n_iter_ = int(n_iter)
        self.components_ = np.ascontiguousarray(in_data_dtype(U.T, dtype, "components_"))
        if single_task:
            self.coef_ = in_data_dtype(coef[0], dtype, "coef_")
            self.intercept_ = float(intercept[0])
            self.heads_ = in_data_dtype(V[:, 0], dtype, "heads_")
        else:
            self.coef_ = np.ascontiguousarray(in_data_dtype(coef, dtype, "coef_"))
            self.intercept_ = in_data_dtype(intercept, dtype, "intercept_")
            self.heads_ = np.ascontiguousarray(in_data_dtype(V.T, dtype, "heads_"))

    def predict(self, X):
        """Predict every task for every sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_tasks)
            Predictions; 1-D when the model was fit on a 1-D ``y``.
        """
        if type(X).__module__.startswith("dask."):  # lazy, block by block
            from .. import _dask
            return _dask.predict(self, X)
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=[np.float64, np.float32],
            reset=False,
        )
        return linear_predict(X, self.coef_.astype(X.dtype, copy=False), self.intercept_)

    def score(self, X, y, sample_weight=None):
        """Mean over tasks of the R^2 of each task on its observed entries.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.

        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            True targets; NaN marks a target that is not observed and is
            ignored. Tasks with fewer than two observed targets are skipped.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Mean R^2 over tasks.
        """
        if type(X).__module__.startswith("dask."):  # one pass over the blocks
            from .. import _dask
            return _dask.score(self, X, y, sample_weight)
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse=("csr", "csc"), dtype=[np.float64, np.float32],
            reset=False,
        )
        y = check_array(
            as_float_targets(y), ensure_2d=False, dtype=np.float64,
            ensure_all_finite="allow-nan",
        )
        check_consistent_length(X, y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        if not np.isnan(y).any():
            return float(r2_score(y, self.predict(X), sample_weight=sample_weight))
        # Each task's R^2 on its observed entries, all tasks at once (as
        # r2_score: 1 when a constant task is predicted exactly, else 0), from
        # the predictions of the observed entries only.
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        n_tasks = Y.shape[1]
        rows, tasks = np.nonzero(~np.isnan(Y))
        coef = np.asarray(self.coef_, dtype=np.float64).reshape(n_tasks, -1)
        intercept = np.broadcast_to(np.asarray(self.intercept_, dtype=np.float64), (n_tasks,))
        if sp.issparse(X):
            predicted = np.asarray(X @ coef.T)[rows, tasks]
        else:
            predicted = np.einsum("ij,ij->i", X[rows], coef[tasks])
        predicted = predicted + intercept[tasks]
        observed = Y[rows, tasks]
        w = np.ones(rows.size) if sample_weight is None else sample_weight[rows]
        total = np.bincount(tasks, weights=w, minlength=n_tasks)
        mean = np.bincount(tasks, weights=w * observed, minlength=n_tasks)
        mean /= np.where(total > 0, total, 1.0)
        residual = np.bincount(tasks, weights=w * (observed - predicted) ** 2, minlength=n_tasks)
        spread = np.bincount(tasks, weights=w * (observed - mean[tasks]) ** 2, minlength=n_tasks)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(spread > 0, 1.0 - residual / spread, np.where(residual == 0, 1.0, 0.0))
        scores = r2[np.bincount(tasks, minlength=n_tasks) >= 2]
        return float(scores.mean()) if scores.size else float("nan")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
