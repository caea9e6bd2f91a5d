"""Elastic nets without an L1 part: ridge and least squares are quadratic.

Ridge (``l2_reg > 0``) is solved by preconditioned conjugate gradient on the
normal equations ``(A.T A + l2_reg I) w = A.T y`` and stops on the duality
gap of :func:`~sklearn_mtl._penalties.enet_duality_gap` (a bound on the
suboptimality). When the smaller side of the data is at most
``_DIRECT_MAX``, the preconditioner is the exact inverse, from a Cholesky
factorisation of ``A.T A + l2_reg I`` (or of ``A A.T + l2_reg I`` with more
features than samples, through the Woodbury identity): the first step is the
direct solution, and further steps refine it on the exact operator, so that
rounding in the factorisation costs no accuracy. Otherwise the preconditioner
is the diagonal. CG keeps ``rho = A.T y - (A.T A + l2_reg) w``, from which
``A.T r``, ``||r||^2`` and ``r.y`` follow without a pass over the data; a gap
below the tolerance is confirmed on the exact residual.

Least squares (no penalty) has no bounded dual. Dense data is solved
directly, by the singular value decomposition of the design (LAPACK's
``gelsd``, as :class:`~sklearn.linear_model.LinearRegression`), giving the
minimum-norm solution; sparse data by LSQR, whose stopping test bounds the
normal-equation residual ``||A.T r|| / (||A|| ||r||)``. With ``positive``,
dense data goes to the active-set NNLS solver (exact); sparse data never
comes here (:func:`~sklearn_mtl._linear._path.enet_path_on_design` refuses
it: no stopping measure would bound its suboptimality).
"""

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.sparse.linalg

from .._design import design_gram, design_kernel, design_matvec, design_rmatvec
from .._penalties import enet_duality_gap
from ._stall import StallWatch
from .cg import conjugate_gradient

# CG iterations without a new best gap before rounding is declared the limit.
_STALL_ITERATIONS = 25
# Factorise the Gram (or kernel) matrix when its side is at most this.
_DIRECT_MAX = 2000
# Sparse non-negative least squares is solved on a dense copy of at most this
# many entries (32 MB).
NNLS_DENSE_MAX = 1 << 22
# ... and sparse least squares is solved directly below this many flops.
_DIRECT_FLOPS = 2e8


def ridge_conjugate_gradient(design, y, w, l2_reg, max_iter, tol):
    """Ridge from ``w``; returns ``(w, gap, n_iter, status)`` (gap n-scaled)."""
    b = design_rmatvec(design, y)
    y_norm2 = float(y @ y)
    watch = StallWatch(_STALL_ITERATIONS)

    def matvec(v):
        return design_rmatvec(design, design_matvec(design, v)) + l2_reg * v

    def gap_of(w, grad, r_norm2, r_dot_y):
        return enet_duality_gap(w, r_norm2, r_dot_y, grad, 0.0, l2_reg, False)

    def stop(w, rho):
        w_dot_b = float(w @ b)
        r_norm2 = max(y_norm2 - w_dot_b - float(w @ rho) - l2_reg * float(w @ w), 0.0)
        gap = gap_of(w, rho + l2_reg * w, r_norm2, y_norm2 - w_dot_b)
        if gap <= tol:
            gap = exact_gap(w)
            if gap <= tol:
                return "converged"
        return "stalled" if watch.stalled(gap) else None

    def exact_gap(w):
        r = y - design_matvec(design, w)
        return gap_of(w, design_rmatvec(design, r), float(r @ r), float(r @ y))

    w, n_iter, status = conjugate_gradient(
        matvec, b, w, max_iter, stop, precond=_preconditioner(design, l2_reg)
    )
    return w, exact_gap(w), n_iter, status


def _preconditioner(design, l2_reg):
    """``v -> M^{-1} v`` for ``M`` the ridge operator (factorised) or its diagonal."""
    n, p = design.n_samples, design.n_features
    if min(n, p) > _DIRECT_MAX:
        diagonal = design.sq_norms + l2_reg
        return lambda v: v / diagonal
    if p <= n:
        factor = _factor(design_gram(design), l2_reg)
        return lambda v: _solve(factor, v)
    factor = _factor(design_kernel(design), l2_reg)

    def woodbury(v):
        # (A^T A + l I)^{-1} = (I - A^T (A A^T + l I)^{-1} A) / l
        inner = _solve(factor, design_matvec(design, v))
        return (v - design_rmatvec(design, inner)) / l2_reg

    return woodbury


def _factor(M, l2_reg):
    """A factorisation of ``M + l2_reg I``: Cholesky, or the eigendecomposition
    (eigenvalues floored at rounding) when rounding makes it indefinite."""
    M = M + l2_reg * np.eye(M.shape[0])
    try:
        return ("cholesky", scipy.linalg.cho_factor(M, check_finite=False))
    except (np.linalg.LinAlgError, ValueError):
        lam, Q = np.linalg.eigh((M + M.T) / 2)
        floor = max(lam.max(initial=0.0), 0.0) * M.shape[0] * np.finfo(np.float64).eps
        return ("eigh", (np.maximum(lam, max(floor, l2_reg)), Q))


def _solve(factor, v):
    kind, data = factor
    if kind == "cholesky":
        return scipy.linalg.cho_solve(data, v, check_finite=False)
    lam, Q = data
    return Q @ ((Q.T @ v) / lam)


def least_squares(design, y, positive, max_iter, tol):
    """Unpenalised least squares; returns ``(w, measure, n_iter, status)``.

    ``positive`` on a sparse design solves on a dense copy of it (at most
    ``NNLS_DENSE_MAX`` entries: the caller checks); so does a small sparse
    design (:func:`solved_directly`), which LSQR would solve only up to its
    tolerance, and not at all when ill-conditioned.

    ``measure`` is 0 for the direct solvers and LSQR's relative residual
    (of the system or of the normal equations, the smaller) otherwise.
    """
    if design.csc is None or positive or solved_directly(*design.csc.shape):
        if design.csc is None:
            A = np.asarray(design.X, dtype=np.float64)
        else:
            A = np.asarray(design.csc.todense(), dtype=np.float64)
        if design.implicit:
            A = A - np.multiply.outer(design.row_scale, design.offset)
        if positive:
            return _nonnegative_least_squares(A, y, max_iter)
        else:
            # Singular values below this are rounding (numpy's default cutoff).
            cond = np.finfo(np.float64).eps * max(A.shape)
            w = scipy.linalg.lstsq(
                A, y, cond=cond, lapack_driver="gelsd", check_finite=False
            )[0]
        return w, 0.0, 1, "converged"
    n, p = design.n_samples, design.n_features
    operator = scipy.sparse.linalg.LinearOperator(
        (n, p),
        matvec=lambda v: design_matvec(design, v),
        rmatvec=lambda v: design_rmatvec(design, v),
        dtype=np.float64,
    )
    # LSQR's own tests stop at ``tol`` on the measure below; its limit on the
    # condition number is off (an ill-conditioned problem is not solved yet).
    rtol = max(tol, 1e-15)
    result = scipy.sparse.linalg.lsqr(
        operator, y, atol=rtol, btol=rtol, conlim=0.0, iter_lim=max_iter
    )
    w, istop, n_iter = result[0], result[1], result[2]
    measure = _relative_residual(design, y, w)
    if measure <= tol:
        status = "converged"
    else:
        status = "max_iter" if istop == 7 else "stalled"
    if design.dtype != np.float64:
        # coef_ takes X's dtype: the measure is the stored coefficients'
        # (the cast scales by a power of two, so rounding here is the same).
        stored = w.astype(design.dtype).astype(np.float64)
        stored_measure = _relative_residual(design, y, stored)
        if stored_measure > max(tol, 2.0 * measure):
            status = "dtype"  # the rounding to the dtype, not the solver
        w, measure = stored, stored_measure
    return w, float(measure), int(n_iter), status


def _relative_residual(design, y, w):
    """LSQR's relative residual at ``w``, on the exact residual and ``||A||_F``.

    LSQR's residuals and its estimate of ``||A||_F`` come from recurrences
    that drift on ill-conditioned problems (the estimate grows past
    ``||A||_F`` as its vectors lose orthogonality). Its two tests: a
    consistent system (the residual itself is small) or a least-squares
    solution (the normal-equation residual is small); the measure is the
    smaller, each relative to its scale.
    """
    anorm = float(np.sqrt(design.sq_norms.sum()))
    r = y - design_matvec(design, w)
    rnorm = float(np.linalg.norm(r))
    arnorm = float(np.linalg.norm(design_rmatvec(design, r)))
    xnorm = float(np.linalg.norm(w))
    tiny = np.finfo(np.float64).tiny
    consistent = rnorm / max(anorm * xnorm + np.sqrt(y @ y), tiny)
    normal = arnorm / max(anorm * rnorm, tiny)
    return float(min(consistent, normal))


def solved_directly(n_samples, n_features):
    """Whether sparse least squares is solved on a dense copy (exactly)
    rather than by LSQR: a copy of at most ``NNLS_DENSE_MAX`` entries whose
    direct solve (``n p min(n, p)`` flops) takes a fraction of a second."""
    size = n_samples * n_features
    return size <= NNLS_DENSE_MAX and size * min(n_samples, n_features) <= _DIRECT_FLOPS


def _nonnegative_least_squares(A, y, max_iter):
    """``(w, 0, n_iter, status)``: scipy's active-set NNLS, exact when it ends.

    Its iteration limit raises instead of returning (degenerate problems can
    need more than the customary 3 p steps): then bounded-variable least
    squares from scipy takes over within ``max_iter``, and its status tells
    whether it met its optimality test.
    """
    try:
        w, _ = scipy.optimize.nnls(A, y, maxiter=max(max_iter, 3 * A.shape[1]))
        return w, 0.0, 1, "converged"
    except RuntimeError:
        result = scipy.optimize.lsq_linear(
            A, y, bounds=(0.0, np.inf), method="bvls", max_iter=max_iter, tol=1e-15
        )
        w = np.maximum(result.x, 0.0)
        if result.status > 0:
            return w, 0.0, int(result.nit), "converged"
        return w, float(result.optimality), int(result.nit), "max_iter"
