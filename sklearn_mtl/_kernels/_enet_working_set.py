"""Working-set solver for the elastic net with an L1 part.

Solves the n-scaled problem of :mod:`sklearn_mtl._penalties`::

    min_w 1/2 ||y - A w||^2 + l1_reg ||w||_1 + l2_reg / 2 ||w||^2

with ``A`` the (implicitly centred, row-weighted) design of
:mod:`sklearn_mtl._kernels._design`, ``l1_reg > 0``.

Outer rounds take one full pass ``A.T @ r``: it gives the duality gap (the
stopping test) and the KKT violations that rank the features. The working set
is the support plus the features closest to violating their optimality
condition (``(|A_j^T r| - l1_reg) / ||A_j||``, largest first), about twice as
many as the support. On the working set, the inner solver takes proximal
gradient steps one coordinate at a time (each coordinate with its own step
``1 / ||A_j||^2``, soft-thresholding then L2 shrinkage), with Anderson
extrapolation of the iterates every few epochs (kept only when it lowers the
objective). On dense data with a working set smaller than ``n_samples`` the
inner solver works on the working set's Gram matrix (its epochs then cost
``O(|ws|^2)`` instead of ``O(|ws| n)``); otherwise it updates the residual
(for sparse data, with the centring kept implicit: the residual is
``r_s + c * row_scale`` with ``c = offset @ w``).
"""

import numpy as np
from numba import njit

from .._penalties import (
    enet_duality_gap,
    enet_duality_gap_products,
    enet_prox_coordinate,
)
from ._design import design_tdot


# Reassociation lets LLVM vectorise the dense column dot products (as BLAS
# would); no assumption on NaN or infinity is made.
_FAST = {"reassoc", "contract", "nsz"}
# Outer rounds without a 10% fall of the duality gap before giving up.
_MAX_STALLED = 8


@njit(cache=True, fastmath=_FAST)
def _dot_col(X, j, r):
    acc = 0.0
    for i in range(r.shape[0]):
        acc += X[i, j] * r[i]
    return acc


@njit(cache=True, fastmath=_FAST)
def _dot_col_centred(X, j, off, row_scale, r):
    acc = 0.0
    for i in range(r.shape[0]):
        acc += (X[i, j] - off * row_scale[i]) * r[i]
    return acc


@njit(cache=True, fastmath=_FAST)
def _sq_norm(r):
    acc = 0.0
    for i in range(r.shape[0]):
        acc += float(r[i]) * r[i]
    return acc


@njit(cache=True, nogil=True, fastmath=_FAST)
def dense_moments(X, y):
    """One pass over dense ``X``: column sums, sums of squares and ``X.T y``."""
    n, p = X.shape
    sums = np.zeros(p)
    sumsq = np.zeros(p)
    xty = np.zeros(p)
    for j in range(p):
        s = 0.0
        ss = 0.0
        sy = 0.0
        for i in range(n):
            v = float(X[i, j])
            s += v
            ss += v * v
            sy += v * y[i]
        sums[j] = s
        sumsq[j] = ss
        xty[j] = sy
    return sums, sumsq, xty


@njit(cache=True, nogil=True)
def sparse_moments(data, indices, indptr, y):
    """One pass over CSC data: column sums, sums of squares and ``X.T y``."""
    p = indptr.shape[0] - 1
    sums = np.zeros(p)
    sumsq = np.zeros(p)
    xty = np.zeros(p)
    for j in range(p):
        s = 0.0
        ss = 0.0
        sy = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            v = float(data[k])
            s += v
            ss += v * v
            sy += v * y[indices[k]]
        sums[j] = s
        sumsq[j] = ss
        xty[j] = sy
    return sums, sumsq, xty


@njit(cache=True, nogil=True)
def column_stats(X, data, indices, indptr, offset, row_scale, is_sparse):
    """``(||A_j||^2, X_j @ row_scale)`` for every column, in float64."""
    n_features = offset.shape[0]
    n_samples = row_scale.shape[0]
    norms2 = np.zeros(n_features)
    xs = np.zeros(n_features)
    nrs = 0.0
    for i in range(n_samples):
        nrs += float(row_scale[i]) * row_scale[i]
    for j in range(n_features):
        acc = 0.0
        acc_s = 0.0
        if is_sparse:
            for k in range(indptr[j], indptr[j + 1]):
                v = float(data[k])
                acc += v * v
                acc_s += v * row_scale[indices[k]]
            off = float(offset[j])
            norms2[j] = max(acc - 2.0 * off * acc_s + off * off * nrs, 0.0)
        else:
            off = float(offset[j])
            for i in range(n_samples):
                v = float(X[i, j])
                acc_s += v * row_scale[i]
                v -= off * row_scale[i]
                acc += v * v
            norms2[j] = acc
        xs[j] = acc_s
    return norms2, xs


@njit(cache=True)
def _kkt_violation(g, wj, l1_reg, positive):
    """Distance from ``g`` (the gradient of ``-loss - l2`` part) to ``l1 * d|wj|``."""
    if wj > 0.0:
        return abs(g - l1_reg)
    if wj < 0.0:
        return abs(g + l1_reg)
    if positive:
        return max(g - l1_reg, 0.0)
    return max(abs(g) - l1_reg, 0.0)


@njit(cache=True)
def _anderson_weights(hist_w, n_rows):
    """Weights of the last ``n_rows - 1`` iterates (Anderson), or empty if singular."""
    K = n_rows - 1
    m = hist_w.shape[1]
    U = np.empty((K, m))
    for k in range(K):
        for i in range(m):
            U[k, i] = hist_w[k + 1, i] - hist_w[k, i]
    M = np.empty((K, K))
    for a in range(K):
        for b in range(a, K):
            acc = 0.0
            for i in range(m):
                acc += U[a, i] * U[b, i]
            M[a, b] = acc
            M[b, a] = acc
    # Solve M z = 1 by Gaussian elimination with partial pivoting.
    rhs = np.ones(K)
    scale = 0.0
    for a in range(K):
        scale = max(scale, M[a, a])
    if scale <= 0.0:
        return np.empty(0)
    for col in range(K):
        piv = col
        for r in range(col + 1, K):
            if abs(M[r, col]) > abs(M[piv, col]):
                piv = r
        if abs(M[piv, col]) <= 1e-14 * scale:
            return np.empty(0)
        if piv != col:
            for b in range(K):
                tmp = M[col, b]
                M[col, b] = M[piv, b]
                M[piv, b] = tmp
            tmp = rhs[col]
            rhs[col] = rhs[piv]
            rhs[piv] = tmp
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
    total = 0.0
    for a in range(K):
        total += z[a]
    if total == 0.0 or not np.isfinite(total):
        return np.empty(0)
    for a in range(K):
        z[a] /= total
    return z


@njit(cache=True)
def _select_top(scores, k):
    """Indices (sorted) of the ``k`` largest scores, leaving out ``-inf`` ones."""
    p = scores.shape[0]
    cand = np.empty(p, dtype=np.int64)
    n_cand = 0
    for j in range(p):
        if scores[j] > -np.inf:
            cand[n_cand] = j
            n_cand += 1
    if k >= n_cand:
        return cand[:n_cand].copy()
    neg = np.empty(n_cand)
    for a in range(n_cand):
        neg[a] = -scores[cand[a]]
    thr = np.partition(neg, k - 1)[k - 1]
    ws = np.empty(k, dtype=np.int64)
    m = 0
    for a in range(n_cand):
        if -scores[cand[a]] < thr:
            ws[m] = cand[a]
            m += 1
    if m < k:
        for a in range(n_cand):
            if -scores[cand[a]] == thr:
                ws[m] = cand[a]
                m += 1
                if m == k:
                    break
    return np.sort(ws[:m])


@njit(cache=True)
def _rank_features(w, grad, sq_norms, l1_reg, l2_reg, positive, scores):
    """Score every feature for the working set; return the support size.

    ``grad`` is ``A.T r``. Non-zero coefficients score ``inf`` (always kept);
    zeros score their normalised KKT violation ``(|g| - l1_reg) / ||A_j||``,
    and ``-inf`` when their optimality condition holds or their column is
    zero, so that they stay out.
    """
    nnz = 0
    for j in range(w.shape[0]):
        wj = float(w[j])
        if wj != 0.0:
            nnz += 1
            scores[j] = np.inf
        elif sq_norms[j] <= 0.0:
            scores[j] = -np.inf
        else:
            g = grad[j] - l2_reg * wj
            gg = g if positive else abs(g)
            score = (gg - l1_reg) / np.sqrt(sq_norms[j])
            scores[j] = score if score > 0.0 else -np.inf
    return nnz


@njit(cache=True)
def _max_violation(w, grad, ws, l1_reg, l2_reg, positive):
    """Largest KKT violation over the features in ``ws``."""
    worst = 0.0
    for j in ws:
        wj = float(w[j])
        worst = max(worst, _kkt_violation(grad[j] - l2_reg * wj, wj, l1_reg, positive))
    return worst


@njit(cache=True)
def _working_set_size(p0, nnz, grow, ws_size, n_features):
    """About twice the support, at least ``p0``, doubled when ``grow``, never shrinking."""
    new_size = max(p0, 2 * nnz)
    if grow:
        new_size = max(new_size, 2 * ws_size)
    return min(n_features, max(new_size, ws_size))


@njit(cache=True)
def _inner_gram(
    G, cvec, w_ws, q, l1_reg, l2_reg, positive, tol_in, max_epochs, anderson_k
):
    """Coordinate proximal steps on ``1/2 w G w - c w + penalty`` from ``w_ws``.

    ``q = c - G w`` is kept up to date. Returns the number of epochs.
    """
    m = w_ws.shape[0]
    hist_w = np.empty((anderson_k + 1, m))
    hist_q = np.empty((anderson_k + 1, m))
    n_hist = 0
    ulp = 4.0 * np.finfo(np.float64).eps
    for epoch in range(max_epochs):
        viol = 0.0
        max_d = 0.0
        max_w = 0.0
        for k in range(m):
            L = G[k, k]
            if L <= 0.0:
                continue
            wk = w_ws[k]
            g = q[k]
            v = _kkt_violation(g - l2_reg * wk, wk, l1_reg, positive)
            if v > viol:
                viol = v
            new = enet_prox_coordinate(wk + g / L, l1_reg / L, l2_reg / L, positive)
            max_w = max(max_w, abs(new))
            if new != wk:
                d = new - wk
                max_d = max(max_d, abs(d))
                w_ws[k] = new
                for i in range(m):
                    q[i] -= d * G[k, i]
        # Stop at the tolerance, or at a fixed point up to rounding.
        if viol <= tol_in or max_d <= ulp * max_w:
            return epoch + 1
        if anderson_k > 0:
            hist_w[n_hist] = w_ws
            hist_q[n_hist] = q
            n_hist += 1
            if n_hist == anderson_k + 1:
                n_hist = 0
                z = _anderson_weights(hist_w, anderson_k + 1)
                if z.shape[0] == 0:
                    continue
                w_acc = np.zeros(m)
                q_acc = np.zeros(m)
                for a in range(anderson_k):
                    for i in range(m):
                        w_acc[i] += z[a] * hist_w[a + 1, i]
                        q_acc[i] += z[a] * hist_q[a + 1, i]
                # Objective up to a constant: -1/2 w.(c + q) + penalty.
                obj_cur = 0.0
                obj_acc = 0.0
                for i in range(m):
                    if positive and w_acc[i] < 0.0:
                        obj_acc = np.inf
                        break
                    obj_cur += -0.5 * w_ws[i] * (cvec[i] + q[i]) + l1_reg * abs(
                        w_ws[i]
                    ) + 0.5 * l2_reg * w_ws[i] * w_ws[i]
                    obj_acc += -0.5 * w_acc[i] * (cvec[i] + q_acc[i]) + l1_reg * abs(
                        w_acc[i]
                    ) + 0.5 * l2_reg * w_acc[i] * w_acc[i]
                if obj_acc < obj_cur:
                    # Recompute q exactly from the extrapolated point.
                    for i in range(m):
                        w_ws[i] = w_acc[i]
                    for i in range(m):
                        acc = cvec[i]
                        for k in range(m):
                            acc -= G[i, k] * w_ws[k]
                        q[i] = acc
    return max_epochs


@njit(cache=True)
def _inner_residual(
    X,
    data,
    indices,
    indptr,
    offset,
    row_scale,
    is_sparse,
    ws,
    w,
    r_s,
    ct,
    norms2,
    xs,
    nrs,
    l1_reg,
    l2_reg,
    positive,
    tol_in,
    max_epochs,
    anderson_k,
):
    """Coordinate proximal steps on the working set ``ws``, updating the residual.

    The residual of the centred design is ``r_s + c * row_scale`` with
    ``ct = [c, t]``, ``c = offset @ w`` and ``t = row_scale @ r_s``.
    Returns the number of epochs.
    """
    m = ws.shape[0]
    n = r_s.shape[0]
    hist_w = np.empty((anderson_k + 1, m))
    hist_r = np.empty((anderson_k + 1, n), dtype=r_s.dtype)
    hist_ct = np.empty((anderson_k + 1, 2))
    n_hist = 0
    c = ct[0]
    t = ct[1]
    ulp = 4.0 * np.finfo(r_s.dtype).eps
    for epoch in range(max_epochs):
        viol = 0.0
        max_d = 0.0
        max_w = 0.0
        for k in range(m):
            j = ws[k]
            L = norms2[j]
            if L <= 0.0:
                continue
            acc = 0.0
            if is_sparse:
                for kk in range(indptr[j], indptr[j + 1]):
                    acc += data[kk] * r_s[indices[kk]]
            else:
                acc = _dot_col(X, j, r_s)
            off = offset[j]
            if is_sparse:
                g = acc + c * xs[j] - off * (t + c * nrs)
            else:
                g = acc - off * t
            wj = float(w[j])
            v = _kkt_violation(g - l2_reg * wj, wj, l1_reg, positive)
            if v > viol:
                viol = v
            new = enet_prox_coordinate(wj + g / L, l1_reg / L, l2_reg / L, positive)
            max_w = max(max_w, abs(new))
            if new != wj:
                w[j] = new
                d = float(w[j]) - wj
                max_d = max(max_d, abs(d))
                if is_sparse:
                    for kk in range(indptr[j], indptr[j + 1]):
                        r_s[indices[kk]] -= d * data[kk]
                    t -= d * xs[j]
                    c += d * off
                else:
                    if off != 0.0:
                        for i in range(n):
                            r_s[i] -= d * (X[i, j] - off * row_scale[i])
                    else:
                        for i in range(n):
                            r_s[i] -= d * X[i, j]
                    t -= d * (xs[j] - off * nrs)
        # Stop at the tolerance, or at a fixed point up to rounding.
        if viol <= tol_in or max_d <= ulp * max_w:
            ct[0] = c
            ct[1] = t
            return epoch + 1
        if anderson_k > 0:
            for k in range(m):
                hist_w[n_hist, k] = w[ws[k]]
            hist_r[n_hist] = r_s
            hist_ct[n_hist, 0] = c
            hist_ct[n_hist, 1] = t
            n_hist += 1
            if n_hist == anderson_k + 1:
                n_hist = 0
                z = _anderson_weights(hist_w, anderson_k + 1)
                if z.shape[0] == 0:
                    continue
                w_acc = np.zeros(m)
                r_acc = np.zeros(n)
                c_acc = 0.0
                t_acc = 0.0
                for a in range(anderson_k):
                    za = z[a]
                    for k in range(m):
                        w_acc[k] += za * hist_w[a + 1, k]
                    for i in range(n):
                        r_acc[i] += za * hist_r[a + 1, i]
                    c_acc += za * hist_ct[a + 1, 0]
                    t_acc += za * hist_ct[a + 1, 1]
                pen_cur = 0.0
                pen_acc = 0.0
                feasible = True
                for k in range(m):
                    wk = float(w[ws[k]])
                    pen_cur += l1_reg * abs(wk) + 0.5 * l2_reg * wk * wk
                    wa = w_acc[k]
                    if positive and wa < 0.0:
                        feasible = False
                    pen_acc += l1_reg * abs(wa) + 0.5 * l2_reg * wa * wa
                if not feasible:
                    continue
                rr_cur = _sq_norm(r_s)
                rr_acc = _sq_norm(r_acc)
                obj_cur = 0.5 * (rr_cur + 2.0 * c * t + c * c * nrs) + pen_cur
                obj_acc = 0.5 * (rr_acc + 2.0 * c_acc * t_acc + c_acc * c_acc * nrs)
                obj_acc += pen_acc
                if obj_acc < obj_cur:
                    for k in range(m):
                        w[ws[k]] = w_acc[k]
                    for i in range(n):
                        r_s[i] = r_acc[i]
                    c = c_acc
                    t = t_acc
    ct[0] = c
    ct[1] = t
    return max_epochs


@njit(cache=True)
def _sparse_residual(X, data, indices, indptr, offset, row_scale, is_sparse, y, w, r_s):
    """The residual state; returns ``c, t``.

    Sparse: ``r_s = y - X_raw w`` (without the implicit centring) and
    ``c = offset @ w``. Dense: ``r_s = y - A w`` itself and ``c = 0``.
    ``t = row_scale @ r_s`` in both cases.
    """
    n = y.shape[0]
    for i in range(n):
        r_s[i] = y[i]
    c = 0.0
    for j in range(w.shape[0]):
        wj = w[j]
        if wj != 0.0:
            off = float(offset[j])
            if is_sparse:
                c += off * wj
                for kk in range(indptr[j], indptr[j + 1]):
                    r_s[indices[kk]] -= wj * data[kk]
            else:
                for i in range(n):
                    r_s[i] -= wj * (X[i, j] - off * row_scale[i])
    t = 0.0
    for i in range(n):
        t += float(row_scale[i]) * r_s[i]
    return c, t


@njit(cache=True, nogil=True)
def enet_working_set(
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
    max_iter,
    tol,
    norms2,
    xs,
    p0,
    inner_ratio,
    anderson_k,
    grad0,
):
    """Solve from ``w`` (updated in place) until the duality gap is below ``tol``.

    ``norms2`` and ``xs`` come from :func:`column_stats`. ``max_iter`` bounds
    the total number of epochs over working sets. ``grad0``, if of length
    ``n_features``, is ``A.T y``
    (the gradient at ``w = 0``, which the caller guarantees): it saves the
    first pass over the data.

    Returns ``(gap, n_epochs, n_rounds)``.
    """
    n = y.shape[0]
    p = w.shape[0]
    dtype = y.dtype
    nrs = 0.0
    for i in range(n):
        nrs += float(row_scale[i]) * row_scale[i]
    max_norm2 = 0.0
    for j in range(p):
        max_norm2 = max(max_norm2, norms2[j])
    y_norm = 0.0
    for i in range(n):
        y_norm += float(y[i]) * y[i]
    y_norm = np.sqrt(y_norm)
    # KKT values below this are rounding noise.
    kkt_floor = 4.0 * np.finfo(dtype).eps * np.sqrt(max_norm2) * y_norm

    r_s = np.empty(n, dtype=dtype)
    ct = np.zeros(2)
    c0, t0 = _sparse_residual(
        X, data, indices, indptr, offset, row_scale, is_sparse, y, w, r_s
    )
    ct[0] = c0
    ct[1] = t0
    R = np.empty(n, dtype=dtype)
    grad = np.empty(p, dtype=dtype)
    scores = np.empty(p)
    gap = np.inf
    n_epochs = 0
    n_rounds = 0
    ws_size = 0
    grow = False
    best_gap = np.inf
    n_stalled = 0
    while True:
        if is_sparse and n_rounds > 0:
            # Recompute the residual state exactly (cheap on sparse data):
            # incremental updates drift over many epochs.
            c0, t0 = _sparse_residual(
                X, data, indices, indptr, offset, row_scale, is_sparse, y, w, r_s
            )
            ct[0] = c0
            ct[1] = t0
        c = ct[0]
        for i in range(n):
            R[i] = r_s[i] + c * row_scale[i]
        if n_rounds == 0 and grad0.shape[0] == p:
            for j in range(p):
                grad[j] = grad0[j]
        else:
            design_tdot(
                X, data, indices, indptr, offset, row_scale, is_sparse, R, grad
            )
        gap = enet_duality_gap(w, R, y, grad, l1_reg, l2_reg, positive, 1.0)
        if gap <= tol or n_epochs >= max_iter:
            break
        # Rounding stops the gap from falling further: give up (the caller warns).
        if gap < 0.9 * best_gap:
            best_gap = gap
            n_stalled = 0
        else:
            n_stalled += 1
            if n_stalled >= _MAX_STALLED:
                break
        n_rounds += 1
        nnz = _rank_features(w, grad, norms2, l1_reg, l2_reg, positive, scores)
        ws_size = _working_set_size(p0, nnz, grow, ws_size, p)
        ws = _select_top(scores, ws_size)
        kkt_ws = _max_violation(w, grad, ws, l1_reg, l2_reg, positive)
        tol_in = max(inner_ratio * kkt_ws, kkt_floor)
        budget = max_iter - n_epochs
        epochs = _inner_residual(
            X,
            data,
            indices,
            indptr,
            offset,
            row_scale,
            is_sparse,
            ws,
            w,
            r_s,
            ct,
            norms2,
            xs,
            nrs,
            l1_reg,
            l2_reg,
            positive,
            tol_in,
            budget,
            anderson_k,
        )
        n_epochs += epochs
        grow = epochs <= 1
    return gap, n_epochs, n_rounds


@njit(cache=True, nogil=True)
def enet_working_set_gram(
    G,
    Aty,
    y_norm2,
    w,
    l1_reg,
    l2_reg,
    positive,
    max_iter,
    tol,
    p0,
    inner_ratio,
    anderson_k,
):
    """The working-set solver on a precomputed Gram matrix ``G = A.T A``.

    ``Aty = A.T y`` and ``y_norm2 = ||y||^2`` (float64). Every quantity comes
    from ``G``: ``A.T r = Aty - G w``, ``||r||^2 = ||y||^2 - w.Aty - w.A.T r``
    and ``r.y = ||y||^2 - w.Aty``; ``A`` itself is never read. Worth it along a
    path on dense data with more samples than features (as sklearn's
    ``precompute="auto"``). Returns ``(gap, n_epochs, n_rounds)``.
    """
    p = w.shape[0]
    w64 = np.empty(p)
    for j in range(p):
        w64[j] = w[j]
    q = Aty - G @ w64
    scores = np.empty(p)
    sq_norms = np.diag(G).copy()
    kkt_floor = 4.0 * np.finfo(np.float64).eps * np.sqrt(sq_norms.max() * y_norm2)
    gap = np.inf
    n_epochs = 0
    n_rounds = 0
    ws_size = 0
    grow = False
    best_gap = np.inf
    n_stalled = 0
    while True:
        w_dot_c = 0.0
        w_dot_q = 0.0
        for j in range(p):
            w_dot_c += w64[j] * Aty[j]
            w_dot_q += w64[j] * q[j]
        r_norm2 = max(y_norm2 - w_dot_c - w_dot_q, 0.0)
        r_dot_y = y_norm2 - w_dot_c
        gap = enet_duality_gap_products(
            w64, r_norm2, r_dot_y, q, l1_reg, l2_reg, positive, 1.0
        )
        if gap <= tol or n_epochs >= max_iter:
            break
        if gap < 0.9 * best_gap:
            best_gap = gap
            n_stalled = 0
        else:
            n_stalled += 1
            if n_stalled >= _MAX_STALLED:
                break
        n_rounds += 1
        nnz = _rank_features(w64, q, sq_norms, l1_reg, l2_reg, positive, scores)
        ws_size = _working_set_size(p0, nnz, grow, ws_size, p)
        ws = _select_top(scores, ws_size)
        m = ws.shape[0]
        kkt_ws = _max_violation(w64, q, ws, l1_reg, l2_reg, positive)
        Gws = np.empty((m, m))
        c_ws = np.empty(m)
        w_ws = np.empty(m)
        q_ws = np.empty(m)
        for a in range(m):
            ja = ws[a]
            c_ws[a] = Aty[ja]
            w_ws[a] = w64[ja]
            q_ws[a] = q[ja]
            for b in range(m):
                Gws[a, b] = G[ja, ws[b]]
        # q_ws must be the working set's own gradient: features outside the
        # working set are zero, so it equals the full one.
        tol_in = max(inner_ratio * kkt_ws, kkt_floor)
        epochs = _inner_gram(
            Gws, c_ws, w_ws, q_ws, l1_reg, l2_reg, positive, tol_in,
            max_iter - n_epochs, anderson_k,
        )
        n_epochs += epochs
        grow = epochs <= 1
        for a in range(m):
            w64[ws[a]] = w_ws[a]
        q = Aty - G @ w64
    for j in range(p):
        w[j] = w64[j]
    return gap, n_epochs, n_rounds
