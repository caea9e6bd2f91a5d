"""Working-set solver for the elastic net with an L1 part.

Solves the n-scaled problem of :mod:`sklearn_mtl._penalties`::

    min_w 1/2 ||y - A w||^2 + l1_reg ||w||_1 + l2_reg / 2 ||w||^2,  l1_reg > 0

Each outer round takes one full pass ``A.T @ r``: it gives the duality gap
(the stopping test, a bound on the suboptimality) and the optimality
violations that rank the features. The working set is the support plus the
features closest to violating their optimality condition (normalised by
their column norm), about twice as many as the support, doubled when a round
ends at once. On the working set, coordinate proximal steps with Anderson
extrapolation (:mod:`sklearn_mtl._kernels._coordinate_descent`) run until the
largest violation has fallen to a fraction of what it was.

The loop ends when the gap is at most ``tol`` ("converged"), when ``max_iter``
epochs have been spent ("max_iter"), when a round containing every violating
feature moves no coefficient by more than rounding, or rounds in a row lower
neither the gap nor the objective ("stalled": the gap cannot fall further in
floating point), or on a non-finite value ("non-finite").
Every round spends at least one epoch, so ``max_iter`` bounds all the work.
"""

import numpy as np
from scipy.linalg import cho_factor, cho_solve, lstsq

from .._design import design_rmatvec, design_support_matvec
from .._kernels._coordinate_descent import (
    cd_epochs_dense,
    cd_epochs_gram,
    cd_epochs_sparse,
    csc_columns,
    working_set_scores,
)
from .._kernels._products import (
    sparse_columns_gram,
    sparse_columns_product,
    sparse_columns_rmatvec,
)
from .._penalties import enet_duality_gap, enet_penalty_value
from ._stall import StallWatch

# Smallest working set, and at least this fraction of the features: early
# rounds cost a full pass each, so a first working set that is cheap next to
# a pass but not tiny saves rounds.
_MIN_SIZE = 10
_MIN_FRACTION = 0.02
# A working set this full of non-zeros after its round grows fourfold.
_SATURATED = 0.9
# The exact solve on the support may cost this many passes over the data, or
# this many flops (negligible) whatever the passes cost.
_POLISH_PASSES = 4
_POLISH_FLOPS = 1e7
# A converged fit ends with that solve when its target gap is at most this
# fraction of ||y||^2 (sklearn's default tol of 1e-4 and tighter, times the
# path's GAP_SAFETY): the last digits, which coordinate steps approach
# slowly, are what the solve gives. A looser target, which the epochs have
# just met, does not ask for them: the solve then runs only when negligible.
_POLISH_AIM = 3e-10
_NEGLIGIBLE_FLOPS = 1e6
# A dense LU factorisation runs at BLAS-3 speed: measured on one core, about
# 5 times the flop rate of a dense pass and 17 times a sparse one (20 vs 4.2
# and 1.2 Gflop/s), so its size^3 flops count for an eighth of a pass's.
_SOLVE_DISCOUNT = 8.0
_POLISH_TRIES = 3
# The dense residual is recomputed at every round while the support holds at
# most this fraction of the features (its columns cost that share of a pass).
_EXACT_SHARE = 8
# Inner tolerance as a fraction of the working set's largest violation.
_INNER_RATIO = 0.3
_ANDERSON_K = 5
# A sparse working set with at least this many entries is copied before its
# epochs (about a megabyte: fewer stay in cache where they lie).
_COPIED_ENTRIES = 1 << 16
# Epochs in one round at most: where coordinate steps crawl (nearly collinear
# columns), the next round's pass and exact support solve can end the run.
_ROUND_EPOCHS = 1000
# Outer rounds in a row without lowering the best gap by this fraction, nor
# the objective by more than its rounding, mean that rounding, not the
# iterations, limits the accuracy.
_PROGRESS = 1e-3
_STALL_ROUNDS = 20


def enet_working_set(design, y, w, l1_reg, l2_reg, positive, max_iter, tol,
                     first_grad=None):
    """Solve from ``w`` (updated in place) on a dense or sparse design.

    ``y`` is the centred, weighted target (float64); ``first_grad``, when
    given, is ``A.T @ y`` (it saves the first pass when ``w`` is zero).
    Returns ``(gap, n_epochs, status)`` with the n-scaled gap.
    """
    first_grad = first_grad if not np.any(w) else None
    if design.csc is None:
        state = _DenseResidual(design, y, w, first_grad)
    else:
        state = _SparseResidual(design, y, w, first_grad)
    return _outer_loop(
        state, w, design.sq_norms, float(np.sqrt(y @ y)), l1_reg, l2_reg,
        positive, max_iter, tol,
    )


def enet_working_set_gram(G, Aty, y_norm2, w, l1_reg, l2_reg, positive, max_iter, tol):
    """The same solver on the Gram matrix ``G = A.T A`` and ``Aty = A.T y``.

    ``A`` is never read: ``A.T r = Aty - G w``, ``||r||^2 = ||y||^2 -
    w.Aty - w.A.T r`` and ``r.y = ||y||^2 - w.Aty``. Worth it along a path on
    data with many more samples than features, or when the data is not in
    memory (the Gram matrix is a sum over row blocks).
    """
    state = _GramState(G, Aty, y_norm2, w)
    return _outer_loop(
        state, w, np.diag(G).copy(), float(np.sqrt(y_norm2)), l1_reg, l2_reg,
        positive, max_iter, tol,
    )


def _outer_loop(state, w, sq_norms, y_norm, l1_reg, l2_reg, positive, max_iter, tol):
    n_features = w.shape[0]
    min_size = max(_MIN_SIZE, int(_MIN_FRACTION * n_features))
    # Violations below this are rounding noise.
    norms = np.sqrt(sq_norms)
    floor = 4.0 * np.finfo(np.float64).eps * norms.max(initial=0.0) * y_norm
    with np.errstate(divide="ignore"):
        inverse_norms = np.where(norms > 0, 1.0 / norms, 0.0)
    n_epochs = 0
    ws_size = 0
    grow = saturated = False
    exact = False
    last_finite = w.copy()
    # The exact solve is tried on a warm start's support at once, then on
    # each support that a round's epochs left unchanged (it often ends the
    # run at once), once per support; before the round's pass, so that the
    # pass measures the solve's point.
    support = np.flatnonzero(w)  # kept up to date: w has many zeros
    candidate = support
    tried = None
    solved = False  # w comes from the support solve (no epoch since)
    watch = StallWatch(_STALL_ROUNDS, min_decrease=_PROGRESS)
    gap = np.inf
    # Every round spends an epoch, except a confirmation on the exact
    # residual, which cannot repeat without one: bounded.
    for _ in range(2 * (max_iter + 1)):
        if candidate is not None and candidate.size and not (
            tried is not None and np.array_equal(candidate, tried)
        ):
            tried = candidate
            primal = 0.5 * state.residual_norm2(w, support) + enet_penalty_value(
                w[support], l1_reg, l2_reg
            )
            if _polish_support(state, w, support, l1_reg, l2_reg, primal) is not None:
                solved = exact = True
                support = np.flatnonzero(w)
        candidate = None
        grad, r_norm2, r_dot_y = state.gradient(w, support, exact)
        penalty = enet_penalty_value(w[support], l1_reg, l2_reg)
        gap = enet_duality_gap(
            w, r_norm2, r_dot_y, grad, l1_reg, l2_reg, positive, penalty=penalty
        )
        # A finite gap has a finite ||w||_1 (l1_reg > 0): every w_j is finite.
        if not np.isfinite(gap):
            w[:] = last_finite
            return np.inf, n_epochs, "non-finite"
        last_finite[:] = w
        # A gap and an objective that stop falling while the coefficients
        # still move by rounding are at the limit of floating point: stop,
        # and say so (a slow fall is progress: max_iter bounds it).
        objective = 0.5 * r_norm2 + penalty
        if watch.stalled(gap, objective) and gap > tol:
            return gap, n_epochs, "stalled"
        if gap <= tol and not (exact or state.residual_exact):
            # Confirm on the residual recomputed from w. Its gradient differs
            # from this round's by at most ||A_j|| ||drift|| per feature: that
            # bounds the gap there (a feasible dual point) without a pass.
            drift, r_norm2, r_dot_y = state.make_exact(w, support)
            bound = (grad if positive else np.abs(grad)) + drift * norms
            gap = enet_duality_gap(
                w, r_norm2, r_dot_y, bound, l1_reg, l2_reg, positive, penalty=penalty
            )
            objective = 0.5 * r_norm2 + penalty
            if not gap <= tol:
                exact = True  # measure it with a pass
                continue
        if gap <= tol:
            if not solved:
                # Land on the optimum, not just within the tolerance. The
                # dual point stays the one just measured, so the gap falls by
                # exactly what the primal objective does: no pass to check.
                # Near the optimum the objectives differ by rounding: the
                # solve is kept whenever that gap stays within the tolerance.
                primal = objective
                tight = tol <= _POLISH_AIM * y_norm**2
                gain = _polish_support(
                    state, w, support, l1_reg, l2_reg, primal, tol - gap,
                    passes=_POLISH_PASSES if tight else 0,
                    flops=_POLISH_FLOPS if tight else _NEGLIGIBLE_FLOPS,
                )
                if gain is not None:
                    gap = max(gap - gain, 0.0)
            return gap, n_epochs, "converged"
        exact = False
        if n_epochs >= max_iter:
            return gap, n_epochs, "max_iter"
        scores, candidates = working_set_scores(w, grad, inverse_norms, l1_reg, positive)
        n_candidates = candidates.shape[0]
        if n_candidates == 0:
            return gap, n_epochs, "stalled"
        # A working set that the last round filled with non-zeros was too
        # small: grow it faster (each round costs a pass), while the support
        # may still grow that much (a lasso support has at most n features).
        factor = 4 if saturated and 4 * support.size <= state.n_rows else 2
        new_size = max(min_size, factor * support.size, 2 * ws_size if grow else 0, ws_size)
        ws_size = min(new_size, n_features)
        ws = _top(scores, candidates, ws_size)
        violation = _largest_violation(w[ws], grad[ws], l1_reg, l2_reg, positive)
        before = w[ws].copy()
        epochs = state.epochs(
            ws, w, l1_reg, l2_reg, positive,
            max(_INNER_RATIO * violation, floor),
            min(max_iter - n_epochs, _ROUND_EPOCHS),
        )
        n_epochs += epochs
        solved = False
        moved = not np.array_equal(before, w[ws])
        if not moved and ws.shape[0] >= n_candidates:
            # Every violating feature was in the working set and none moved.
            grad, r_norm2, r_dot_y = state.gradient(w, support, True)
            gap = enet_duality_gap(w, r_norm2, r_dot_y, grad, l1_reg, l2_reg, positive)
            return gap, n_epochs, "converged" if gap <= tol else "stalled"
        grow = epochs <= 1
        after = np.flatnonzero(w)
        saturated = after.size >= _SATURATED * ws.shape[0]
        if np.array_equal(after, support):
            candidate = after
        support = after
    return gap, n_epochs, "max_iter"


def _polish_support(state, w, support, l1_reg, l2_reg, primal, slack=0.0,
                    passes=_POLISH_PASSES, flops=_POLISH_FLOPS):
    """Solve exactly on ``support``, that of ``w``, when that costs a few passes.

    With the support ``S`` and the signs right, the optimum solves
    ``(A_S^T A_S + l2 I) w_S = A_S^T y - l1 sign(w_S)``. When the solve
    flips signs, the step goes from ``w`` toward it only as far as the first
    coefficient reaching zero (the objective falls all along: it is the
    solve's quadratic while the signs hold), which leaves the support, and
    the smaller support is solved again (at most ``_POLISH_TRIES`` solves).
    A singular system (collinear columns, no L2 part) leaves the fit
    unchanged along its null space, where only the L1 norm varies: the
    solution moves there until a coefficient reaches zero (see
    :func:`_null_step`), which coordinate steps would do by tiny amounts
    per epoch. The result replaces ``w`` when its objective is at most ``primal +
    slack``, ``primal`` the objective at ``w``: the fit then lands on the
    optimum up to rounding, not just within the tolerance, for the price of
    the support's Gram matrix (a few passes' worth of work at most). Returns
    the fall of the objective (negative within ``slack``) when ``w`` was
    replaced, else None.
    """
    if support.size == 0 or not state.polish_affordable(support.size, passes, flops):
        return None
    G_full, b_full = state.support_system(support)
    G_full[np.diag_indices_from(G_full)] += l2_reg
    x = w[support].copy()
    for _ in range(_POLISH_TRIES):
        active = np.flatnonzero(x)
        if active.size == 0:
            break
        G = G_full if active.size == support.size else G_full[np.ix_(active, active)]
        sign = np.sign(x[active])
        target, definite = _solve_symmetric(G, b_full[active] - l1_reg * sign)
        if target is None:
            return None
        if not definite:  # no L2 part (it would make G definite)
            target = _null_step(G, target)
        crossing = np.sign(target) != sign
        if not crossing.any():
            x[active] = target
            break
        # Fraction of the way at which each crossing coefficient is zero.
        start = x[active]
        fractions = start[crossing] / (start[crossing] - target[crossing])
        t = float(fractions.min())
        x[active] = start + t * (target - start)
        x[active[crossing][fractions <= t]] = 0.0
    polished = np.zeros_like(w)
    polished[support] = x
    new_primal = 0.5 * state.residual_norm2(polished, support) + enet_penalty_value(
        x, l1_reg, l2_reg
    )
    if not new_primal <= primal + slack:
        return None
    w[:] = polished
    return primal - new_primal


def _solve_symmetric(G, b):
    """``(x, definite)``: a solution of ``G x = b`` for a symmetric positive
    semi-definite ``G`` (None when there is none), and whether ``G`` is
    definite.

    Cholesky when ``G`` is definite; else (duplicated columns, a support
    larger than the number of samples) the least-squares solution of least
    norm, which solves the system whenever it is consistent.
    """
    definite = True
    try:
        solution = cho_solve(cho_factor(G, check_finite=False), b, check_finite=False)
    except np.linalg.LinAlgError:
        definite = False
        try:
            cond = np.finfo(np.float64).eps * G.shape[0]
            solution = lstsq(G, b, cond=cond, lapack_driver="gelsd", check_finite=False)[0]
        except (np.linalg.LinAlgError, ValueError):
            return None, definite
    return (solution if np.all(np.isfinite(solution)) else None), definite


def _null_step(G, x):
    """Move ``x`` along the null space of ``G = A_S^T A_S`` to lower its L1
    norm, until one coefficient reaches zero.

    Along a null direction ``d`` the fit ``A_S x`` and so the smooth part of
    the objective do not change, and the L1 norm changes at the rate
    ``sign(x) . d`` while the signs hold: the direction with the largest
    such rate is followed (downhill) to the first coefficient it zeroes.
    Returns ``x`` unchanged when the null space is empty or flat in L1.
    """
    values, vectors = np.linalg.eigh(G)
    cutoff = np.finfo(np.float64).eps * G.shape[0] * max(values.max(initial=0.0), 0.0)
    null = vectors[:, values <= cutoff]
    if null.shape[1] == 0:
        return x
    rates = null.T @ np.sign(x)
    k = int(np.argmax(np.abs(rates)))
    if not abs(rates[k]) > np.sqrt(np.finfo(np.float64).eps):
        return x
    d = -np.sign(rates[k]) * null[:, k]
    shrinking = x * d < 0
    steps = -x[shrinking] / d[shrinking]
    first = np.flatnonzero(shrinking)[np.argmin(steps)]
    moved = x + steps.min() * d
    moved[first] = 0.0
    return moved


def _affordable(n_samples, pass_cost, size, passes, flops):
    """Whether the support's system (``n size^2 + size^3`` flops) costs at
    most ``passes`` passes or ``flops``."""
    cost = n_samples * size * size + size**3 / _SOLVE_DISCOUNT
    return cost <= max(passes * pass_cost, flops) and (
        n_samples * size <= max(pass_cost, flops)
    )


def _top(scores, candidates, k):
    """Indices (sorted) of the ``k`` largest scores among ``candidates``."""
    if k < candidates.shape[0]:
        part = np.argpartition(-scores[candidates], k - 1)[:k]
        candidates = np.sort(candidates[part])
    return candidates


def _largest_violation(w, grad, l1_reg, l2_reg, positive):
    g = grad - l2_reg * w
    violation = np.where(
        w > 0,
        np.abs(g - l1_reg),
        np.where(
            w < 0,
            np.abs(g + l1_reg),
            np.maximum((g if positive else np.abs(g)) - l1_reg, 0.0),
        ),
    )
    return float(violation.max(initial=0.0))


def _anderson_weights(history):
    """Anderson weights of the last ``len(history) - 1`` iterates, or None.

    They minimise ``||sum_a z_a (x_{a+1} - x_a)||`` subject to ``sum z = 1``:
    ``z`` is ``M^{-1} 1`` normalised, ``M`` the Gram matrix of the differences
    (slightly regularised).
    """
    D = np.diff(history, axis=0)
    M = D @ D.T
    scale = np.trace(M)
    if not scale > 0:
        return None
    try:
        z = np.linalg.solve(M + 1e-12 * scale * np.eye(len(M)), np.ones(len(M)))
    except np.linalg.LinAlgError:
        return None
    total = z.sum()
    if not (np.isfinite(total) and total != 0):
        return None
    return z / total


def _extrapolated_epochs(state, ws, w, l1_reg, l2_reg, positive, tol, budget):
    """Run the state's epochs on ``ws`` with Anderson extrapolation.

    Every ``_ANDERSON_K + 1`` epochs without an early end, the recorded
    iterates are extrapolated; the extrapolated point replaces the current
    one when it is feasible and lowers the objective. Returns the epochs run.
    """
    m = ws.shape[0]
    rows = _ANDERSON_K + 1
    hist_w = np.empty((rows, m))
    hist_state = np.empty((rows, state.state_size))
    spent = 0
    while spent < budget:
        epochs, done = state.run(
            ws, w, l1_reg, l2_reg, positive, tol, min(rows, budget - spent),
            hist_w, hist_state,
        )
        spent += epochs
        if done or epochs < rows:
            break
        z = _anderson_weights(hist_w)
        if z is None:
            continue
        w_acc = z @ hist_w[1:]
        if positive and w_acc.min() < 0:
            continue
        state_acc = z @ hist_state[1:]
        if state.objective(w_acc, state_acc, l1_reg, l2_reg) < state.objective(
            hist_w[-1], hist_state[-1], l1_reg, l2_reg
        ):
            state.restore(ws, w, w_acc, state_acc)
    return spent


class _ResidualState:
    """What the two residual states share: the exact objective, extrapolation."""

    @property
    def n_rows(self):
        return self.y.shape[0]

    def residual_norm2(self, w, support):
        """``||y - A w||^2`` from the columns of ``support`` (those where
        ``w`` is not zero, or more)."""
        r = self.y - design_support_matvec(self.design, w, support=support)
        return float(r @ r)

    def epochs(self, ws, w, l1_reg, l2_reg, positive, tol, budget):
        return _extrapolated_epochs(self, ws, w, l1_reg, l2_reg, positive, tol, budget)


class _DenseResidual(_ResidualState):
    """Residual ``r = y - A w`` of a dense design, updated by the kernel.

    Updates drift from the exact residual over many epochs: it is recomputed
    from ``w`` at every round when the support's columns are a small share
    of the data (cheap), else only to confirm convergence.
    """

    def __init__(self, design, y, w, first_grad):
        self.design = design
        self.y = y
        self.r = self._exact(w, np.flatnonzero(w))
        self.residual_exact = True
        self.state_size = y.shape[0]
        self.first_grad = first_grad

    def _exact(self, w, support):
        if support.size == 0:
            return self.y.copy()
        return self.y - design_support_matvec(self.design, w, support=support)

    def make_exact(self, w, support):
        """Recompute the residual from ``w``; return how far the updated one
        had drifted, ``||r - r_updated||``, and the new ``(||r||^2, r.y)``."""
        r = self._exact(w, support)
        drift = float(np.linalg.norm(r - self.r))
        self.r = r
        self.residual_exact = True
        return drift, float(r @ r), float(r @ self.y)

    def gradient(self, w, support, exact):
        if exact or support.size * _EXACT_SHARE <= w.shape[0]:
            self.r = self._exact(w, support)
            self.residual_exact = True
        else:
            self.residual_exact = False
        if self.first_grad is not None:
            grad, self.first_grad = self.first_grad, None
        else:
            grad = design_rmatvec(self.design, self.r)
        return grad, float(self.r @ self.r), float(self.r @ self.y)

    def polish_affordable(self, size, passes, flops):
        d = self.design
        return _affordable(d.n_samples, d.n_samples * d.n_features, size, passes, flops)

    def support_system(self, support):
        d = self.design
        A = np.asarray(d.X[:, support], dtype=np.float64) - d.offset[support]
        return A.T @ A, A.T @ self.y

    def run(self, ws, w, l1_reg, l2_reg, positive, tol, n_epochs, hist_w, hist_state):
        d = self.design
        return cd_epochs_dense(
            d.X, d.offset, ws, w, self.r, d.sq_norms, l1_reg, l2_reg, positive,
            tol, n_epochs, hist_w, hist_state,
        )

    def objective(self, w_ws, r, l1_reg, l2_reg):
        return 0.5 * float(r @ r) + enet_penalty_value(w_ws, l1_reg, l2_reg)

    def restore(self, ws, w, w_ws, r):
        w[ws] = w_ws
        self.r[:] = r


class _SparseResidual(_ResidualState):
    """Residual of a CSC design held as ``r_s + c row_scale`` (see the kernel).

    Recomputed from ``w`` at every round: it costs the support's non-zeros
    only, and incremental updates drift over many epochs.
    """

    residual_exact = True

    def __init__(self, design, y, w, first_grad):
        self.design = design
        self.y = y
        self.state_size = y.shape[0] + 2
        self.state = np.zeros(self.state_size)  # [r_s, c, t]
        self.nrs = float(design.row_scale @ design.row_scale)
        self.first_grad = first_grad
        self.ws = None  # the working set whose columns are in self.block

    def gradient(self, w, support, exact):
        d = self.design
        n = self.y.shape[0]
        if self.ws is not None and np.count_nonzero(w[self.ws]) == support.size:
            # The support lies in the last working set: its copied columns
            # stream, where the data's own are scattered.
            product = sparse_columns_product(*self.block, n, self.local, w[self.ws])
        else:
            product = design_support_matvec(d, w, centred=False, support=support)
        r_s = self.y - product
        c = float(d.offset[support] @ w[support])
        self.state[:n] = r_s
        self.state[n:] = c, d.row_scale @ r_s
        r = r_s + c * d.row_scale
        if self.first_grad is not None:
            grad, self.first_grad = self.first_grad, None
        else:
            grad = design_rmatvec(d, r)
        return grad, float(r @ r), float(r @ self.y)

    def polish_affordable(self, size, passes, flops):
        # The support's Gram matrix, formed row by row, costs its entries
        # times their average count per row (few on sparse data), then the
        # solve.
        d = self.design
        entries = d.csc.nnz / max(d.n_features, 1) * size
        cost = entries * (1.0 + entries / self.n_rows) + size**3 / _SOLVE_DISCOUNT
        return cost <= max(passes * d.csc.nnz, flops)

    def support_system(self, support):
        d = self.design
        csc = d.csc
        off = d.offset[support]
        rs = d.row_scale
        arrays = (csc.data, csc.indices, csc.indptr)
        G = sparse_columns_gram(*arrays, self.y.shape[0], support)
        b = sparse_columns_rmatvec(*arrays, support, self.y)
        if np.any(off):
            # A_S = X_S - rs off^T: A_S^T A_S = X_S^T X_S - u off^T - off u^T
            # with u = X_S^T rs - ||rs||^2 off / 2.
            u = sparse_columns_rmatvec(*arrays, support, rs) - 0.5 * self.nrs * off
            cross = np.outer(u, off)
            G -= cross
            G -= cross.T
            b -= off * float(rs @ self.y)
        return G, b

    def epochs(self, ws, w, l1_reg, l2_reg, positive, tol, budget):
        d = self.design
        csc = d.csc
        if np.sum(csc.indptr[ws + 1] - csc.indptr[ws]) < _COPIED_ENTRIES:
            # Few entries: they stay in cache, read in place.
            self.ws = None
            self.block = (csc.data, csc.indices, csc.indptr)
            self.offset_ws, self.sq_norms_ws = d.offset, d.sq_norms
            return _extrapolated_epochs(self, ws, w, l1_reg, l2_reg, positive, tol, budget)
        # The kernel works on the working set's columns copied next to each
        # other (see csc_columns), in local indices.
        self.block = csc_columns(csc.data, csc.indices, csc.indptr, ws)
        self.offset_ws = d.offset[ws]
        self.sq_norms_ws = d.sq_norms[ws]
        self.ws = ws
        self.local = np.arange(ws.shape[0])
        w_ws = w[ws]
        epochs = _extrapolated_epochs(
            self, self.local, w_ws, l1_reg, l2_reg, positive, tol, budget
        )
        w[ws] = w_ws
        return epochs

    def run(self, ws, w, l1_reg, l2_reg, positive, tol, n_epochs, hist_w, hist_state):
        return cd_epochs_sparse(
            *self.block, self.offset_ws, self.design.row_scale, ws, w, self.state,
            self.sq_norms_ws, l1_reg, l2_reg, positive, tol, n_epochs, hist_w,
            hist_state,
        )

    def objective(self, w_ws, state, l1_reg, l2_reg):
        # ||r_s + c row_scale||^2 = ||r_s||^2 + 2 c t + c^2 ||row_scale||^2
        n = self.y.shape[0]
        r_s, c, t = state[:n], state[n], state[n + 1]
        value = float(r_s @ r_s) + 2.0 * c * t + c * c * self.nrs
        return 0.5 * value + enet_penalty_value(w_ws, l1_reg, l2_reg)

    def restore(self, ws, w, w_ws, state):
        w[ws] = w_ws
        self.state[:] = state


class _GramState:
    """Everything from ``G = A.T A``: ``q = A.T y - G w`` is the gradient."""

    residual_exact = True
    n_rows = np.inf  # unknown: only the Gram matrix is held

    def __init__(self, G, Aty, y_norm2, w):
        self.G = G
        self.Aty = Aty
        self.y_norm2 = y_norm2

    def gradient(self, w, support, exact):
        q = self.Aty - self.G @ w
        w_dot_b = float(w @ self.Aty)
        r_norm2 = max(self.y_norm2 - w_dot_b - float(w @ q), 0.0)
        return q, r_norm2, self.y_norm2 - w_dot_b

    def residual_norm2(self, w, support):
        # ||y - A w||^2 = ||y||^2 - 2 w.Aty + w.G w
        return max(self.y_norm2 - 2.0 * float(w @ self.Aty) + float(w @ (self.G @ w)), 0.0)

    def polish_affordable(self, size, passes, flops):
        # A solve on the support against a few Gram-matrix passes.
        return size**3 / _SOLVE_DISCOUNT <= max(passes * self.Aty.size**2, flops)

    def support_system(self, support):
        return self.G[np.ix_(support, support)].copy(), self.Aty[support].copy()

    def run(self, ws, w, l1_reg, l2_reg, positive, tol, n_epochs, hist_w, hist_state):
        return cd_epochs_gram(
            self.G_ws, self.w_ws, self.q_ws, l1_reg, l2_reg, positive, tol,
            n_epochs, hist_w, hist_state,
        )

    def objective(self, w_ws, q, l1_reg, l2_reg):
        # 1/2 w G w - b w = -1/2 w (b + q), up to a constant.
        return -0.5 * float(w_ws @ (self.b_ws + q)) + enet_penalty_value(w_ws, l1_reg, l2_reg)

    def restore(self, ws, w, w_ws, q):
        self.w_ws[:] = w_ws
        self.q_ws[:] = q

    def epochs(self, ws, w, l1_reg, l2_reg, positive, tol, budget):
        # The kernel works on the working set's own blocks (features outside
        # it are zero, so the blocks hold the whole gradient).
        self.G_ws = np.ascontiguousarray(self.G[np.ix_(ws, ws)])
        self.b_ws = self.Aty[ws]
        self.w_ws = w[ws].copy()
        self.q_ws = self.b_ws - self.G[ws] @ w
        self.state_size = ws.shape[0]
        local = np.arange(ws.shape[0])
        epochs = _extrapolated_epochs(
            self, local, self.w_ws, l1_reg, l2_reg, positive, tol, budget
        )
        w[ws] = self.w_ws
        return epochs
