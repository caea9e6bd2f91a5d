"""Kernels of the shared low-rank multi-task least squares solver.

The estimator :class:`~sklearn_mtl.MultiTaskSharedRepRegressor` minimises

    1/(2 n) sum_{(i, t) observed} s_i (y_it - x_i U v_t - b_t)^2
        + alpha2 / 2 (||U||_F^2 + ||V||_F^2) + alpha1 ||U||_1

over ``U`` with ``V`` eliminated by exact ridge steps (the intercepts are
eliminated by centring). Two kinds of kernels live here:

* ``eigen_*``: fully observed targets and ``alpha1 = 0``. The solver works in
  the eigenbasis of the (weighted, centred) Gram matrix
  ``G = Q diag(lam) Q^T``, where the loss is
  ``1/2 tr(W^T diag(lam) W) - <Cr, W> + const`` with ``Cr = Q^T X^T S Y / n``.
  There the ``V`` step is one ``k x k`` ridge system shared by all tasks, the
  ``U`` step, the Sylvester equation ``diag(lam) U (V V^T) + alpha2 U =
  Cr V^T``, is solved exactly by diagonalising ``V V^T``, and the loss and
  its gradient cost ``O(r k T)`` flops, independent of ``n``.
* ``masked_vstep`` and ``masked_rows``: the per-entry loops over observed
  targets used when some targets are missing (or an L1 part is present). The
  estimator multiplies by ``X`` and ``X^T`` with BLAS or sparse products and
  calls these kernels for everything that depends on the mask.

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
def masked_vstep(Z, zbar, Y, mask, sw, alpha, inv_n):
    """Exact V step with missing targets, one ``k x k`` ridge system per task.

    For task ``t`` solves ``(A_t + alpha I) v_t = r_t`` with
    ``A_t = inv_n * sum_{i in O_t} s_i (z_i - zbar_t)(z_i - zbar_t)^T`` and
    ``r_t = inv_n * sum_{i in O_t} s_i (z_i - zbar_t) y_it``.

    Parameters
    ----------
    Z : ndarray of shape (n, k)
        Shared representation ``X U``.
    zbar : ndarray of shape (T, k)
        Per-task weighted means of ``Z`` over the observed rows (zeros
        without intercept).
    Y : ndarray of shape (n, T)
        Targets, centred per task over the observed rows, 0 where missing.
    mask : ndarray of shape (n, T), dtype bool
        True where the target is observed.
    sw : ndarray of shape (n,)
        Sample weights summing to ``n``.
    alpha : float
    inv_n : float
        ``1 / n``.

    Returns
    -------
    V : ndarray of shape (k, T)
    """
    n, k = Z.shape
    T = Y.shape[1]
    A = np.zeros((T, k, k))
    rhs = np.zeros((T, k))
    zc = np.empty(k)
    for i in range(n):
        s = sw[i]
        if s == 0.0:
            continue
        for t in range(T):
            if not mask[i, t]:
                continue
            for a in range(k):
                zc[a] = Z[i, a] - zbar[t, a]
            y = s * Y[i, t]
            for a in range(k):
                sa = s * zc[a]
                rhs[t, a] += zc[a] * y
                for c in range(a + 1):
                    A[t, a, c] += sa * zc[c]
    V = np.empty((k, T))
    M = np.empty((k, k))
    b = np.empty(k)
    for t in range(T):
        for a in range(k):
            for c in range(a + 1):
                M[a, c] = A[t, a, c] * inv_n
                M[c, a] = M[a, c]
            M[a, a] += alpha
            b[a] = rhs[t, a] * inv_n
        V[:, t] = np.linalg.solve(M, b)
    return V


@njit(cache=True)
def masked_rows(Z, V, c, Y, mask, sw, inv_n, with_y):
    """Rows of the (masked) gradient or Hessian product in sample space.

    Computes ``Q[i] = inv_n * sum_{t observed for i} s_i e_it v_t`` with
    ``e_it = z_i . v_t - c_t - y_it`` if ``with_y`` else ``z_i . v_t - c_t``,
    so that ``X^T Q`` is the gradient of the data-fit term in ``U`` (with
    ``y``) or the product of its Hessian with the direction ``Z = X D``
    (without ``y``). Also returns ``inv_n / 2 * sum s_i e_it^2``, the data-fit
    value when ``with_y`` is True.

    Parameters
    ----------
    Z : ndarray of shape (n, k)
        ``X U`` (or ``X D`` for a direction ``D``).
    V : ndarray of shape (k, T)
    c : ndarray of shape (T,)
        ``zbar_t . v_t``: the per-task centring of the prediction.
    Y : ndarray of shape (n, T)
        Centred targets, 0 where missing (ignored if ``with_y`` is False).
    mask : ndarray of shape (n, T), dtype bool
    sw : ndarray of shape (n,)
    inv_n : float
    with_y : bool

    Returns
    -------
    Q : ndarray of shape (n, k)
    value : float
    """
    n, k = Z.shape
    T = V.shape[1]
    Q = np.zeros((n, k))
    value = 0.0
    for i in range(n):
        s = sw[i]
        if s == 0.0:
            continue
        for t in range(T):
            if not mask[i, t]:
                continue
            e = -c[t]
            for a in range(k):
                e += Z[i, a] * V[a, t]
            if with_y:
                e -= Y[i, t]
            value += s * e * e
            w = s * e * inv_n
            for a in range(k):
                Q[i, a] += w * V[a, t]
    return Q, 0.5 * inv_n * value


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
