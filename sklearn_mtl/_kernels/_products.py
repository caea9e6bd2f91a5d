"""Products with the columns of ``X`` (dense or CSC), read in place.

The solvers' residual ``y - A w`` needs only the columns where ``w`` is not
zero; copying those columns out (numpy's fancy indexing) before the product
triples the memory traffic, which is what such a product costs. A pass
``X.T @ r`` over a Fortran-ordered ``X`` is a dot product per column, which
these loops run at memory speed in float64 for float32 data too.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract", "nsz"})
def columns_product(X, columns, values):
    """``X[:, columns] @ values`` in float64, reading each column in place."""
    n = X.shape[0]
    out = np.zeros(n)
    for a in range(columns.shape[0]):
        j = columns[a]
        v = values[a]
        for i in range(n):
            out[i] += v * np.float64(X[i, j])
    return out


@njit(cache=True, nogil=True)
def sparse_columns_product(data, indices, indptr, n_rows, columns, values):
    """``X[:, columns] @ values`` in float64 for CSC ``X`` (its three arrays)."""
    out = np.zeros(n_rows)
    for a in range(columns.shape[0]):
        j = columns[a]
        v = values[a]
        for k in range(indptr[j], indptr[j + 1]):
            out[indices[k]] += v * np.float64(data[k])
    return out


# Below this many rows the residual stays in the first-level cache and one
# column at a time streams fastest; above it, four columns share each load of
# the residual. Measured on one core (80 MB of float64): 2.6 vs 6.0 ms at 300
# rows, 2.5 vs 4.1 ms at 16000; OpenBLAS's gemv took 3.6 to 5.0 ms throughout.
ONE_COLUMN_ROWS = 2048


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract", "nsz"})
def fortran_rmatvec(X, r):
    """``X.T @ r`` in float64 for a Fortran-ordered ``X``."""
    n, p = X.shape
    out = np.empty(p)
    j = 0
    if n >= ONE_COLUMN_ROWS:
        while j + 4 <= p:
            a0 = a1 = a2 = a3 = 0.0
            for i in range(n):
                ri = r[i]
                a0 += np.float64(X[i, j]) * ri
                a1 += np.float64(X[i, j + 1]) * ri
                a2 += np.float64(X[i, j + 2]) * ri
                a3 += np.float64(X[i, j + 3]) * ri
            out[j] = a0
            out[j + 1] = a1
            out[j + 2] = a2
            out[j + 3] = a3
            j += 4
    while j < p:
        acc = 0.0
        for i in range(n):
            acc += np.float64(X[i, j]) * r[i]
        out[j] = acc
        j += 1
    return out


@njit(cache=True, nogil=True)
def sparse_columns_gram(data, indices, indptr, n_rows, columns):
    """``X[:, columns].T @ X[:, columns]`` (dense, float64) for CSC ``X``.

    Row by row: each row adds the products of its entries in ``columns``, so
    the cost is the entries' count plus, per row, its entry count squared
    (small on sparse data), not a product per pair of columns.
    """
    m = columns.shape[0]
    count = np.zeros(n_rows + 1, dtype=np.int64)
    for a in range(m):
        j = columns[a]
        for k in range(indptr[j], indptr[j + 1]):
            count[indices[k] + 1] += 1
    for i in range(n_rows):
        count[i + 1] += count[i]
    fill = count[:-1].copy()
    position = np.empty(count[n_rows], dtype=np.int64)
    value = np.empty(count[n_rows])
    for a in range(m):
        j = columns[a]
        for k in range(indptr[j], indptr[j + 1]):
            i = indices[k]
            position[fill[i]] = a
            value[fill[i]] = np.float64(data[k])
            fill[i] += 1
    gram = np.zeros((m, m))
    for i in range(n_rows):
        for u in range(count[i], count[i + 1]):
            a = position[u]
            va = value[u]
            for v in range(count[i], count[i + 1]):
                gram[a, position[v]] += va * value[v]
    return gram


@njit(cache=True, nogil=True)
def sparse_columns_rmatvec(data, indices, indptr, columns, r):
    """``X[:, columns].T @ r`` in float64 for CSC ``X``."""
    out = np.empty(columns.shape[0])
    for a in range(columns.shape[0]):
        j = columns[a]
        acc = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            acc += np.float64(data[k]) * r[indices[k]]
        out[a] = acc
    return out
