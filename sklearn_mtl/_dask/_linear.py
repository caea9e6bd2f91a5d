"""``RegularizedGDRegressor.fit`` on dask arrays: one pass, then a local solve.

One distributed pass builds the weighted, centred statistics ``G = A.T A``,
``A.T y_k`` and ``||y_k||^2`` of the design that the in-memory fit reads
(:mod:`sklearn_mtl._design`: ``A = diag(sqrt(s)) (X - 1 m^T)``); the data are
never read again. The solve then runs on the client, on ``p x p`` numbers:

- with an L1 part (or ``positive`` with an L2 part), the package's working-set
  solver on the Gram matrix, :func:`enet_working_set_gram`, with the same
  duality-gap target as the in-memory fit;
- ridge, by the Cholesky factorisation of ``G + l2_reg I`` that preconditions
  the in-memory conjugate gradient (the same factorisation code), refined on
  the exact operator until the duality gap meets the target;
- least squares, the minimum-norm solution from the eigendecomposition of
  ``G`` (non-negative least squares on its square root with ``positive``).

Penalty strengths, the floors below which a penalty is rounding noise, the
gap tolerances, the statuses and the ConvergenceWarning are those of
:func:`~sklearn_mtl._linear._path.enet_path_on_design`.
"""


import numpy as np
import scipy.optimize

from .._design import _SAFE_SQUARE_RANGE, power_of_two
from .._linear._path import (
    PathResult,
    gap_tolerances,
    internal_penalties,
    l1_ratio_of,
    smallest_column_norm,
)
from .._linear._regressor import store_path_result
from .._penalties import enet_duality_gap
from .._solvers.quadratic import _factor, _solve
from .._solvers.working_set import enet_working_set_gram
from ._input import check_sample_weight, check_targets, check_X
from ._statistics import PassParams, all_finite, largest_abs, statistics_pass

# Refinement steps without a lower gap before the ridge solve is "stalled".
_RIDGE_STALL = 3


class GramProblem:
    """The statistics of a weighted least-squares problem, in internal units.

    ``G`` (``p x p``), ``B`` (``T x p``: ``A.T y_k``) and ``y_norm2`` (``T``)
    are those of ``X / x_scale`` and ``y_k / y_scale[k]``, weighted by
    ``sw`` (summing to ``n_samples``) and centred (with an intercept);
    ``x_mean`` and ``y_mean`` are the weighted means in the user's units.
    """

    def __init__(self, G, B, y_norm2, x_mean, y_mean, x_scale, y_scale, n_samples):
        self.G = G
        self.B = B
        self.y_norm2 = y_norm2
        self.x_mean = x_mean
        self.y_mean = y_mean
        self.x_scale = x_scale
        self.y_scale = y_scale
        self.n_samples = n_samples


def gram_problem(X, Y, S, fit_intercept):
    """One pass over ``(X, Y, S)``; a second (rare) one only when the
    statistics overflow, with ``X`` and ``Y`` divided by powers of two."""
    n_samples = X.shape[0]
    params = PassParams(center=fit_intercept)
    summary = statistics_pass(X, Y, S, params)
    x_in, y_in = 1.0, np.ones(Y.shape[1])
    stats, f = summary.stats, summary.weight_factor(n_samples)
    if not all_finite(stats.xx * f, stats.xy * f, stats.yy * f):
        x_in = power_of_two(largest_abs(X))
        y_in = np.array([power_of_two(v) for v in summary.y_max])
        params = PassParams(center=fit_intercept, x_scale=x_in, y_scale=y_in)
        summary = statistics_pass(X, Y, S, params)
        stats, f = summary.stats, summary.weight_factor(n_samples)
        if not all_finite(stats.xx * f, stats.xy * f, stats.yy * f):
            raise ValueError(
                "X holds values too large to be fitted even after rescaling; "
                "scale the features."
            )
    G = stats.xx[0] * f
    B = stats.xy * f
    y_norm2 = stats.yy * f
    x_scale = x_in
    # As make_design: rescale X by a power of two when its mean squares are
    # out of range (exact: the statistics scale by its square).
    sq_norms = np.diag(G)
    rms2 = sq_norms.max(initial=0.0) / n_samples
    if x_in == 1.0 and (rms2 > _SAFE_SQUARE_RANGE[1] or 0 < rms2 < _SAFE_SQUARE_RANGE[0]):
        post = power_of_two(largest_abs(X))
        G = G / (post * post)
        B = B / post
        x_scale = post
    # Each target divided by a power of two near its norm (exact), so that the
    # solver's numbers are near 1 whatever the units.
    y_post = np.array([power_of_two(np.sqrt(v)) for v in y_norm2])
    B = B / y_post[:, None]
    y_norm2 = y_norm2 / (y_post * y_post)
    return GramProblem(
        np.ascontiguousarray(G), B, y_norm2, stats.x_mean[0] * x_in,
        stats.y_mean * y_in, x_scale, y_in * y_post, n_samples,
    )


def _gram_gap(G, b, y_norm2, w, l1_reg, l2_reg, positive):
    """The duality gap at ``w`` from the statistics alone (as the Gram
    working-set solver computes it)."""
    q = b - G @ w
    w_dot_b = float(w @ b)
    r_norm2 = max(y_norm2 - w_dot_b - float(w @ q), 0.0)
    return enet_duality_gap(w, r_norm2, y_norm2 - w_dot_b, q, l1_reg, l2_reg, positive)


def ridge_gram(G, b, y_norm2, w, l2_reg, max_iter, tol):
    """Ridge from the Gram matrix: ``(G + l2_reg I) w = b`` by the Cholesky
    factorisation (eigendecomposition when rounding makes it indefinite),
    refined on the exact operator until the gap is at most ``tol``.
    Returns ``(w, gap, n_iter, status)``."""
    factor = _factor(G, l2_reg)
    w = np.array(w, dtype=np.float64)
    gap = _gram_gap(G, b, y_norm2, w, 0.0, l2_reg, False)
    best, since_best, n_iter = gap, 0, 0
    while gap > tol:
        if n_iter >= max_iter:
            return w, gap, n_iter, "max_iter"
        step = _solve(factor, b - G @ w - l2_reg * w)
        candidate = w + step
        n_iter += 1
        new_gap = _gram_gap(G, b, y_norm2, candidate, 0.0, l2_reg, False)
        if not np.isfinite(new_gap):
            return w, gap, n_iter, "non-finite"
        if new_gap < best:
            w, gap, best, since_best = candidate, new_gap, new_gap, 0
        else:
            since_best += 1
            if since_best >= _RIDGE_STALL:
                return w, gap, n_iter, "stalled"
    return w, gap, n_iter, "converged"


def least_squares_gram(G, b, positive, n_samples, max_iter):
    """Unpenalised least squares from the Gram matrix: the minimum-norm
    solution (directions whose singular value is below rounding dropped, as
    LAPACK's ``gelsd`` does on the data), or non-negative least squares on
    the square root of ``G`` with ``positive``. Returns ``(w, 0, 1, status)``.

    The normal equations square the condition number: directions whose
    singular value is below ``sqrt(p * eps)`` times the largest are dropped.
    """
    n_features = G.shape[0]
    eps = np.finfo(np.float64).eps
    lam, Q = np.linalg.eigh((G + G.T) / 2)
    top = max(lam.max(initial=0.0), 0.0)
    cutoff = top * max((eps * max(n_samples, n_features)) ** 2, n_features * eps)
    keep = lam > cutoff
    Qk, lk = Q[:, keep], lam[keep]
    if not keep.any():
        return np.zeros(n_features), 0.0, 1, "converged"
    if positive:
        root = np.sqrt(lk)
        R = (Qk * root).T  # R.T R = G on its range
        d = (Qk.T @ b) / root
        w, _ = scipy.optimize.nnls(R, d, maxiter=max(max_iter, 3 * n_features))
    else:
        w = Qk @ ((Qk.T @ b) / lk)
    return w, 0.0, 1, "converged"


def solve_gram(problem, alpha, l1_ratio, positive, max_iter, tol, coef_init=None):
    """Every target at one ``alpha``: a :class:`PathResult` of one alpha, as
    :func:`enet_path_on_design` returns for the in-memory design."""
    G, n_samples = problem.G, problem.n_samples
    n_targets, n_features = problem.B.shape
    coefs = np.empty((n_targets, n_features, 1))
    gaps = np.empty((n_targets, 1))
    n_iters = np.zeros((n_targets, 1), dtype=np.int64)
    tolerances = np.empty((n_targets, 1))
    statuses = []
    x_scale = problem.x_scale
    column_norm = smallest_column_norm(np.diag(G))
    for k in range(n_targets):
        b, y_norm2 = problem.B[k], float(problem.y_norm2[k])
        y_scale = problem.y_scale[k]
        unit = y_scale / x_scale
        w = np.zeros(n_features)
        if coef_init is not None:
            w[:] = np.asarray(coef_init[k], dtype=np.float64) / unit
            if positive:
                np.maximum(w, 0.0, out=w)
        target, required = gap_tolerances(tol, y_norm2)
        l1_reg, l2_reg = internal_penalties(
            alpha, l1_ratio, n_samples, x_scale, y_scale, column_norm, y_norm2
        )
        if y_norm2 == 0.0:
            w[:] = 0.0
            gap, n_iter, status = 0.0, 0, "converged"
        elif l1_reg > 0 or (positive and l2_reg > 0):
            gap, n_iter, status = enet_working_set_gram(
                G, b, y_norm2, w, l1_reg, l2_reg, positive, max_iter, target
            )
        elif l2_reg > 0:
            w[:], gap, n_iter, status = ridge_gram(
                G, b, y_norm2, w, l2_reg, max_iter, target
            )
        else:
            w[:], gap, n_iter, status = least_squares_gram(
                G, b, positive, n_samples, max_iter
            )
        if not (l1_reg or l2_reg):
            scale, required = 1.0, tol
        else:
            scale = y_scale / n_samples * y_scale
        if status in ("max_iter", "stalled") and gap <= required:
            status = "converged"
        coefs[k, :, 0] = unit * w
        gaps[k, 0] = gap * scale
        tolerances[k, 0] = required * scale
        n_iters[k, 0] = n_iter
        statuses.append(status)
    return PathResult(coefs, gaps, n_iters, statuses, tolerances)


def fit_regularized(estimator, X, y, sample_weight=None):
    """:meth:`RegularizedGDRegressor.fit` for dask arrays (see the module)."""
    X = check_X(estimator, X, reset=True)
    Y, y_ndim = check_targets(y, X)
    S = check_sample_weight(sample_weight, X)
    n_targets, n_features = Y.shape[1], X.shape[1]
    coef_init = estimator._initial_coef(n_targets, n_features)
    problem = gram_problem(X, Y, S, estimator.fit_intercept)
    l1_ratio = l1_ratio_of(estimator.penalty, estimator.l1_ratio)
    alpha = 0.0 if estimator.penalty is None else float(estimator.alpha)
    result = solve_gram(
        problem, alpha, l1_ratio, estimator.positive, estimator.max_iter,
        estimator.tol, coef_init,
    )
    # The warning shows at the caller of fit: store_path_result, fit_regularized,
    # _dask.fit, fit, its wrapper.
    store_path_result(
        estimator, result, problem.y_mean, problem.x_mean, X.dtype, y_ndim, stacklevel=6
    )
    return estimator
