"""One pass over the columns of ``X``: weighted sums and sums of squares.

Both kernels accumulate in float64 whatever the dtype of ``X``, and also
return ``X.T @ y`` for one vector ``y``: the first gradient of a solver that
starts from zero, so that the pass that decides the centring also saves the
solver's first pass.
"""

import numpy as np
from numba import njit

from ._products import ONE_COLUMN_ROWS


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract", "nsz"})
def dense_column_moments(X, y):
    """Column sums, sums of squares and ``X.T @ y`` of a Fortran-ordered ``X``."""
    n, p = X.shape
    sums = np.zeros(p)
    sumsq = np.zeros(p)
    xty = np.zeros(p)
    j = 0
    if n >= ONE_COLUMN_ROWS:
        # Two columns share each load of y (see fortran_rmatvec).
        while j + 2 <= p:
            s0 = s1 = q0 = q1 = t0 = t1 = 0.0
            for i in range(n):
                yi = y[i]
                v0 = np.float64(X[i, j])
                v1 = np.float64(X[i, j + 1])
                s0 += v0
                s1 += v1
                q0 += v0 * v0
                q1 += v1 * v1
                t0 += v0 * yi
                t1 += v1 * yi
            sums[j], sums[j + 1] = s0, s1
            sumsq[j], sumsq[j + 1] = q0, q1
            xty[j], xty[j + 1] = t0, t1
            j += 2
    while j < p:
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
        j += 1
    return sums, sumsq, xty


@njit(cache=True, nogil=True)
def sparse_column_moments(data, indices, indptr, weight, y):
    """Weighted column sums and sums of squares, and ``X.T @ y``, of CSC data.

    ``weight`` holds one weight per row, or nothing when unweighted (which
    saves a scattered read per entry).
    """
    p = indptr.shape[0] - 1
    sums = np.zeros(p)
    sumsq = np.zeros(p)
    xty = np.zeros(p)
    weighted = weight.shape[0] > 0
    for j in range(p):
        s = 0.0
        ss = 0.0
        sy = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            i = indices[k]
            v = np.float64(data[k])
            wv = weight[i] * v if weighted else v
            s += wv
            ss += wv * v
            sy += v * y[i]
        sums[j] = s
        sumsq[j] = ss
        xty[j] = sy
    return sums, sumsq, xty
