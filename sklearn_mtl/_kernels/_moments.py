"""One pass over the columns of ``X``: weighted sums and sums of squares.

Both kernels accumulate in float64 whatever the dtype of ``X``, and also
return ``X.T @ y`` for one vector ``y``: the first gradient of a solver that
starts from zero, so that the pass that decides the centring also saves the
solver's first pass.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract", "nsz"})
def dense_column_moments(X, y):
    """Column sums, sums of squares and ``X.T @ y`` of a Fortran-ordered ``X``."""
    n, p = X.shape
    sums = np.zeros(p)
    sumsq = np.zeros(p)
    xty = np.zeros(p)
    for j in range(p):
        s = 0.0
        ss = 0.0
        sy = 0.0
        for i in range(n):
            v = np.float64(X[i, j])
            s += v
            ss += v * v
            sy += v * y[i]
        sums[j] = s
        sumsq[j] = ss
        xty[j] = sy
    return sums, sumsq, xty


@njit(cache=True, nogil=True)
def sparse_column_moments(data, indices, indptr, weight, y):
    """Weighted column sums and sums of squares, and ``X.T @ y``, of CSC data.

    ``weight`` holds one weight per row (all ones when unweighted).
    """
    p = indptr.shape[0] - 1
    sums = np.zeros(p)
    sumsq = np.zeros(p)
    xty = np.zeros(p)
    for j in range(p):
        s = 0.0
        ss = 0.0
        sy = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            i = indices[k]
            v = np.float64(data[k])
            s += weight[i] * v
            ss += weight[i] * v * v
            sy += v * y[i]
        sums[j] = s
        sumsq[j] = ss
        xty[j] = sy
    return sums, sumsq, xty
