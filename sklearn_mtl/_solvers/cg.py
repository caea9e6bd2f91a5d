"""Preconditioned conjugate gradient, the one used by every quadratic sub-problem.

Solves ``H x = b`` for a symmetric positive semi-definite ``H`` given as a
product ``matvec``. Vectors may be arrays of any shape (``vdot`` is the inner
product). The caller decides when to stop (``stop(x, residual)``: a duality
gap, a relative residual), and ``max_iter`` bounds the products.
"""

import numpy as np


def conjugate_gradient(matvec, b, x, max_iter, stop, precond=None):
    """Run preconditioned CG from ``x`` (not modified).

    Parameters
    ----------
    matvec : callable
        ``v -> H v``.
    b : ndarray
    x : ndarray
        Starting point.
    max_iter : int
        Maximum number of products with ``H``.
    stop : callable
        ``stop(x, residual)`` with ``residual = b - H x``, checked before
        every product and at the end: None to go on, or the status to end
        with (e.g. "converged", or "stalled" when the caller sees that
        rounding stops the progress).
    precond : callable, optional
        ``v -> M^{-1} v`` for a symmetric positive definite ``M``.

    Returns
    -------
    x : ndarray
    n_iter : int
        Products with ``H`` spent.
    status : str
        What ``stop`` returned, "max_iter", "non-finite", or "curvature"
        when a direction of zero or negative curvature ends the iterations
        (the current ``x`` is returned).
    """
    x = np.array(x, dtype=np.float64)
    residual = b - matvec(x)
    z = residual if precond is None else precond(residual)
    direction = z.copy()
    rz = np.vdot(residual, z)
    for it in range(max_iter):
        status = stop(x, residual)
        if status is not None:
            return x, it, status
        if not np.isfinite(rz):
            return x, it, "non-finite"
        H_direction = matvec(direction)
        curvature = np.vdot(direction, H_direction)
        if not curvature > 0:
            return x, it + 1, "curvature" if np.isfinite(curvature) else "non-finite"
        step = rz / curvature
        if not np.isfinite(step):
            return x, it + 1, "non-finite"
        x += step * direction
        residual -= step * H_direction
        z = residual if precond is None else precond(residual)
        rz_new = np.vdot(residual, z)
        direction = z + (rz_new / rz) * direction if rz != 0 else z.copy()
        rz = rz_new
    status = stop(x, residual)
    return x, max_iter, "max_iter" if status is None else status
