"""Accelerated proximal gradient (FISTA with adaptive restart) for the elastic net.

Solves the n-scaled problem of :mod:`sklearn_mtl._penalties`::

    min_w 1/2 ||y - A w||^2 + l1_reg ||w||_1 + l2_reg / 2 ||w||^2

with ``A`` the design of :mod:`sklearn_mtl._kernels._design`.
"""

import numpy as np
from numba import njit

from .._penalties import enet_duality_gap, enet_prox_coordinate
from ._design import design_dot, design_tdot


@njit(cache=True)
def _half_sq_norm(v):
    acc = 0.0
    for i in range(v.shape[0]):
        acc += v[i] * v[i]
    return 0.5 * acc


@njit(cache=True, nogil=True)
def enet_fista(
    X,
    data,
    indices,
    indptr,
    offset,
    row_scale,
    is_sparse,
    y,
    w,
    l1_reg,
    l2_reg,
    positive,
    lipschitz,
    max_iter,
    tol,
    gap_every,
    rel_eps,
):
    """Run FISTA from ``w`` (updated in place) until the duality gap is below ``tol``.

    ``lipschitz`` is an estimate of ``||A||_2^2``; backtracking doubles it
    whenever the quadratic upper bound fails, so an underestimate is safe.
    Momentum restarts when it points against the last step (O'Donoghue and
    Candes' gradient restart). ``rel_eps`` is the relative slack allowed in the
    backtracking test for rounding in the data's precision.

    Returns ``(gap, n_iter, lipschitz)``.
    """
    n_samples = y.shape[0]
    n_features = w.shape[0]
    dtype = y.dtype

    z = w.copy()
    w_new = np.empty(n_features, dtype=dtype)
    grad = np.empty(n_features, dtype=dtype)
    Aw = np.empty(n_samples, dtype=dtype)
    design_dot(X, data, indices, indptr, offset, row_scale, is_sparse, w, Aw)
    Az = Aw.copy()
    Aw_new = np.empty(n_samples, dtype=dtype)
    r_z = np.empty(n_samples, dtype=dtype)
    r_new = np.empty(n_samples, dtype=dtype)

    t = 1.0
    gap = np.inf
    n_iter = 0
    for it in range(max_iter):
        n_iter = it + 1
        for i in range(n_samples):
            r_z[i] = y[i] - Az[i]
        f_z = _half_sq_norm(r_z)
        design_tdot(X, data, indices, indptr, offset, row_scale, is_sparse, r_z, grad)

        # Backtracking on the quadratic upper bound at z.
        while True:
            step = 1.0 / lipschitz
            for j in range(n_features):
                w_new[j] = enet_prox_coordinate(
                    z[j] + step * grad[j], step * l1_reg, step * l2_reg, positive
                )
            design_dot(
                X, data, indices, indptr, offset, row_scale, is_sparse, w_new, Aw_new
            )
            for i in range(n_samples):
                r_new[i] = y[i] - Aw_new[i]
            f_new = _half_sq_norm(r_new)
            lin = 0.0
            quad = 0.0
            for j in range(n_features):
                d = w_new[j] - z[j]
                lin -= grad[j] * d
                quad += d * d
            bound = f_z + lin + 0.5 * lipschitz * quad
            if f_new <= bound + rel_eps * (abs(f_z) + 1e-300):
                break
            lipschitz *= 2.0

        # Restart momentum when it points against the step just taken.
        direction = 0.0
        for j in range(n_features):
            direction += (z[j] - w_new[j]) * (w_new[j] - w[j])
        if direction > 0.0:
            t = 1.0
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        momentum = (t - 1.0) / t_next
        t = t_next

        for j in range(n_features):
            z[j] = w_new[j] + momentum * (w_new[j] - w[j])
            w[j] = w_new[j]
        for i in range(n_samples):
            Az[i] = Aw_new[i] + momentum * (Aw_new[i] - Aw[i])
            Aw[i] = Aw_new[i]

        if n_iter % gap_every == 0 or n_iter == max_iter:
            design_tdot(
                X, data, indices, indptr, offset, row_scale, is_sparse, r_new, grad
            )
            gap = enet_duality_gap(
                w, r_new, y, grad, l1_reg, l2_reg, positive, lipschitz
            )
            if gap <= tol:
                break
    return gap, n_iter, lipschitz
