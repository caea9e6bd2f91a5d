"""Products with the (implicitly centred, row-weighted) design matrix.

The design seen by the solvers is ``A = X - row_scale[:, None] * offset[None, :]``
where ``X`` is either a dense array or a CSC matrix given by
``(data, indices, indptr)``. With an intercept, the estimator scales the rows of
``X`` by ``sqrt(sample_weight)`` and sets ``offset`` to the weighted feature means
and ``row_scale`` to ``sqrt(sample_weight)``: centring a sparse matrix is then
never materialised. Dense callers centre ``X`` themselves and pass an all-zero
``offset``. ``is_sparse`` tells which representation holds the data; the other
one is an empty placeholder of the same dtype.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def design_dot(X, data, indices, indptr, offset, row_scale, is_sparse, w, out):
    """``out = A @ w``."""
    if not is_sparse:
        out[:] = X @ w
    else:
        out[:] = 0.0
        for j in range(w.shape[0]):
            wj = w[j]
            if wj != 0.0:
                for k in range(indptr[j], indptr[j + 1]):
                    out[indices[k]] += data[k] * wj
    shift = 0.0
    for j in range(w.shape[0]):
        shift += offset[j] * w[j]
    if shift != 0.0:
        for i in range(out.shape[0]):
            out[i] -= row_scale[i] * shift


@njit(cache=True)
def design_tdot(X, data, indices, indptr, offset, row_scale, is_sparse, r, out):
    """``out = A.T @ r``."""
    if not is_sparse:
        out[:] = X.T @ r
    else:
        for j in range(out.shape[0]):
            acc = 0.0
            for k in range(indptr[j], indptr[j + 1]):
                acc += data[k] * r[indices[k]]
            out[j] = acc
    scaled_sum = 0.0
    for i in range(r.shape[0]):
        scaled_sum += row_scale[i] * r[i]
    if scaled_sum != 0.0:
        for j in range(out.shape[0]):
            out[j] -= offset[j] * scaled_sum


@njit(cache=True)
def design_sq_norm(X, data, indices, indptr, offset, row_scale, is_sparse, v, n_iter):
    """Estimate ``||A||_2^2`` by ``n_iter`` power iterations started from ``v``.

    The estimate is a lower bound that converges from below; solvers using it
    as a Lipschitz constant must backtrack.
    """
    n_samples = row_scale.shape[0]
    Av = np.empty(n_samples, dtype=v.dtype)
    AtAv = np.empty(v.shape[0], dtype=v.dtype)
    estimate = 0.0
    for _ in range(n_iter):
        norm = np.sqrt(np.sum(v.astype(np.float64) ** 2))
        if norm == 0.0:
            return 0.0
        for j in range(v.shape[0]):
            v[j] = v[j] / norm
        design_dot(X, data, indices, indptr, offset, row_scale, is_sparse, v, Av)
        design_tdot(X, data, indices, indptr, offset, row_scale, is_sparse, Av, AtAv)
        estimate = 0.0
        for j in range(v.shape[0]):
            estimate += v[j] * AtAv[j]
            v[j] = AtAv[j]
    return estimate
