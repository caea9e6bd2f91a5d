"""Epochs of coordinate proximal steps on a working set, with Anderson extrapolation.

Each kernel minimises the n-scaled elastic net restricted to the features of
a working set ``ws``::

    1/2 ||y - A w||^2 + l1_reg ||w||_1 + l2_reg / 2 ||w||^2

one coordinate at a time, each with its own step ``1 / ||A_j||^2``
(soft-thresholding, then L2 shrinkage). Every ``anderson_k + 1`` epochs the
last iterates are extrapolated (Anderson acceleration) and the extrapolated
point is kept when it lowers the objective. An epoch ends the call when the
largest optimality violation on the working set is at most ``tol``, or when
no coordinate moved by more than rounding (a fixed point). The three kernels
differ only in how they hold ``A``: a dense matrix, a CSC matrix, or the Gram
matrix ``A.T A`` of the working set. The outer loop, which picks the working
sets and checks the duality gap, is :mod:`sklearn_mtl._solvers.working_set`.

Residuals and accumulators are float64 whatever the dtype of ``X``.
"""

import numpy as np
from numba import njit

from ._prox import enet_prox_scalar

# Reassociation lets LLVM vectorise the column dot products as BLAS would; no
# assumption on NaN or infinity is made.
_FAST = {"reassoc", "contract", "nsz"}


@njit(cache=True)
def kkt_violation(g, wj, l1_reg, positive):
    """Distance from ``g`` (minus the gradient of the smooth part) to ``l1 d|wj|``."""
    if wj > 0.0:
        return abs(g - l1_reg)
    if wj < 0.0:
        return abs(g + l1_reg)
    if positive:
        return max(g - l1_reg, 0.0)
    return max(abs(g) - l1_reg, 0.0)


@njit(cache=True)
def anderson_weights(history, n_rows):
    """Anderson weights of the last ``n_rows - 1`` iterates, or empty if singular.

    Minimises ``||sum_a z_a (x_{a+1} - x_a)||`` subject to ``sum_a z_a = 1``
    by solving ``M z = 1`` (``M`` the Gram matrix of the differences) with
    Gaussian elimination and partial pivoting, then normalising.
    """
    K = n_rows - 1
    m = history.shape[1]
    M = np.empty((K, K))
    for a in range(K):
        for b in range(a, K):
            acc = 0.0
            for i in range(m):
                acc += (history[a + 1, i] - history[a, i]) * (
                    history[b + 1, i] - history[b, i]
                )
            M[a, b] = acc
            M[b, a] = acc
    rhs = np.ones(K)
    scale = 0.0
    for a in range(K):
        scale = max(scale, M[a, a])
    if not scale > 0.0:
        return np.empty(0)
    for col in range(K):
        piv = col
        for r in range(col + 1, K):
            if abs(M[r, col]) > abs(M[piv, col]):
                piv = r
        if abs(M[piv, col]) <= 1e-14 * scale:
            return np.empty(0)
        for b in range(K):
            M[col, b], M[piv, b] = M[piv, b], M[col, b]
        rhs[col], rhs[piv] = rhs[piv], rhs[col]
        for r in range(col + 1, K):
            f = M[r, col] / M[col, col]
            for b in range(col, K):
                M[r, b] -= f * M[col, b]
            rhs[r] -= f * rhs[col]
    z = np.empty(K)
    for a in range(K - 1, -1, -1):
        acc = rhs[a]
        for b in range(a + 1, K):
            acc -= M[a, b] * z[b]
        z[a] = acc / M[a, a]
    total = z.sum()
    if total == 0.0 or not np.isfinite(total):
        return np.empty(0)
    return z / total


@njit(cache=True)
def _combine(z, history):
    """``sum_a z[a] history[a + 1]``: the extrapolated point."""
    out = np.zeros(history.shape[1])
    for a in range(z.shape[0]):
        for i in range(history.shape[1]):
            out[i] += z[a] * history[a + 1, i]
    return out


@njit(cache=True)
def _penalty(w, l1_reg, l2_reg):
    acc = 0.0
    for i in range(w.shape[0]):
        acc += l1_reg * abs(w[i]) + 0.5 * l2_reg * w[i] * w[i]
    return acc


@njit(cache=True, fastmath=_FAST)
def _dot_column(X, j, r):
    acc = 0.0
    for i in range(r.shape[0]):
        acc += X[i, j] * r[i]
    return acc


@njit(cache=True, fastmath=_FAST)
def _sq_norm(r):
    acc = 0.0
    for i in range(r.shape[0]):
        acc += r[i] * r[i]
    return acc


@njit(cache=True, nogil=True, fastmath=_FAST)
def cd_epochs_dense(
    X, offset, ws, w, r, sq_norms, l1_reg, l2_reg, positive, tol, max_epochs, anderson_k
):
    """Epochs on the working set ``ws`` of a dense design; returns the epoch count.

    ``A = X - 1 offset^T`` (``offset`` zero for a design centred explicitly)
    and ``r = y - A w`` is updated in place, as is ``w``.
    """
    m = ws.shape[0]
    n = r.shape[0]
    # The columns of A sum to zero wherever offset is non-zero, so sum(r) is
    # left unchanged by the updates.
    total = r.sum()
    hist_w = np.empty((anderson_k + 1, m))
    hist_r = np.empty((anderson_k + 1, n))
    n_hist = 0
    ulp = 4.0 * np.finfo(np.float64).eps
    epochs = 0
    for epoch in range(max_epochs):
        epochs = epoch + 1
        violation = 0.0
        max_step = 0.0
        max_w = 0.0
        for k in range(m):
            j = ws[k]
            L = sq_norms[j]
            if L <= 0.0:
                continue
            g = _dot_column(X, j, r) - offset[j] * total
            wj = w[j]
            violation = max(
                violation, kkt_violation(g - l2_reg * wj, wj, l1_reg, positive)
            )
            new = enet_prox_scalar(wj + g / L, l1_reg / L, l2_reg / L, positive)
            max_w = max(max_w, abs(new))
            if new != wj:
                d = new - wj
                max_step = max(max_step, abs(d))
                w[j] = new
                off = offset[j]
                for i in range(n):
                    r[i] -= d * (X[i, j] - off)
        if violation <= tol or max_step <= ulp * max_w:
            break
        if anderson_k == 0:
            continue
        for k in range(m):
            hist_w[n_hist, k] = w[ws[k]]
        hist_r[n_hist] = r
        n_hist += 1
        if n_hist < anderson_k + 1:
            continue
        n_hist = 0
        z = anderson_weights(hist_w, anderson_k + 1)
        if z.shape[0] == 0:
            continue
        w_acc = _combine(z, hist_w)
        if positive and w_acc.min() < 0.0:
            continue
        r_acc = _combine(z, hist_r)
        w_cur = np.empty(m)
        for k in range(m):
            w_cur[k] = w[ws[k]]
        if 0.5 * _sq_norm(r_acc) + _penalty(w_acc, l1_reg, l2_reg) < 0.5 * _sq_norm(
            r
        ) + _penalty(w_cur, l1_reg, l2_reg):
            for k in range(m):
                w[ws[k]] = w_acc[k]
            r[:] = r_acc
    return epochs


@njit(cache=True, nogil=True)
def cd_epochs_sparse(
    data,
    indices,
    indptr,
    offset,
    row_scale,
    ws,
    w,
    r_s,
    state,
    sq_norms,
    l1_reg,
    l2_reg,
    positive,
    tol,
    max_epochs,
    anderson_k,
):
    """Epochs on the working set ``ws`` of a CSC design; returns the epoch count.

    ``A = X - row_scale offset^T`` with ``X`` in CSC form. The residual is
    held as ``r = r_s + c row_scale`` so that the implicit centring stays
    implicit: ``r_s = y - X w`` is updated on the column's non-zeros only,
    and ``state = [c, t]`` with ``c = offset @ w`` and ``t = row_scale @ r_s``.
    Then ``A_j^T r = X_j^T r_s - offset_j t`` (the column sums of ``X``
    weighted by ``row_scale`` are ``sum(row_scale^2) offset_j``).
    """
    m = ws.shape[0]
    n = r_s.shape[0]
    nrs = _sq_norm(row_scale)
    c = state[0]
    t = state[1]
    hist_w = np.empty((anderson_k + 1, m))
    hist_r = np.empty((anderson_k + 1, n))
    hist_ct = np.empty((anderson_k + 1, 2))
    n_hist = 0
    ulp = 4.0 * np.finfo(np.float64).eps
    epochs = 0
    for epoch in range(max_epochs):
        epochs = epoch + 1
        violation = 0.0
        max_step = 0.0
        max_w = 0.0
        for k in range(m):
            j = ws[k]
            L = sq_norms[j]
            if L <= 0.0:
                continue
            acc = 0.0
            for kk in range(indptr[j], indptr[j + 1]):
                acc += data[kk] * r_s[indices[kk]]
            g = acc - offset[j] * t
            wj = w[j]
            violation = max(
                violation, kkt_violation(g - l2_reg * wj, wj, l1_reg, positive)
            )
            new = enet_prox_scalar(wj + g / L, l1_reg / L, l2_reg / L, positive)
            max_w = max(max_w, abs(new))
            if new != wj:
                d = new - wj
                max_step = max(max_step, abs(d))
                w[j] = new
                for kk in range(indptr[j], indptr[j + 1]):
                    r_s[indices[kk]] -= d * data[kk]
                c += d * offset[j]
                t -= d * nrs * offset[j]
        if violation <= tol or max_step <= ulp * max_w:
            break
        if anderson_k == 0:
            continue
        for k in range(m):
            hist_w[n_hist, k] = w[ws[k]]
        hist_r[n_hist] = r_s
        hist_ct[n_hist, 0] = c
        hist_ct[n_hist, 1] = t
        n_hist += 1
        if n_hist < anderson_k + 1:
            continue
        n_hist = 0
        z = anderson_weights(hist_w, anderson_k + 1)
        if z.shape[0] == 0:
            continue
        w_acc = _combine(z, hist_w)
        if positive and w_acc.min() < 0.0:
            continue
        r_acc = _combine(z, hist_r)
        ct_acc = _combine(z, hist_ct)
        w_cur = np.empty(m)
        for k in range(m):
            w_cur[k] = w[ws[k]]
        obj_acc = 0.5 * (
            _sq_norm(r_acc) + 2.0 * ct_acc[0] * ct_acc[1] + ct_acc[0] ** 2 * nrs
        ) + _penalty(w_acc, l1_reg, l2_reg)
        obj_cur = 0.5 * (_sq_norm(r_s) + 2.0 * c * t + c * c * nrs) + _penalty(
            w_cur, l1_reg, l2_reg
        )
        if obj_acc < obj_cur:
            for k in range(m):
                w[ws[k]] = w_acc[k]
            r_s[:] = r_acc
            c = ct_acc[0]
            t = ct_acc[1]
    state[0] = c
    state[1] = t
    return epochs


@njit(cache=True, nogil=True)
def cd_epochs_gram(G, b, w, q, l1_reg, l2_reg, positive, tol, max_epochs, anderson_k):
    """Epochs on ``1/2 w G w - b w + penalty``; returns the epoch count.

    ``G`` and ``b`` are the working set's block of ``A.T A`` and ``A.T y``,
    and ``q = b - G w`` is kept up to date (``w`` and ``q`` in place).
    """
    m = w.shape[0]
    hist_w = np.empty((anderson_k + 1, m))
    n_hist = 0
    ulp = 4.0 * np.finfo(np.float64).eps
    epochs = 0
    for epoch in range(max_epochs):
        epochs = epoch + 1
        violation = 0.0
        max_step = 0.0
        max_w = 0.0
        for k in range(m):
            L = G[k, k]
            if L <= 0.0:
                continue
            wk = w[k]
            g = q[k]
            violation = max(
                violation, kkt_violation(g - l2_reg * wk, wk, l1_reg, positive)
            )
            new = enet_prox_scalar(wk + g / L, l1_reg / L, l2_reg / L, positive)
            max_w = max(max_w, abs(new))
            if new != wk:
                d = new - wk
                max_step = max(max_step, abs(d))
                w[k] = new
                for i in range(m):
                    q[i] -= d * G[k, i]
        if violation <= tol or max_step <= ulp * max_w:
            break
        if anderson_k == 0:
            continue
        hist_w[n_hist] = w
        n_hist += 1
        if n_hist < anderson_k + 1:
            continue
        n_hist = 0
        z = anderson_weights(hist_w, anderson_k + 1)
        if z.shape[0] == 0:
            continue
        w_acc = _combine(z, hist_w)
        if positive and w_acc.min() < 0.0:
            continue
        q_acc = b.copy()
        for k in range(m):
            for i in range(m):
                q_acc[i] -= G[k, i] * w_acc[k]
        # Objective up to a constant: -1/2 w.(b + q) + penalty.
        obj_acc = _penalty(w_acc, l1_reg, l2_reg)
        obj_cur = _penalty(w, l1_reg, l2_reg)
        for i in range(m):
            obj_acc -= 0.5 * w_acc[i] * (b[i] + q_acc[i])
            obj_cur -= 0.5 * w[i] * (b[i] + q[i])
        if obj_acc < obj_cur:
            w[:] = w_acc
            q[:] = q_acc
    return epochs
