"""Kernels over the missing entries of a target matrix, held row by row.

The missing entries of ``Y`` (NaN) are listed per row, as CSR without values:
``indptr`` (row pointers) and ``tasks`` (the task of each entry). The masked
squared loss's Gram form (:mod:`sklearn_mtl._datafits.squared`) subtracts
their contribution from the fully observed statistics, at a cost that scales
with the number of missing entries, never with ``n x T``.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def missing_entries(Y):
    """The NaN entries of ``Y`` row by row: row pointers and task indices."""
    n, n_tasks = Y.shape
    indptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        count = 0
        for t in range(n_tasks):
            if np.isnan(Y[i, t]):
                count += 1
        indptr[i + 1] = indptr[i] + count
    tasks = np.empty(indptr[n], dtype=np.int32)
    position = 0
    for i in range(n):
        for t in range(n_tasks):
            if np.isnan(Y[i, t]):
                tasks[position] = t
                position += 1
    return indptr, tasks


@njit(cache=True)
def observed_moments(Y, sw, centre):
    """Per task, over its observed entries: ``sum s``, ``sum s (y - centre)``
    and ``sum s (y - centre)^2``."""
    n, n_tasks = Y.shape
    weight = np.zeros(n_tasks)
    first = np.zeros(n_tasks)
    second = np.zeros(n_tasks)
    for i in range(n):
        for t in range(n_tasks):
            y = Y[i, t]
            if not np.isnan(y):
                d = y - centre[t]
                weight[t] += sw[i]
                first[t] += sw[i] * d
                second[t] += sw[i] * d * d
    return weight, first, second


@njit(cache=True)
def add_missing_row_sums(Xb, sb, indptr, tasks, first_row, out):
    """``out[t] += sum s_i x_i`` over the missing entries ``(i, t)`` of the
    block ``Xb`` (rows ``first_row`` onwards)."""
    n_rows, p = Xb.shape
    for r in range(n_rows):
        i = first_row + r
        for e in range(indptr[i], indptr[i + 1]):
            t = tasks[e]
            for j in range(p):
                out[t, j] += sb[r] * Xb[r, j]


@njit(cache=True)
def missing_gram(Z, sw, indptr, tasks, n_tasks):
    """``(T, k, k)``: ``sum s_i z_i z_i^T`` over each task's missing rows."""
    n, k = Z.shape
    out = np.zeros((n_tasks, k * k))
    outer = np.empty(k * k)
    for i in range(n):
        if indptr[i] == indptr[i + 1]:
            continue
        # Once per row, added to each of its missing tasks.
        for a in range(k):
            za = sw[i] * Z[i, a]
            for b in range(k):
                outer[a * k + b] = za * Z[i, b]
        for e in range(indptr[i], indptr[i + 1]):
            t = tasks[e]
            for ab in range(k * k):
                out[t, ab] += outer[ab]
    return out.reshape(n_tasks, k, k)


@njit(cache=True)
def missing_fill_product(Z, zbar, Vt, sw, task_scale, indptr, tasks):
    """``Q`` (``n x k``): ``Q_i = sum_t s_i task_scale_t f_it v_t`` over the
    missing tasks of row ``i``, ``f_it = (z_i - zbar_t) . v_t`` the fitted
    value that fills the entry (``Vt`` is ``V.T``)."""
    n, k = Z.shape
    Q = np.zeros((n, k))
    for i in range(n):
        for e in range(indptr[i], indptr[i + 1]):
            t = tasks[e]
            fill = 0.0
            for a in range(k):
                fill += (Z[i, a] - zbar[t, a]) * Vt[t, a]
            fill *= sw[i] * task_scale[t]
            for a in range(k):
                Q[i, a] += fill * Vt[t, a]
    return Q
