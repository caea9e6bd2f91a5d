"""Multi-task squared loss of a shared factor ``U``, the heads eliminated.

The loss of :class:`~sklearn_mtl.MultiTaskSharedRepRegressor` is::

    L(U, V) = 1/(2n) sum_t c_t sum_{i in O_t} s_i ((x_i - m_t) U v_t - y_it + ybar_t)^2

(``O_t`` the rows where task ``t`` is observed, ``m_t``, ``ybar_t`` its weighted
means, ``c_t`` the task weights). For a given ``U`` the heads are an exact ridge
solve, ``v_t = argmin L + alpha / 2 ||v_t||^2``, so the solvers see a function
of ``U`` alone. Four forms hold the same loss, chosen by cost:

- :class:`EigenForm`: every target observed, no L1 part. One Gram matrix is
  shared by all tasks; in its eigenbasis an iteration costs ``O(r k T)`` and
  the alternating U step is an exact (diagonal) Sylvester solve.
- :class:`StatisticsForm`: per-task sufficient statistics ``X_t^T S_t X_t`` (or
  one shared Gram matrix), built once; iterations never read ``X``. Pays when
  ``sum_t n_t p^2`` is small next to the products an iterative fit needs
  (School: 139 tasks of 27 features).
- :class:`GramForm`: dense ``X``, a minority of missing targets. The shared
  Gram matrix and ``X^T Y`` (one pass, built once) hold the loss of the
  filled-in data; an evaluation corrects it on the missing entries only,
  from ``Z = A U`` and one product ``A^T Q``. The fully observed loss bounds
  it from above, which gives an exact EM step in ``U`` and a surrogate whose
  minimiser (no pass over ``X``) starts the solver close to the solution.
- :class:`RowForm`: products with ``X`` (dense or sparse), the observed
  entries read block by block of rows from ``Y``; its cost and memory scale
  with ``n k`` and the observed entries, not with ``n T``.

Each form gives ``evaluate(U) -> (value, grad, V)`` (the loss up to a
constant, its gradient in ``U`` by the envelope theorem, and the exact heads),
``heads(U)``, and an exact ``ustep`` or ``hessp`` (or both) for the
alternating step. ``C`` is the loss gradient in ``W = U V`` at zero (up to sign), used for
the zero solution and the initialisation; ``feature_var`` the diagonal of each
task's Gram matrix (a preconditioner).
"""

import numpy as np

from .._design import (
    design_gram,
    design_kernel,
    design_matvec,
    design_rmatvec,
    design_rmatvec_rows,
)
from .._kernels._masked import (
    add_missing_row_sums,
    missing_entries,
    missing_fill_product,
    missing_gram,
    observed_moments,
)
from ._statistics import task_statistics

# Entries of each block temporary in the row form (2 MB): a handful of them
# stay well below the memory of X.
_BLOCK_ENTRIES = 1 << 18


def _solve_heads(M, rhs, alpha):
    """``v_t = (M_t + alpha I)^{-1} rhs_t`` for every task.

    ``M`` is ``(T, k, k)`` (per-task, weights folded in) and ``rhs`` ``(k, T)``.
    """
    k = rhs.shape[0]
    # Below rounding of M_t's scale the ridge no longer makes a singular M_t
    # solvable: floor it there (it then changes nothing representable).
    scale = np.trace(M, axis1=1, axis2=2) / max(k, 1)
    ridge = np.maximum(alpha, 10 * np.finfo(np.float64).eps * scale)
    A = M + ridge[:, None, None] * np.eye(k)
    return np.linalg.solve(A, rhs.T[:, :, None])[:, :, 0].T


class EigenForm:
    """Fully observed targets: the loss in the eigenbasis of the shared Gram matrix.

    With ``G = Q diag(lam) Q^T`` (the weighted, centred Gram matrix divided
    by ``n``) and ``Cr = Q^T C``, the loss is ``sum_t c_t (1/2 w_t^T diag(lam)
    w_t - Cr_t . w_t)`` up to a constant, with ``W = U V`` in that basis.
    """

    def __init__(self, lam, Cr, task_weight, alpha):
        self.lam = lam
        self.Cr = Cr
        self.c = task_weight
        self.alpha = alpha

    def heads(self, U):
        # One k x k eigendecomposition gives every task's ridge solve.
        mu, P = np.linalg.eigh(U.T @ (self.lam[:, None] * U))
        R = P.T @ (U.T @ self.Cr)
        return P @ (R / (np.maximum(mu, 0.0)[:, None] + self.alpha / self.c))

    def evaluate(self, U):
        V = self.heads(U)
        W = U @ V
        value = float(self.c @ (0.5 * (self.lam @ W**2) - np.einsum("jt,jt->t", self.Cr, W)))
        grad = ((self.lam[:, None] * W - self.Cr) * self.c) @ V.T
        return value, grad, V

    def ustep(self, U, grad, V):
        """Exact U step: ``diag(lam) U (V C V^T) + alpha U = Cr C V^T``."""
        sigma, P = np.linalg.eigh((V * self.c) @ V.T)
        D = ((self.Cr * self.c) @ V.T) @ P
        D /= self.lam[:, None] * np.maximum(sigma, 0.0)[None, :] + self.alpha
        return D @ P.T

    def initial_direction(self):
        """The ridge solution in ``W`` (its leading factors start ``U``)."""
        return self.gradient_at_zero() / (self.lam[:, None] * self.c + self.alpha)

    def gradient_at_zero(self):
        return self.Cr * self.c


class StatisticsForm:
    """Per-task (or shared) Gram matrices ``G`` (``(T_x, p, p)``) and ``C`` (``(p, T)``)."""

    def __init__(self, G, C, task_weight, alpha):
        self.G = G
        self.C = C
        self.c = task_weight
        self.alpha = alpha
        self.shared = G.shape[0] == 1

    def _apply(self, W):
        """``G_t w_t`` for every column of ``W``."""
        if self.shared:
            return self.G[0] @ W
        return np.matmul(self.G, W.T[:, :, None])[:, :, 0].T

    def heads(self, U):
        rhs = (U.T @ self.C) * self.c
        if self.shared:
            mu, P = np.linalg.eigh(U.T @ self.G[0] @ U)
            return P @ ((P.T @ rhs) / (np.maximum(mu, 0.0)[:, None] * self.c + self.alpha))
        M = np.matmul(U.T, np.matmul(self.G, U)) * self.c[:, None, None]
        return _solve_heads(M, rhs, self.alpha)

    def evaluate(self, U):
        V = self.heads(U)
        W = U @ V
        GW = self._apply(W)
        value = float(self.c @ np.einsum("pt,pt->t", 0.5 * GW - self.C, W))
        grad = ((GW - self.C) * self.c) @ V.T
        return value, grad, V

    def hessp(self, D, V):
        """Hessian of the loss in ``U`` (at fixed ``V``) applied to ``D``."""
        return (self._apply(D @ V) * self.c) @ V.T

    def feature_var(self):
        """``(p, T)``: the diagonal of each task's Gram matrix."""
        diag = np.diagonal(self.G, axis1=1, axis2=2).T
        return np.broadcast_to(diag, self.C.shape)

    def initial_direction(self):
        """A diagonal ridge solution in ``W`` (its leading factors start ``U``)."""
        return self.gradient_at_zero() / (self.feature_var() * self.c + self.alpha)

    def gradient_at_zero(self):
        return self.C * self.c


class RowForm:
    """Products with the design, the observed entries of ``Y`` read by row blocks.

    ``design`` holds ``X`` centred around its global weighted means (rows not
    weighted); ``delta`` is ``(T, p)``: each task's mean minus the global one,
    so that ``x_i - m_t = a_i - delta_t``. ``weights`` is ``s_i c_t / n`` per
    observed entry, built block by block from ``observed`` rows, never as a
    dense ``n x T`` array: only ``Z = A U`` (``n x k``) is kept.
    """

    def __init__(self, design, Y, sw, task_weight, y_mean, delta, alpha, inv_n):
        self.design = design
        self.Y = Y
        self.sw = sw
        self.c = task_weight
        self.y_mean = y_mean
        self.delta = delta
        self.alpha = alpha
        self.inv_n = inv_n

    def _blocks(self, width=1):
        """``(rows, weights, centred targets)`` per block; 0 where missing.

        Blocks hold at most ``_BLOCK_ENTRIES`` entries of ``n_b x T`` or
        ``n_b x width`` temporaries.
        """
        n, n_tasks = self.Y.shape
        step = max(1, _BLOCK_ENTRIES // max(n_tasks, width, 1))
        for start in range(0, n, step):
            rows = slice(start, start + step)
            Yb = self.Y[rows]
            observed = ~np.isnan(Yb)
            weights = observed * (self.sw[rows, None] * self.c * self.inv_n)
            Yc = np.where(observed, Yb - self.y_mean, 0.0)
            yield rows, weights, Yc

    def _heads_from(self, Z, zbar):
        """Per-task ridge heads from ``Z = A U`` and ``zbar_t = delta_t U``."""
        k = Z.shape[1]
        n_tasks = self.Y.shape[1]
        M = np.zeros((n_tasks, k * k))
        rhs = np.zeros((k, n_tasks))
        total = np.zeros(n_tasks)
        for rows, weights, Yc in self._blocks(k * k):
            Zb = Z[rows]
            M += weights.T @ (Zb[:, :, None] * Zb[:, None, :]).reshape(len(Zb), k * k)
            rhs += Zb.T @ (weights * Yc)
            total += weights.sum(axis=0)
        # Centre each task on its own mean: sum w (z - zbar)(z - zbar)^T.
        M = M.reshape(n_tasks, k, k) - total[:, None, None] * (
            zbar[:, :, None] * zbar[:, None, :]
        )
        return _solve_heads(M, rhs, self.alpha)

    def heads(self, U):
        return self._heads_from(design_matvec(self.design, U), self.delta @ U)

    def evaluate(self, U):
        Z = design_matvec(self.design, U)
        zbar = self.delta @ U
        V = self._heads_from(Z, zbar)
        offset = np.einsum("tk,kt->t", zbar, V)
        Q = np.empty_like(Z)
        value = 0.0
        for rows, weights, Yc in self._blocks():
            E = Z[rows] @ V - offset - Yc
            WE = weights * E
            value += 0.5 * float(np.vdot(WE, E))
            Q[rows] = WE @ V.T
        # Residuals sum to zero per task (both sides are centred on O_t), so
        # the task means drop out of the gradient.
        return value, design_rmatvec(self.design, Q), V

    def hessp(self, D, V):
        Z = design_matvec(self.design, D)
        offset = np.einsum("tk,kt->t", self.delta @ D, V)
        Q = np.empty_like(Z)
        for rows, weights, _ in self._blocks():
            Q[rows] = (weights * (Z[rows] @ V - offset)) @ V.T
        return design_rmatvec(self.design, Q)

    def gradient_at_zero(self):
        """``C`` with task weights: ``A^T (W * Yc)`` (``(p, T)``)."""
        C = np.zeros((self.design.n_features, self.Y.shape[1]))
        for rows, weights, Yc in self._blocks():
            C += design_rmatvec_rows(self.design, rows, weights * Yc)
        return C

    def feature_var(self):
        """``(p, T)``: each task's weighted variance of each feature (times
        its weight share), by one pass over the squared data."""
        n_tasks = self.Y.shape[1]
        p = self.design.n_features
        sq = np.zeros((p, n_tasks))
        total = np.zeros(n_tasks)
        data = self.design.X if self.design.csc is None else self.design.csc
        off = self.design.offset
        for rows, weights, _ in self._blocks(p):
            Xb = data[rows]
            Xb = Xb.toarray() if hasattr(Xb, "toarray") else np.asarray(Xb, dtype=np.float64)
            Xb = Xb - off
            sq += (Xb * Xb).T @ weights
            total += weights.sum(axis=0)
        c = np.where(self.c > 0, self.c, 1.0)
        return np.maximum(sq - total * (self.delta**2).T, 0.0) / c

    def initial_direction(self):
        """A diagonal ridge solution in ``W`` (its leading factors start ``U``)."""
        return self.gradient_at_zero() / (self.feature_var() * self.c + self.alpha)


class GramForm:
    """Missing targets: the shared Gram matrix, corrected on the missing entries.

    Each task's centred Gram matrix is the shared one minus its missing rows:
    ``sum_{O_t} s a a^T = n G - sum_{M_t} s a a^T``. ``G = A^T S A / n`` and
    ``C = A^T S Yc / n`` (``Yc`` centred on each task's observed rows, 0 where
    missing) are built once; an evaluation then takes ``Z = A U`` and one
    product ``A^T Q`` (``Q``: ``n x k``) and visits the missing entries only,
    never ``n x T`` arrays. The Hessian in ``U`` of the fully observed loss,
    ``G U (V C V^T)``, bounds the loss's from above: its exact minimiser is an
    EM step, solved in the eigenbasis of ``G`` (:meth:`ustep`).

    ``missing`` holds the missing entries row by row (``indptr``, ``tasks``);
    ``observed_weight`` each task's ``sum_{O_t} s_i``; ``yy`` each task's
    ``sum_{O_t} s_i yc_it^2``.
    """

    def __init__(self, design, G, C, sw, task_weight, alpha, delta, observed_weight,
                 yy, missing):
        self.design = design
        self.G = G
        self.C = C
        self.sw = sw
        self.c = task_weight
        self.alpha = alpha
        self.delta = delta
        self.observed_weight = observed_weight
        self.yy = yy
        self.missing = missing
        self.inv_n = 1.0 / design.n_samples
        self._eigen = None

    def _eigh(self):
        """The eigendecomposition of ``G``, computed once (at the first EM step)."""
        if self._eigen is None:
            lam, Q = np.linalg.eigh((self.G + self.G.T) / 2)
            self._eigen = np.maximum(lam, 0.0), Q
        return self._eigen

    def _heads_from(self, Z, zbar, U):
        """Heads, per-task ``M_t`` (weights folded) and ``rhs`` from ``Z = A U``."""
        indptr, tasks = self.missing
        n_tasks = self.C.shape[1]
        missing = missing_gram(Z, self.sw, indptr, tasks, n_tasks)
        M = (U.T @ (self.G @ U))[None] - self.inv_n * (
            missing + self.observed_weight[:, None, None]
            * (zbar[:, :, None] * zbar[:, None, :])
        )
        M *= self.c[:, None, None]
        rhs = (U.T @ self.C) * self.c
        return _solve_heads(M, rhs, self.alpha), M, rhs

    def _curvature_product(self, Z, zbar, W, V):
        """Hessian in ``U`` (at fixed ``V``) applied to ``D``, from ``Z = A D``,
        ``zbar = delta D`` and ``W = D V``: the shared part minus the missing rows."""
        indptr, tasks = self.missing
        Q = missing_fill_product(
            Z, zbar, np.ascontiguousarray(V.T), self.sw, self.c * self.inv_n, indptr,
            tasks,
        )
        return ((self.G @ W) * self.c) @ V.T - design_rmatvec(self.design, Q)

    def heads(self, U):
        return self._heads_from(design_matvec(self.design, U), self.delta @ U, U)[0]

    def evaluate(self, U):
        Z = design_matvec(self.design, U)
        zbar = self.delta @ U
        V, M, rhs = self._heads_from(Z, zbar, U)
        # Observed squares expanded around the heads: the constant keeps the
        # value a sum of squares (>= 0), as the row form's.
        value = float(
            0.5 * self.inv_n * (self.c @ self.yy)
            + 0.5 * np.einsum("kt,tkl,lt->", V, M, V)
            - np.vdot(V, rhs)
        )
        grad = self._curvature_product(Z, zbar, U @ V, V) - (self.C * self.c) @ V.T
        return value, grad, V

    def hessp(self, D, V):
        return self._curvature_product(
            design_matvec(self.design, D), self.delta @ D, D @ V, V
        )

    def ustep(self, U, grad, V):
        """EM step: the exact minimiser in ``U`` of the fully observed bound,
        ``G U (V C V^T) + alpha U = B`` with ``B`` from the gradient at ``U``."""
        lam, Q = self._eigh()
        B = ((self.G @ (U @ V)) * self.c) @ V.T - grad
        sigma, P = np.linalg.eigh((V * self.c) @ V.T)
        D = (Q.T @ B @ P) / (lam[:, None] * np.maximum(sigma, 0.0)[None, :] + self.alpha)
        return _balanced(Q @ D @ P.T, V, U)

    def initial_direction(self):
        """Each task's ridge solution in ``W``, its rows' Gram matrix taken as
        ``G`` times its observed share (exact when entries miss at random)."""
        lam, Q = self._eigh()
        share = self.observed_weight * self.inv_n
        Cr = Q.T @ self.gradient_at_zero()
        return Q @ (Cr / (lam[:, None] * (share * self.c) + self.alpha))

    def gradient_at_zero(self):
        return self.C * self.c

    def surrogate(self):
        """The fully observed loss that :meth:`initial_direction` assumes, as an
        :class:`EigenForm`, and the basis ``Q`` it lives in (``U = Q U_basis``).

        It never reads ``X``: minimising it gives a start close to the
        solution when the entries miss at random.
        """
        lam, Q = self._eigh()
        share = self.observed_weight * self.inv_n
        form = EigenForm(lam, (Q.T @ self.C) / share, share * self.c, self.alpha)
        return form, Q


def _balanced(U, V, reference):
    """The factor ``U'`` of ``U V = U' V'`` with ``U'^T U' = V' V'^T``, its
    columns the product's left singular vectors (signs as in ``reference``).

    With the ridge penalty on both factors the balanced pair has the smallest
    penalty for the same product, so it lowers the objective; and the
    canonical columns make the iterates of the EM map comparable, which its
    extrapolation needs (``U`` is otherwise only defined up to a rotation).
    """
    Qu, Ru = np.linalg.qr(U)
    Qv, Rv = np.linalg.qr(V.T)
    P, sigma, _ = np.linalg.svd(Ru @ Rv.T)
    U = Qu @ (P * np.sqrt(sigma))
    U[:, np.einsum("jl,jl->l", U, reference) < 0] *= -1.0
    return U


def eigen_form(design, Y, sw, task_weight, alpha, y_mean):
    """:class:`EigenForm` of fully observed ``Y``; also returns the maps
    ``to_basis(U)`` and ``from_basis(U_basis)`` between the two bases.

    With more samples than features the basis diagonalises ``G = A^T S A / n``;
    otherwise it comes from ``K = D A A^T D`` (``D = diag(sqrt(s / n))``,
    ``D A = E diag(lam)^(1/2) Q^T``) and ``Q`` is never formed.
    """
    n, p = design.n_samples, design.n_features
    weights = sw / n
    Yc = Y - y_mean
    if n >= p:
        G = design_gram(design, weights)
        lam, Q = np.linalg.eigh((G + G.T) / 2)
        Cr = Q.T @ design_rmatvec(design, Yc * weights[:, None])

        def to_basis(U):
            return Q.T @ U

        def from_basis(U_basis):
            return Q @ U_basis

    else:
        d = np.sqrt(weights)
        K = design_kernel(design) * np.outer(d, d)
        lam, E = np.linalg.eigh((K + K.T) / 2)
        keep = lam > max(lam[-1], 0.0) * n * np.finfo(np.float64).eps
        lam, E = lam[keep], E[:, keep]
        root = np.sqrt(lam)
        Cr = (E.T @ (Yc * d[:, None])) * root[:, None]

        def to_basis(U):
            return (E.T @ (d[:, None] * design_matvec(design, U))) / root[:, None]

        def from_basis(U_basis):
            return design_rmatvec(design, d[:, None] * (E @ (U_basis / root[:, None])))

    form = EigenForm(np.maximum(lam, 0.0), np.ascontiguousarray(Cr), task_weight, alpha)
    return form, to_basis, from_basis


def statistics_form(design, Y, sw, task_weight, alpha, fit_intercept):
    """:class:`StatisticsForm` from the per-task statistics of the design's rows.

    Returns the form, the per-task means of the design's rows ``(T_x, p)``
    and the per-task target means ``(T,)``.
    """
    data = design.X if design.csc is None else design.csc
    stats = task_statistics(data, Y, sw, fit_intercept, x_shift=design.offset)
    inv_n = 1.0 / design.n_samples
    form = StatisticsForm(stats.xx * inv_n, stats.xy.T * inv_n, task_weight, alpha)
    return form, stats.x_mean, stats.y_mean


def row_form(design, Y, sw, task_weight, alpha, fit_intercept):
    """:class:`RowForm`; also returns the per-task means of the design's rows
    ``(T, p)`` and of the targets ``(T,)``."""
    n, p = design.n_samples, design.n_features
    n_tasks = Y.shape[1]
    delta = np.zeros((n_tasks, p))
    y_mean = np.zeros(n_tasks)
    if fit_intercept:
        total = np.zeros(n_tasks)
        data = design.X if design.csc is None else design.csc
        step = max(1, _BLOCK_ENTRIES // max(n_tasks, p, 1))
        for start in range(0, n, step):
            rows = slice(start, start + step)
            Yb = Y[rows]
            observed = ~np.isnan(Yb)
            weights = observed * sw[rows, None]
            Ab = data[rows]
            Ab = Ab.toarray() if hasattr(Ab, "toarray") else np.asarray(Ab, np.float64)
            delta += weights.T @ (Ab - design.offset)
            y_mean += np.einsum("it,it->t", weights, np.where(observed, Yb, 0.0))
            total += weights.sum(axis=0)
        delta /= total[:, None]
        y_mean /= total
    form = RowForm(design, Y, sw, task_weight, y_mean, delta, alpha, 1.0 / n)
    return form, delta, y_mean


def gram_form(design, Y, sw, task_weight, alpha, fit_intercept):
    """:class:`GramForm`; also returns the per-task means of the design's rows
    ``(T, p)`` and of the targets ``(T,)``."""
    n = design.n_samples
    n_tasks = Y.shape[1]
    indptr, tasks = missing_entries(Y)
    weight, total, _ = observed_moments(Y, sw, np.zeros(n_tasks))
    y_mean = total / weight if fit_intercept else np.zeros(n_tasks)
    _, residual_sum, yy = observed_moments(Y, sw, y_mean)
    G, C, missing_sums = _gram_pass(design, Y, sw, y_mean, (indptr, tasks))
    offset = design.offset
    if np.any(offset):
        # A = X - 1 offset^T: the rank-one corrections of the sums over X.
        C -= np.outer(offset, residual_sum)
        missing_sums -= (sw.sum() - weight)[:, None] * offset
    delta = np.zeros((n_tasks, design.n_features))
    if fit_intercept:
        # The columns of A sum to zero (weights s): the observed rows' sum is
        # minus the missing rows' one.
        delta = -missing_sums / weight[:, None]
    form = GramForm(
        design, G / n, C / n, sw, task_weight, alpha, delta, weight, yy, (indptr, tasks)
    )
    return form, delta, y_mean


def _gram_pass(design, Y, sw, y_mean, missing):
    """One pass over the rows of the data: ``A^T S A``, ``X^T S Yc`` (``Yc``
    centred on ``y_mean``, 0 where missing) and, per task, ``sum s_i x_i``
    over its missing rows ``(T, p)`` (``A = X - 1 offset^T``)."""
    indptr, tasks = missing
    n, p = design.n_samples, design.n_features
    n_tasks = Y.shape[1]
    data = design.X if design.csc is None else design.csc
    weighted = not np.all(sw == 1.0)
    gram = np.zeros((p, p))
    C = np.zeros((p, n_tasks))
    sums = np.zeros((n_tasks, p))
    # Blocks of a sixteenth of the rows at most: float64 copies (float32,
    # sparse, weighted or non C-ordered data) stay small next to X.
    step = max(1, min(n // 16 + 1, 4 * _BLOCK_ENTRIES // max(p, n_tasks, 1)))
    for start in range(0, n, step):
        rows = slice(start, start + step)
        sb = sw[rows]
        Xb = data[rows]
        Xb = np.ascontiguousarray(
            Xb.toarray() if hasattr(Xb, "toarray") else Xb, dtype=np.float64
        )
        # X_b^T X_b of one buffer is a symmetric rank-k update (half the work).
        root = Xb * np.sqrt(sb)[:, None] if weighted else Xb
        gram += root.T @ root
        Yb = Y[rows]
        C += Xb.T @ (np.where(np.isnan(Yb), 0.0, Yb - y_mean) * sb[:, None])
        add_missing_row_sums(Xb, sb, indptr, tasks, start, sums)
    # A = X - 1 offset^T with offset the weighted column means: X^T S 1 is
    # n offset, so the rank-one corrections of the Gram matrix merge.
    gram -= sw.sum() * np.outer(design.offset, design.offset)
    return gram, C, sums
