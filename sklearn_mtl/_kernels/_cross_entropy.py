"""Cross-entropy of many classification heads, over the observed labels only.

Task ``t`` owns the score columns ``offsets[t]:offsets[t + 1]`` of the heads
``V`` (``(k, n_columns)``) and intercepts ``b``: one column is a logistic head
(the log-odds of the task's second class), ``m >= 2`` columns a softmax head.
The observed labels are a list of ``(row, task, label, weight)``; a score is
``Z[row] @ V[:, j] + b[j]``, computed for the observed entries alone, so the
cost is ``O(n_observed * m * k)`` whatever the number of tasks. Arithmetic is
in float64.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def _log1pexp(z):
    """``log(1 + exp(z))`` without overflow."""
    if z > 0.0:
        return z + np.log1p(np.exp(-z))
    return np.log1p(np.exp(z))


@njit(cache=True)
def _sigmoid(s):
    if s >= 0.0:
        return 1.0 / (1.0 + np.exp(-s))
    e = np.exp(s)
    return e / (1.0 + e)


@njit(cache=True)
def _scores(Z, V, b, i, start, m, out):
    k = Z.shape[1]
    for j in range(m):
        acc = b[start + j]
        for a in range(k):
            acc += Z[i, a] * V[a, start + j]
        out[j] = acc


@njit(cache=True)
def _softmax(s, m, p):
    """Probabilities of ``s[:m]`` into ``p``; returns the log-sum-exp."""
    top = s[0]
    for j in range(1, m):
        top = max(top, s[j])
    total = 0.0
    for j in range(m):
        p[j] = np.exp(s[j] - top)
        total += p[j]
    for j in range(m):
        p[j] /= total
    return top + np.log(total)


@njit(cache=True)
def _widest_task(offsets):
    """The largest number of score columns of a task (at least 1)."""
    widest = 1
    for t in range(offsets.shape[0] - 1):
        widest = max(widest, offsets[t + 1] - offsets[t])
    return widest


@njit(cache=True, nogil=True)
def heads_loss_grad(Z, V, b, rows, tasks, labels, weights, offsets, dZ, dV, db):
    """Weighted cross-entropy; adds its gradients in ``Z``, ``V``, ``b`` to
    ``dZ``, ``dV``, ``db`` (zeroed by the caller). Returns the loss."""
    k = Z.shape[1]
    max_m = _widest_task(offsets)
    s = np.empty(max_m)
    p = np.empty(max_m)
    g = np.empty(max_m)
    loss = 0.0
    for o in range(rows.shape[0]):
        i = rows[o]
        t = tasks[o]
        w = weights[o]
        start = offsets[t]
        m = offsets[t + 1] - start
        _scores(Z, V, b, i, start, m, s)
        if m == 1:
            if labels[o] == 1:
                loss += w * _log1pexp(-s[0])
                g[0] = w * (_sigmoid(s[0]) - 1.0)
            else:
                loss += w * _log1pexp(s[0])
                g[0] = w * _sigmoid(s[0])
        else:
            lse = _softmax(s, m, p)
            loss += w * (lse - s[labels[o]])
            for j in range(m):
                g[j] = w * p[j]
            g[labels[o]] -= w
        for j in range(m):
            col = start + j
            db[col] += g[j]
            for a in range(k):
                dZ[i, a] += g[j] * V[a, col]
                dV[a, col] += g[j] * Z[i, a]
    return loss


@njit(cache=True, nogil=True)
def heads_hessp(
    Z, V, b, ZD, VD, bD, rows, tasks, labels, weights, offsets, oZ, oV, ob
):
    """Hessian of :func:`heads_loss_grad`'s loss in ``(Z, V, b)`` applied to the
    direction ``(ZD, VD, bD)``; added to ``oZ``, ``oV``, ``ob``."""
    k = Z.shape[1]
    max_m = _widest_task(offsets)
    s = np.empty(max_m)
    p = np.empty(max_m)
    d = np.empty(max_m)
    h = np.empty(max_m)
    g = np.empty(max_m)
    for o in range(rows.shape[0]):
        i = rows[o]
        t = tasks[o]
        w = weights[o]
        start = offsets[t]
        m = offsets[t + 1] - start
        _scores(Z, V, b, i, start, m, s)
        for j in range(m):
            col = start + j
            acc = bD[col]
            for a in range(k):
                acc += ZD[i, a] * V[a, col] + Z[i, a] * VD[a, col]
            d[j] = acc
        if m == 1:
            q = _sigmoid(s[0])
            h[0] = w * q * (1.0 - q) * d[0]
            g[0] = w * (q - (1.0 if labels[o] == 1 else 0.0))
        else:
            _softmax(s, m, p)
            pd = 0.0
            for j in range(m):
                pd += p[j] * d[j]
            for j in range(m):
                h[j] = w * p[j] * (d[j] - pd)
                g[j] = w * p[j]
            g[labels[o]] -= w
        for j in range(m):
            col = start + j
            ob[col] += h[j]
            for a in range(k):
                oZ[i, a] += h[j] * V[a, col] + g[j] * VD[a, col]
                oV[a, col] += h[j] * Z[i, a] + g[j] * ZD[i, a]
