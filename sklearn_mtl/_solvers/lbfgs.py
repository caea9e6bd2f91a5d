"""L-BFGS with an Armijo line search; orthant-wise (OWL-QN) with an L1 part.

Minimises ``f(x) + l1 ||x * mask||_1`` for a smooth ``f`` given with its
gradient. With an L1 part the pseudo-gradient replaces the gradient, the
direction is kept in the descent orthant and every trial point in the
orthant of the current one (Andrew and Gao, 2007). The line search halves the
step at most ``_LINE_SEARCH_STEPS`` times; when it fails, an optional
``fallback`` step that always lowers the objective (an exact alternating step,
say) is taken and the memory restarts. Every loop is bounded: ``max_iter``
iterations, each with a bounded number of evaluations.
"""

import numpy as np

from .._penalties import factor_pseudo_gradient
from ._stall import ROUNDING_ULPS, StallWatch

_MEMORY = 10
_LINE_SEARCH_STEPS = 20
_ARMIJO = 1e-4
# A fallback step may raise the objective by ROUNDING_ULPS (rounding), and
# the run is stalled when for this many iterations neither the measure
# reached a new best nor the objective fell by more than that.
_STALL_ITERATIONS = 20


def lbfgs(
    x0,
    evaluate,
    *,
    max_iter,
    measure,
    tol,
    l1=0.0,
    l1_mask=None,
    fallback=None,
    first_step=None,
    curvature=0.0,
    preconditioner=None,
    verbose=False,
    measure_name="measure",
):
    """Run (OWL-QN) L-BFGS from ``x0``.

    Parameters
    ----------
    x0 : ndarray
        Starting point (any shape; not modified).
    evaluate : callable
        ``x -> (value, grad, extra)``: the smooth part, its gradient and
        anything the caller wants back with the final point.
    max_iter : int
    measure : callable
        ``(x, pseudo_grad, extra) -> float``: the optimality measure; the
        run stops when it is at most ``tol``.
    tol : float
    l1 : float, default=0
        Weight of the L1 part.
    l1_mask : ndarray of bool or None
        Entries of ``x`` the L1 part applies to (all when None).
    fallback : callable or None
        ``(x, grad, extra) -> x_new``, a step that lowers the objective,
        taken when the line search fails and at the first iteration.
    first_step : float or None
        Length of the first (steepest descent) step when there is no
        fallback; default ``1 / ||grad||_inf``, at most ``1 / curvature``.
    curvature : float, default=0
        A lower bound on the smooth part's curvature (an L2 penalty's
        weight). A gradient that is tiny because the data are tiny would
        otherwise make the first step huge, far past the penalty's minimum,
        where no halving of the line search comes back.
    preconditioner : callable or None
        ``(x, extra) -> d``, a positive diagonal approximating the Hessian:
        the initial inverse Hessian of the two-loop recursion is ``1 / d``
        instead of a scalar, which evens out badly scaled variables.
    verbose : bool
    measure_name : str
        What the measure is called in the verbose output.

    Returns
    -------
    x, extra, n_iter, measure_value, status
        ``status`` is "converged", "max_iter", "stalled" (no step lowers the
        objective in floating point) or "non-finite".
    """
    mask = None if l1 == 0 else (
        np.ones(x0.shape, dtype=bool) if l1_mask is None else l1_mask
    )

    def total(x, value):
        return value + (l1 * np.abs(x[mask]).sum() if mask is not None else 0.0)

    def pseudo(x, grad):
        if mask is None:
            return grad
        out = grad.copy()
        out[mask] = factor_pseudo_gradient(grad[mask], x[mask], l1)
        return out

    # Overflow shows up as non-finite values, which end the run with a
    # status; numpy need not warn about it on the way.
    with np.errstate(over="ignore", invalid="ignore"):
        return _lbfgs(
            x0, evaluate, max_iter, measure, tol, l1, mask, total, pseudo,
            fallback, first_step, curvature, preconditioner, verbose,
            measure_name,
        )


def _lbfgs(x0, evaluate, max_iter, measure, tol, l1, mask, total, pseudo,
           fallback, first_step, curvature, preconditioner, verbose,
           measure_name):
    x = np.array(x0, dtype=np.float64)
    value, grad, extra = evaluate(x)
    objective = total(x, value)
    s_hist, y_hist = [], []
    current = measure(x, pseudo(x, grad), extra)
    if not np.isfinite(objective):
        return x, extra, 0, current, "non-finite"
    n_iter = 0
    status = "max_iter"
    watch = StallWatch(_STALL_ITERATIONS)
    watch.stalled(current, objective)
    for it in range(max_iter):
        if current <= tol:
            status = "converged"
            break
        pg = pseudo(x, grad)
        accepted = False
        if s_hist or fallback is None:
            if s_hist:
                diagonal = None if preconditioner is None else preconditioner(x, extra)
                direction = -_two_loop(pg, s_hist, y_hist, diagonal)
            else:
                step0 = first_step
                if step0 is None:
                    top = np.abs(pg).max()
                    step0 = 1.0 / top if top > 0 else 1.0
                    if curvature > 0:
                        step0 = min(step0, 1.0 / curvature)
                direction = -step0 * pg
            if mask is not None:
                direction[mask & (direction * pg >= 0)] = 0.0
                orthant = np.where(x != 0, np.sign(x), -np.sign(pg))
            slope = np.vdot(pg, direction)
            step = 1.0
            if np.isfinite(slope) and slope < 0:
                for _ in range(_LINE_SEARCH_STEPS):
                    x_new = x + step * direction
                    if mask is not None:
                        x_new[mask & (np.sign(x_new) != orthant)] = 0.0
                    value_new, grad_new, extra_new = evaluate(x_new)
                    objective_new = total(x_new, value_new)
                    if objective_new <= objective + _ARMIJO * np.vdot(pg, x_new - x):
                        accepted = True
                        break
                    step *= 0.5
        if not accepted:
            if fallback is None:
                status = "stalled"
                break
            x_new = fallback(x, grad, extra)
            value_new, grad_new, extra_new = evaluate(x_new)
            objective_new = total(x_new, value_new)
            s_hist.clear()
            y_hist.clear()
            slack = ROUNDING_ULPS * np.finfo(np.float64).eps * abs(objective)
            if not objective_new <= objective + slack:
                status = "stalled" if np.isfinite(objective_new) else "non-finite"
                break
        if not (np.isfinite(objective_new) and np.all(np.isfinite(grad_new))):
            status = "non-finite"
            break
        s_vec = x_new - x
        y_vec = grad_new - grad
        sy = np.vdot(s_vec, y_vec)
        if np.isfinite(sy) and sy > max(
            1e-10 * np.linalg.norm(s_vec) * np.linalg.norm(y_vec), 1e-300
        ):
            s_hist.append(s_vec)
            y_hist.append(y_vec)
            if len(s_hist) > _MEMORY:
                s_hist.pop(0)
                y_hist.pop(0)
        x, value, grad, extra, objective = x_new, value_new, grad_new, extra_new, (
            objective_new
        )
        current = measure(x, pseudo(x, grad), extra)
        n_iter = it + 1
        if verbose:
            kind = "L-BFGS" if accepted else "fallback"
            print(
                f"iteration {n_iter} ({kind}): objective {objective:.12e}, "
                f"{measure_name} {current:.3e}"
            )
        if watch.stalled(current, objective) and current > tol:
            status = "stalled"
            break
    else:
        if current <= tol:
            status = "converged"
    return x, extra, n_iter, current, status


def _two_loop(grad, s_hist, y_hist, diagonal=None):
    """L-BFGS two-loop recursion: approximate inverse Hessian times ``grad``.

    The initial inverse Hessian is ``1 / diagonal`` when given (scaled so
    that it agrees with the last curvature pair), else the usual scalar.
    """
    q = grad.copy()
    rhos = [1.0 / np.vdot(y, s) for s, y in zip(s_hist, y_hist)]
    alphas = []
    for s, y, rho in zip(reversed(s_hist), reversed(y_hist), reversed(rhos)):
        a = rho * np.vdot(s, q)
        alphas.append(a)
        q -= a * y
    s, y = s_hist[-1], y_hist[-1]
    if diagonal is None:
        q *= np.vdot(s, y) / np.vdot(y, y)
    else:
        q /= diagonal
        q *= np.vdot(s, y) / np.vdot(y, y / diagonal)
    for s, y, rho, a in zip(s_hist, y_hist, rhos, reversed(alphas)):
        b = rho * np.vdot(y, q)
        q += (a - b) * s
    return q
