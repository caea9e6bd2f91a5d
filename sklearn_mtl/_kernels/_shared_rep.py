"""Kernels of the shared low-rank multi-task least squares solver.

The estimator :class:`~sklearn_mtl.MultiTaskSharedRepRegressor` minimises

    1/(2 n) sum_{(i, t) observed} s_i (y_it - x_i U v_t - b_t)^2
        + alpha2 / 2 (||U||_F^2 + ||V||_F^2) + alpha1 ||U||_1

over ``U`` with ``V`` eliminated by exact ridge steps (the intercepts are
eliminated by centring).

With fully observed targets and ``alpha1 = 0`` the solver works in the
eigenbasis of the (weighted, centred) Gram matrix ``G = Q diag(lam) Q^T``,
where the loss is ``1/2 tr(W^T diag(lam) W) - <Cr, W> + const`` with
``Cr = Q^T X^T S Y / n``. There the ``V`` step is one ``k x k`` ridge system
shared by all tasks (``eigen_vstep``), the ``U`` step, the Sylvester equation
``diag(lam) U (V V^T) + alpha2 U = Cr V^T``, is solved exactly by
diagonalising ``V V^T`` (``eigen_ustep``), and the loss and its gradient
(``eigen_loss_grad``) cost ``O(r k T)`` flops, independent of ``n``. These
loops run hundreds of times per fit on small arrays, where Numba removes the
Python overhead.

With missing targets the work is products with ``X`` and with the mask, which
BLAS does faster than a loop; the estimator does it in numpy. The proximal
step of the L1 part is ``soft_threshold``.

All kernels are plain ``@njit(cache=True)`` functions over float64 arrays and
scalars; the estimator converts float32 inputs of these small arrays to
float64 and casts the results back.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def eigen_vstep(lam, Cr, U, alpha):
    """Exact V step: solve ``(U^T diag(lam) U + alpha I) V = U^T Cr``.

    Parameters
    ----------
    lam : ndarray of shape (r,)
        Non-negative eigenvalues of the weighted centred Gram matrix.
    Cr : ndarray of shape (r, T)
        ``Q^T X^T S Y / n`` in the same eigenbasis.
    U : ndarray of shape (r, k)
        Shared factor in the eigenbasis.
    alpha : float
        Coefficient of ``1/2 (||U||_F^2 + ||V||_F^2)``.

    Returns
    -------
    V : ndarray of shape (k, T)
    """
    k = U.shape[1]
    LU = U * lam.reshape(-1, 1)
    A = U.T @ LU
    for a in range(k):
        A[a, a] += alpha
    return np.linalg.solve(A, U.T @ Cr)


@njit(cache=True)
def eigen_ustep(lam, Cr, V, alpha):
    """Exact U step: solve ``diag(lam) U (V V^T) + alpha U = Cr V^T``.

    With ``V V^T = P diag(sig) P^T`` the Sylvester equation decouples into
    ``(lam_j sig_l + alpha) (U P)_jl = (Cr V^T P)_jl``.

    Returns
    -------
    U : ndarray of shape (r, k)
    """
    B = V @ V.T
    sig, P = np.linalg.eigh(B)
    D = Cr @ (V.T @ P)
    r, k = D.shape
    for j in range(r):
        for a in range(k):
            s = sig[a]
            if s < 0.0:
                s = 0.0
            D[j, a] /= lam[j] * s + alpha
    return D @ P.T


@njit(cache=True)
def eigen_loss_grad(lam, Cr, U, V):
    """Data-fit term (up to a constant) and its gradient in ``U``.

    In the eigenbasis the loss is ``1/2 sum_j lam_j ||W_j||^2 - <Cr, W>`` plus
    the constant ``1/2 ||B||^2`` (not included), with ``W = U V``.

    Returns
    -------
    value : float
    grad : ndarray of shape (r, k)
        ``(diag(lam) W - Cr) V^T``.
    """
    W = U @ V
    r, T = W.shape
    R = np.empty((r, T))
    value = 0.0
    for j in range(r):
        for t in range(T):
            w = W[j, t]
            value += 0.5 * lam[j] * w * w - Cr[j, t] * w
            R[j, t] = lam[j] * w - Cr[j, t]
    return value, R @ V.T


@njit(cache=True)
def soft_threshold(X, threshold):
    """Entry-wise soft-thresholding ``sign(x) max(|x| - threshold, 0)``."""
    out = np.empty_like(X)
    m, k = X.shape
    for j in range(m):
        for a in range(k):
            x = X[j, a]
            if x > threshold:
                out[j, a] = x - threshold
            elif x < -threshold:
                out[j, a] = x + threshold
            else:
                out[j, a] = 0.0
    return out
