"""Epochs of coordinate proximal steps on a working set, with Anderson extrapolation.

Each kernel minimises the n-scaled elastic net restricted to the features of
a working set ``ws``::

    1/2 ||y - A w||^2 + l1_reg ||w||_1 + l2_reg / 2 ||w||^2

one coordinate at a time, each with its own step ``1 / ||A_j||^2``
(soft-thresholding, then L2 shrinkage), for at most ``max_epochs`` epochs.
After each epoch the iterate and the solver's state are written into the
rows of ``hist_w`` and ``hist_state``, from which the caller extrapolates
(Anderson acceleration, :mod:`sklearn_mtl._solvers.working_set`). An epoch
ends the call early when the largest optimality violation on the working set
is at most ``tol``, or when no coordinate moved by more than rounding (a fixed
point). The three kernels differ only in how they hold ``A``: a dense matrix,
a CSC matrix, or the Gram matrix ``A.T A`` of the working set. Each returns
``(epochs, done)``, ``done`` telling that an early end was reached.

Residuals and accumulators are float64 whatever the dtype of ``X``.
"""

import numpy as np
from numba import njit

from ._products import ONE_COLUMN_ROWS
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


@njit(cache=True, nogil=True)
def working_set_scores(w, grad, inverse_norms, l1_reg, positive):
    """Working-set priority of each feature, and the features that have one.

    Non-zero coefficients score ``inf`` (always kept); zeros score their
    normalised optimality violation ``(|g| - l1_reg) / ||A_j||`` (``g =
    grad``: at ``w_j = 0`` an L2 part adds nothing), and ``-inf`` when it is
    not positive or their column is zero (inverse norm 0). Returns
    ``(scores, candidates)``, the sorted indices of scores above ``-inf``.
    """
    p = w.shape[0]
    scores = np.empty(p)
    count = 0
    for j in range(p):
        if w[j] != 0.0:
            s = np.inf
        else:
            g = grad[j]
            s = ((g if positive else abs(g)) - l1_reg) * inverse_norms[j]
            if not s > 0.0:
                s = -np.inf
        scores[j] = s
        if s > -np.inf:
            count += 1
    candidates = np.empty(count, dtype=np.int64)
    k = 0
    for j in range(p):
        if scores[j] > -np.inf:
            candidates[k] = j
            k += 1
    return scores, candidates


@njit(cache=True)
def _coordinate_step(g, wj, L, l1_reg, l2_reg, positive):
    """``(violation, new)``: the optimality violation of coordinate ``wj``
    whose partial correlation with the residual is ``g``, and its proximal
    step of length ``1 / L``."""
    violation = kkt_violation(g - l2_reg * wj, wj, l1_reg, positive)
    new = enet_prox_scalar(wj + g / L, l1_reg / L, l2_reg / L, positive)
    return violation, new


@njit(cache=True, fastmath=_FAST)
def _dot_column(X, j, r):
    acc = 0.0
    for i in range(r.shape[0]):
        acc += X[i, j] * r[i]
    return acc


@njit(cache=True)
def _record(history, epoch, values):
    """``history[epoch] = values`` as a loop: a slice assignment would compile
    numba's shape-mismatch error formatting, seconds per kernel."""
    for i in range(values.shape[0]):
        history[epoch, i] = values[i]


@njit(cache=True, fastmath=_FAST)
def _sq_norm(r):
    acc = 0.0
    for i in range(r.shape[0]):
        acc += r[i] * r[i]
    return acc


@njit(cache=True, nogil=True, fastmath=_FAST)
def cd_epochs_dense(
    X, offset, ws, w, r, sq_norms, l1_reg, l2_reg, positive, tol, max_epochs,
    hist_w, hist_state,
):
    """Epochs on the working set ``ws`` of a dense design.

    ``A = X - 1 offset^T`` (``offset`` zero for a design centred explicitly);
    ``w`` and the residual ``r = y - A w`` are updated in place. The state
    recorded is ``r``.
    """
    m = ws.shape[0]
    n = r.shape[0]
    # The columns of A sum to zero wherever offset is non-zero, so sum(r) is
    # left unchanged by the updates.
    total = 0.0
    for i in range(n):
        total += r[i]
    ulp = 4.0 * np.finfo(np.float64).eps
    fuse = n < ONE_COLUMN_ROWS
    for epoch in range(max_epochs):
        violation = 0.0
        max_step = 0.0
        max_w = 0.0
        # On short columns a coordinate's update of r is applied in the same
        # sweep as the next coordinate's dot product (which reads the updated
        # r): one sweep per coordinate instead of two, 10-15% faster on
        # 500-row data. Long columns stay in cache between the two sweeps,
        # where fusing them measured 3% slower.
        pending = -1
        d = 0.0
        for k in range(m):
            j = ws[k]
            L = sq_norms[j]
            if L <= 0.0:
                continue
            if pending >= 0:
                g = _update_and_dot(X, pending, d, offset[pending], j, r)
                pending = -1
            else:
                g = _dot_column(X, j, r)
            g -= offset[j] * total
            wj = w[j]
            v, new = _coordinate_step(g, wj, L, l1_reg, l2_reg, positive)
            violation = max(violation, v)
            max_w = max(max_w, abs(new))
            if new != wj:
                d = new - wj
                max_step = max(max_step, abs(d))
                w[j] = new
                if fuse:
                    pending = j
                else:
                    _subtract_column(X, j, d, offset[j], r)
        if pending >= 0:
            _subtract_column(X, pending, d, offset[pending], r)
        if violation <= tol or max_step <= ulp * max_w:
            return epoch + 1, True
        for k in range(m):
            hist_w[epoch, k] = w[ws[k]]
        _record(hist_state, epoch, r)
    return max_epochs, False


@njit(cache=True, fastmath=_FAST)
def _subtract_column(X, j, d, off, r):
    """``r -= d (X[:, j] - off)``."""
    for i in range(r.shape[0]):
        r[i] -= d * (X[i, j] - off)


@njit(cache=True, fastmath=_FAST)
def _update_and_dot(X, p, d, off, j, r):
    """``r -= d (X[:, p] - off)``, then ``X[:, j] @ r``, in one sweep."""
    acc = 0.0
    for i in range(r.shape[0]):
        ri = r[i] - d * (X[i, p] - off)
        r[i] = ri
        acc += X[i, j] * ri
    return acc


@njit(cache=True, nogil=True)
def csc_columns(data, indices, indptr, columns):
    """The CSC arrays ``(data, indices, indptr)`` of ``X[:, columns]``.

    A working set's columns lie scattered through the data; copied next to
    each other once per round, the epochs stream them (three to four times
    faster per epoch, measured on the speed benchmark's sparse problem).
    """
    m = columns.shape[0]
    out_indptr = np.empty(m + 1, dtype=indptr.dtype)  # one kernel signature
    out_indptr[0] = 0
    for k in range(m):
        j = columns[k]
        out_indptr[k + 1] = out_indptr[k] + indptr[j + 1] - indptr[j]
    out_data = np.empty(out_indptr[m], dtype=data.dtype)
    out_indices = np.empty(out_indptr[m], dtype=indices.dtype)
    for k in range(m):
        start = indptr[columns[k]]
        to = out_indptr[k]
        for q in range(out_indptr[k + 1] - to):
            out_data[to + q] = data[start + q]
            out_indices[to + q] = indices[start + q]
    return out_data, out_indices, out_indptr


@njit(cache=True, nogil=True)
def cd_epochs_sparse(
    data, indices, indptr, offset, row_scale, ws, w, state, sq_norms, l1_reg,
    l2_reg, positive, tol, max_epochs, hist_w, hist_state,
):
    """Epochs on the working set ``ws`` of a CSC design.

    ``A = X - row_scale offset^T`` with ``X`` in CSC form. The residual is held
    as ``r = r_s + c row_scale`` so that the implicit centring stays implicit:
    ``state = [r_s, c, t]`` with ``r_s = y - X w`` updated on the column's
    non-zeros only, ``c = offset @ w`` and ``t = row_scale @ r_s``. Then
    ``A_j^T r = X_j^T r_s - offset_j t`` (the columns of ``X`` weighted by
    ``row_scale`` sum to ``sum(row_scale^2) offset_j``).
    """
    m = ws.shape[0]
    n = state.shape[0] - 2
    nrs = _sq_norm(row_scale)
    ulp = 4.0 * np.finfo(np.float64).eps
    # c and t live in registers during an epoch (stored in state after it).
    c = state[n]
    t = state[n + 1]
    for epoch in range(max_epochs):
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
                acc += data[kk] * state[indices[kk]]
            off = offset[j]
            g = acc - off * t
            wj = w[j]
            v, new = _coordinate_step(g, wj, L, l1_reg, l2_reg, positive)
            violation = max(violation, v)
            max_w = max(max_w, abs(new))
            if new != wj:
                d = new - wj
                max_step = max(max_step, abs(d))
                w[j] = new
                for kk in range(indptr[j], indptr[j + 1]):
                    state[indices[kk]] -= d * data[kk]
                c += d * off
                t -= d * nrs * off
        state[n] = c
        state[n + 1] = t
        if violation <= tol or max_step <= ulp * max_w:
            return epoch + 1, True
        for k in range(m):
            hist_w[epoch, k] = w[ws[k]]
        _record(hist_state, epoch, state)
    return max_epochs, False


@njit(cache=True, nogil=True)
def cd_epochs_gram(G, w, q, l1_reg, l2_reg, positive, tol, max_epochs, hist_w, hist_state):
    """Epochs on ``1/2 w G w - b w + penalty`` (``G``, ``b`` the working set's
    blocks of ``A.T A`` and ``A.T y``); ``q = b - G w`` is kept up to date (the
    state recorded), ``w`` and ``q`` in place."""
    m = w.shape[0]
    ulp = 4.0 * np.finfo(np.float64).eps
    for epoch in range(max_epochs):
        violation = 0.0
        max_step = 0.0
        max_w = 0.0
        for k in range(m):
            L = G[k, k]
            if L <= 0.0:
                continue
            wk = w[k]
            v, new = _coordinate_step(q[k], wk, L, l1_reg, l2_reg, positive)
            violation = max(violation, v)
            max_w = max(max_w, abs(new))
            if new != wk:
                d = new - wk
                max_step = max(max_step, abs(d))
                w[k] = new
                for i in range(m):
                    q[i] -= d * G[k, i]
        if violation <= tol or max_step <= ulp * max_w:
            return epoch + 1, True
        _record(hist_w, epoch, w)
        _record(hist_state, epoch, q)
    return max_epochs, False
