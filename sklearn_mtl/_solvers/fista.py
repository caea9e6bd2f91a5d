"""Accelerated proximal gradient (FISTA) with backtracking and monotone restart.

Minimises ``f(x) + g(x)`` for a smooth ``f`` and a ``g`` with a cheap prox.
The step is ``1 / L`` with ``L`` doubled until the quadratic upper bound
holds; it never grows back (near the optimum the test compares values at
rounding level, and a growing step would accept noise). Momentum is dropped
whenever the accelerated point would raise the objective, so the objective
never increases. Every loop is bounded: at most ``max_iter`` iterations, and
at most ``_MAX_DOUBLINGS`` doublings of ``L`` in all (beyond them rounding,
not curvature, fails the test, and the run ends as "stalled").
"""

import numpy as np

_MAX_DOUBLINGS = 60


def fista(x0, evaluate, prox, nonsmooth, lipschitz, *, max_iter, tol, verbose=False):
    """Run FISTA from ``x0``.

    Parameters
    ----------
    x0 : ndarray
    evaluate : callable
        ``x -> (f(x), grad f(x))``.
    prox : callable
        ``(v, step) -> prox_{step g}(v)``.
    nonsmooth : callable
        ``x -> g(x)``.
    lipschitz : float
        Initial estimate of the Lipschitz constant of ``grad f``; an
        underestimate is safe (backtracking doubles it).
    max_iter : int
    tol : float
        Stop when the gradient mapping ``L ||x_new - y||_inf`` is at most
        ``tol``.

    Returns
    -------
    x, n_iter, measure, status
        ``status`` is "converged", "max_iter", "stalled" or "non-finite".
    """
    lipschitz = max(float(lipschitz), np.finfo(np.float64).tiny)
    doublings = 0

    def prox_step(y):
        nonlocal lipschitz, doublings
        f_y, g_y = evaluate(y)
        for _ in range(_MAX_DOUBLINGS + 1):
            x_new = prox(y - g_y / lipschitz, 1.0 / lipschitz)
            d = x_new - y
            # A step too long may overflow: the test fails (inf or NaN is
            # never below the bound) and L doubles, as for any underestimate.
            with np.errstate(over="ignore", invalid="ignore"):
                f_new, _ = evaluate(x_new)
                bound = f_y + np.vdot(g_y, d) + 0.5 * lipschitz * np.vdot(d, d)
            if f_new <= bound:
                break
            if doublings >= _MAX_DOUBLINGS:
                return x_new, np.inf, np.inf, False
            lipschitz *= 2.0
            doublings += 1
        else:
            return x_new, np.inf, np.inf, False
        measure = lipschitz * np.abs(d).max() if d.size else 0.0
        return x_new, f_new + nonsmooth(x_new), measure, True

    x = np.array(x0, dtype=np.float64)
    x_prev = x
    F_x = evaluate(x)[0] + nonsmooth(x)
    t = 1.0
    measure = np.inf
    for n_iter in range(1, max_iter + 1):
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        beta = (t - 1.0) / t_next
        y = x + beta * (x - x_prev) if beta > 0 else x
        x_new, F_new, measure, ok = prox_step(y)
        if ok and F_new > F_x and beta > 0:
            t_next = 1.0
            x_new, F_new, measure, ok = prox_step(x)
        if not ok:
            status = "non-finite" if not np.isfinite(F_x) else "stalled"
            return x, n_iter, measure, status
        x_prev, x, F_x, t = x, x_new, F_new, t_next
        if verbose:
            print(f"iteration {n_iter}: objective {F_x:.8e}, prox-gradient {measure:.3e}")
        if measure <= tol:
            return x, n_iter, measure, "converged"
    return x, max_iter, measure, "max_iter"
