"""Products with a few columns of ``X`` (dense or CSC), read in place.

The solvers' residual ``y - A w`` needs only the columns where ``w`` is not
zero; copying those columns out (numpy's fancy indexing) before the product
triples the memory traffic, which is what such a product costs.
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
