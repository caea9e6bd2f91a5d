"""The elastic-net path: the one solve behind every linear estimator.

:func:`enet_path_on_design` solves the n-scaled elastic net of
:mod:`sklearn_mtl._penalties` for each target along a decreasing grid of
alphas, each solve warm-started from the previous one, and picks the solver
by the penalty: the working-set coordinate solver with an L1 part (on the
Gram matrix when one serves a whole path of dense data with more samples than
features), conjugate gradient for ridge, a direct or LSQR solve for least
squares. :class:`~sklearn_mtl.RegularizedGDRegressor` is this path at one
alpha; :func:`regularized_gd_path` and the CV estimator use it whole.
"""

import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_scalar
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_array

from .._design import design_gram, design_rmatvec, linear_design, power_of_two
from .._penalties import penalty_strengths
from .._solvers.quadratic import (
    NNLS_DENSE_MAX,
    least_squares,
    ridge_conjugate_gradient,
)
from .._solvers.working_set import enet_working_set, enet_working_set_gram
from .._validation import in_data_dtype

# The solvers aim at a duality gap of tol * ||y_c||^2 (sklearn's scaling) times
# this factor. Coordinate descent overshoots its gap test by orders of
# magnitude; stopping exactly at the test would leave fits less accurate than
# sklearn's at the same tol.
GAP_SAFETY = 1e-6
# Along a path on sparse data with more samples than features, the Gram
# matrix serves every alpha when it has at most this many columns.
_SPARSE_GRAM_MAX = 2000
# Relative duality gaps below this many machine epsilons are rounding noise.
_ROUNDING_FLOOR = 10
# Penalty strengths are clipped here: beyond it the solution is zero anyway.
_HUGE = 1e300


@dataclass
class PathResult:
    """Coefficients ``(n_targets, n_features, n_alphas)`` in the user's units,
    duality gaps on the objective's scale, iterations and solver statuses."""

    coefs: np.ndarray
    gaps: np.ndarray
    n_iters: np.ndarray
    statuses: list
    tolerances: np.ndarray
    measure: str = "duality gap"  # or LSQR's relative residual (no penalty)


def l1_ratio_of(penalty, l1_ratio):
    """The ``l1_ratio`` that a ``penalty`` name stands for."""
    if penalty == "l1":
        return 1.0
    if penalty == "elasticnet":
        return float(l1_ratio)
    return 0.0


def gap_tolerances(tol, y_norm2, gap_safety=GAP_SAFETY):
    """``(target, required)`` duality gaps for a target with ``||y||^2 =
    y_norm2`` (n-scaled).

    ``required = tol * ||y_c||^2`` is scikit-learn's scaling: a fit whose gap
    ends above it warns. The solvers aim lower, at ``GAP_SAFETY`` times it, so
    that they are at least as accurate as sklearn's at equal ``tol``. Neither
    goes below what rounding in the data's precision lets a gap resolve.
    """
    # Products and residuals are float64 for float32 data too.
    floor = _ROUNDING_FLOOR * np.finfo(np.float64).eps
    return max(tol * gap_safety, floor) * y_norm2, max(tol, floor) * y_norm2


def internal_penalties(alpha, l1_ratio, n_samples, x_scale, y_scale, column_norm,
                       y_norm2):
    """``(l1_reg, l2_reg)`` (n-scaled) for the internal, rescaled data.

    Penalties below rounding of the data's own scale cannot change the
    solution, but an L1 part that small would make the duality gap useless
    (its dual point shrinks to zero): they are dropped. The scale is
    ``column_norm``, the smallest non-zero column norm (see
    :func:`smallest_column_norm`): a penalty below the rounding of a large
    column still shapes the coefficients of the small ones.
    """
    eps = np.finfo(np.float64).eps
    l1_reg, l2_reg = penalty_strengths(float(alpha), l1_ratio, n_samples)
    with np.errstate(over="ignore", divide="ignore"):
        l1_reg = min(np.float64(l1_reg) / x_scale / y_scale, _HUGE)
        l2_reg = min(np.float64(l2_reg) / x_scale / x_scale, _HUGE)
    if l1_reg <= eps * column_norm * np.sqrt(y_norm2):
        l1_reg = 0.0
    if l2_reg <= eps * column_norm**2:
        l2_reg = 0.0
    return l1_reg, l2_reg


def smallest_column_norm(sq_norms):
    """The smallest non-zero column norm (0 when every column is zero)."""
    nonzero = sq_norms[sq_norms > 0]
    return float(np.sqrt(nonzero.min())) if nonzero.size else 0.0


def enet_path_on_design(
    design, targets, alphas, l1_ratio, positive, max_iter, tol, coef_init=None,
    gram=None, gap_safety=GAP_SAFETY,
):
    """Warm-started solves along ``alphas`` (decreasing) for every target.

    ``gram`` is ``A.T A`` of the design or None; with an L1 part and more
    than one alpha on dense data with more samples than features, it is
    computed here when not given.
    """
    n_samples, n_features = design.n_samples, design.n_features
    n_targets = targets.Y.shape[1]
    n_alphas = len(alphas)
    coefs = np.empty((n_targets, n_features, n_alphas))
    gaps = np.empty((n_targets, n_alphas))
    n_iters = np.zeros((n_targets, n_alphas), dtype=np.int64)
    tolerances = np.empty((n_targets, n_alphas))
    statuses = []
    if (
        gram is None
        and l1_ratio > 0
        and n_alphas > 1
        and n_samples > n_features
        and (design.csc is None or n_features <= _SPARSE_GRAM_MAX)
    ):
        gram = design_gram(design)
    x_scale = design.x_scale
    column_norm = smallest_column_norm(design.sq_norms)
    any_relative = False
    for k in range(n_targets):
        y = targets.Y[:, k]
        y_scale = targets.y_scale[k]
        with np.errstate(over="ignore"):
            unit = y_scale / x_scale  # w = unit * w_internal
        w = np.zeros(n_features)
        if coef_init is not None:
            w[:] = np.asarray(coef_init[k], dtype=np.float64) / unit
            if positive:
                np.maximum(w, 0.0, out=w)  # start feasible
        y_norm2 = float(y @ y)
        target, required = gap_tolerances(tol, y_norm2, gap_safety)
        Aty = design_rmatvec(design, y) if gram is not None else None
        correlates = None  # whether some feature correlates positively with y
        for i, alpha in enumerate(alphas):
            l1_reg, l2_reg = internal_penalties(
                alpha, l1_ratio, n_samples, x_scale, y_scale, column_norm, y_norm2
            )
            # Non-negative least squares is solved exactly on a dense copy of
            # the design; no duality gap bounds an iterative sparse fit (with
            # a ridge at rounding level the gap of an interpolating fit never
            # closes). w = 0 solves it when no feature correlates positively
            # with y, whatever the size.
            sparse_nnls = positive and design.csc is not None and not (l1_reg or l2_reg)
            if sparse_nnls and correlates is None:  # one pass per target at most
                grad = Aty if Aty is not None else design_rmatvec(design, y)
                correlates = bool(grad.max(initial=0.0) > 0)
            zero_nnls = sparse_nnls and not correlates
            if sparse_nnls and not zero_nnls and n_samples * n_features > NNLS_DENSE_MAX:
                raise ValueError(
                    "positive=True without a penalty the data can resolve "
                    f"(penalty=None, or alpha={alpha!r} below the rounding of "
                    "the data's scale) is solved exactly on a dense copy of X, "
                    f"here {n_samples} x {n_features} entries, more than "
                    f"{NNLS_DENSE_MAX}. Pass a larger alpha, or X.toarray() if "
                    "it fits in memory."
                )
            if y_norm2 == 0.0 or zero_nnls:
                w[:] = 0.0
                gap, n_iter, status = 0.0, 0, "converged"
            elif l1_reg > 0 or (positive and l2_reg > 0):
                if gram is not None:
                    gap, n_iter, status = enet_working_set_gram(
                        gram, Aty, y_norm2, w, l1_reg, l2_reg, positive, max_iter,
                        target,
                    )
                else:
                    gap, n_iter, status = enet_working_set(
                        design, y, w, l1_reg, l2_reg, positive, max_iter, target,
                        design.first_grad if k == 0 else None,
                    )
            elif l2_reg > 0:
                w[:], gap, n_iter, status = ridge_conjugate_gradient(
                    design, y, w, l2_reg, max_iter, target
                )
            else:
                # A direct solve (measure 0) or LSQR's relative residual.
                w[:], gap, n_iter, status = least_squares(
                    design, y, positive, max_iter, tol
                )
            relative = not (l1_reg or l2_reg)  # LSQR's measure, not a gap
            any_relative = any_relative or relative
            if relative:
                required = tol
            if status in ("max_iter", "stalled") and gap <= required:
                status = "converged"  # short of the aim, within the tolerance
            with np.errstate(over="ignore"):
                coefs[k, :, i] = unit * w
            if not np.all(np.isfinite(coefs[k, :, i])):
                raise ValueError(
                    "The coefficients overflow float64: the features are too "
                    "small next to the targets for the solution to be "
                    "represented. Scale X (or y)."
                )
            gaps[k, i] = gap if relative else _user_gap(gap, y_scale, n_samples)
            tolerances[k, i] = (
                required if relative else _user_gap(required, y_scale, n_samples)
            )
            n_iters[k, i] = n_iter
            statuses.append(status)
    measure = "relative residual (LSQR)" if any_relative else "duality gap"
    return PathResult(coefs, gaps, n_iters, statuses, tolerances, measure)


def _user_gap(gap, y_scale, n_samples):
    """An n-scaled internal gap in the user's units, ``gap / n * y_scale^2``.

    Capped at the largest float (targets near 1e154 and beyond have gaps
    beyond float64's range), and 0 stays 0 whatever the scale.
    """
    if gap == 0.0:
        return 0.0
    with np.errstate(over="ignore"):
        value = gap / n_samples * y_scale * y_scale
    return float(min(value, np.finfo(np.float64).max))


def intercepts(y_mean, coefs, x_mean):
    """``y_mean - coefs @ x_mean`` (features on ``coefs``' last axis).

    Large coefficients times large means can overflow although the intercept
    itself is representable: both are divided by powers of two first.
    """
    coef_unit = power_of_two(np.abs(coefs).max(initial=0.0))
    mean_unit = power_of_two(np.abs(x_mean).max(initial=0.0))
    with np.errstate(over="ignore", invalid="ignore"):
        shift = ((coefs / coef_unit) @ (x_mean / mean_unit)) * mean_unit * coef_unit
        intercept = y_mean - shift
    if not np.all(np.isfinite(intercept)):
        raise ValueError(
            "The intercept overflows float64: the targets or the features are "
            "too large (or their means too far from zero) to be represented. "
            "Center or scale X and y."
        )
    return intercept


def linear_predict(X, coef, intercept):
    """``X @ coef.T + intercept``, without overflow in the partial sums.

    Near the largest float, the sum of the products can overflow although
    the prediction is representable: it is then recomputed in units of
    powers of two. A prediction beyond the range of X's dtype is a
    ValueError, not an infinity.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        out = safe_sparse_dot(X, coef.T, dense_output=True) + intercept
    if np.all(np.isfinite(out)):
        return out
    x_unit = power_of_two(abs(X).max() if sp.issparse(X) else np.abs(X).max())
    unit = power_of_two(max(np.abs(coef).max(initial=0.0), np.abs(intercept).max()))
    coef64 = np.asarray(coef, dtype=np.float64) / unit
    with np.errstate(over="ignore", invalid="ignore"):
        product = safe_sparse_dot(X / x_unit, coef64.T, dense_output=True)
        scaled = product * x_unit + np.asarray(intercept, dtype=np.float64) / unit
        out = (scaled * unit).astype(out.dtype, copy=False)
    if not np.all(np.isfinite(out)):
        raise ValueError(
            f"The predictions overflow {out.dtype.name}, the dtype of X: the "
            "model's predictions on these samples are beyond its range. "
            "Predict on X.astype(np.float64), or scale X and y."
        )
    return out


def convergence_message(result, what="Objective"):
    """The ConvergenceWarning text for a path result, or None when converged.

    It says which stop happened, so that its advice is true: more iterations
    help only when ``max_iter`` ran out.
    """
    bad = [s for s in result.statuses if s != "converged"]
    if not bad:
        return None
    flat_gaps = result.gaps.ravel()
    flat_tol = result.tolerances.ravel()
    i = next(j for j, s in enumerate(result.statuses) if s != "converged")
    gap, tol, status = flat_gaps[i], flat_tol[i], result.statuses[i]
    where = f" ({len(bad)} of {len(result.statuses)} solves)" if len(
        result.statuses
    ) > 1 else ""
    if status == "max_iter":
        return (
            f"{what} did not converge. You might want to increase the number of "
            f"iterations{where}: the {result.measure} {gap:.3e} is above the tolerance "
            f"{tol:.3e} after max_iter={int(result.n_iters.ravel()[i])} iterations."
        )
    if status == "stalled":
        return (
            f"{what} did not converge{where}: the {result.measure} stopped falling at "
            f"{gap:.3e}, above the tolerance {tol:.3e}: rounding error limits the "
            "accuracy here, and more iterations will not help. Loosen tol, or "
            "scale the features (e.g. StandardScaler)."
        )
    if status == "dtype":
        return (
            f"{what} did not converge{where}: the {result.measure} is {gap:.3e} at "
            f"the coefficients as stored in X's dtype (float32), above the "
            f"tolerance {tol:.3e}; the solver's float64 solution was closer: "
            "float32 coefficients cannot resolve it. Fit on "
            "X.astype(np.float64), or loosen tol."
        )
    if status == "non-finite":
        return (
            f"{what} did not converge{where}: a non-finite value appeared in the "
            "solver, which kept its last finite iterate. The data may be badly "
            "scaled: scale the features (e.g. StandardScaler)."
        )
    return (
        f"{what} did not converge{where}: the solver stopped ({status}) with the "
        f"measure {gap:.3e} above the tolerance {tol:.3e}."
    )


def alpha_max(design, targets, l1_ratio, positive):
    """Smallest ``alpha`` whose solution is all zeros (sklearn's formula).

    ``max_j |x_j^T (s * y_c)| / (n * l1_ratio)`` with ``x_j`` and ``y_c``
    weighted-centred, the largest over the targets.
    """
    largest = 0.0
    for k in range(targets.Y.shape[1]):
        corr = design_rmatvec(design, targets.Y[:, k])
        corr = np.maximum(corr, 0.0) if positive else np.abs(corr)
        scale = design.x_scale * targets.y_scale[k]
        largest = max(largest, float(corr.max(initial=0.0)) * scale)
    return largest / (design.n_samples * l1_ratio)


def alpha_grid(design, targets, l1_ratio, eps, n_alphas, positive):
    """``n_alphas`` alphas from :func:`alpha_max` down to ``eps * alpha_max``."""
    top = alpha_max(design, targets, l1_ratio, positive)
    if not np.isfinite(top):
        raise ValueError(
            "The automatic grid's largest alpha, max|X^T y| / (n * l1_ratio), "
            "overflows float64 for this data: scale X or y down, or pass "
            "explicit alphas."
        )
    if not top > np.finfo(np.float64).resolution:
        return np.full(n_alphas, np.finfo(np.float64).resolution)
    return np.geomspace(top, top * eps, num=n_alphas)


def check_alphas(alphas):
    """Explicit alphas as a decreasing float64 array: each a finite number >= 0.

    Errors name the offending entry, as scikit-learn's do.
    """
    alphas = np.atleast_1d(np.asarray(alphas, dtype=object)).ravel()
    if alphas.size == 0:
        raise ValueError("alphas must hold at least one value.")
    for i, alpha in enumerate(alphas):
        check_scalar(alpha, f"alphas[{i}]", target_type=Real, min_val=0.0)
        if not np.isfinite(alpha):
            raise ValueError(f"alphas[{i}] == {alpha}, must be finite.")
    return np.sort(alphas.astype(np.float64))[::-1]


AUTOMATIC_GRID_NEEDS_L1 = (
    "Automatic alpha grid generation is not supported for l1_ratio=0. Please "
    "supply a grid by providing your estimator with the appropriate `alphas=` "
    "argument."
)


def regularized_gd_path(
    X,
    y,
    *,
    penalty="l1",
    l1_ratio=0.5,
    eps=1e-3,
    n_alphas=100,
    alphas=None,
    fit_intercept=True,
    sample_weight=None,
    coef_init=None,
    positive=False,
    max_iter=1000,
    tol=1e-4,
    return_n_iter=False,
):
    """Compute the elastic-net (or Lasso) path with warm starts.

    Solves :class:`RegularizedGDRegressor`'s objective, the same as
    :class:`~sklearn.linear_model.ElasticNet`'s::

        1 / (2 * n_samples) * sum_i s_i * (y_i - x_i @ w - b) ** 2
        + alpha * l1_ratio * ||w||_1
        + 0.5 * alpha * (1 - l1_ratio) * ||w||_2 ** 2

    for each ``alpha`` of a decreasing grid, each solve starting from the
    previous solution. Unlike :func:`~sklearn.linear_model.enet_path`, the
    intercept is handled here (``fit_intercept``): with centred data and
    ``fit_intercept=False`` the two give the same coefficients.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data. Sparse matrices are never densified.
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        Targets; several targets are solved independently on a shared grid.
    penalty : {"l1", "elasticnet", "l2"}, default="l1"
        ``"l1"`` is the Lasso (``l1_ratio = 1``), ``"elasticnet"`` uses
        ``l1_ratio``, ``"l2"`` (``l1_ratio = 0``) needs explicit ``alphas``.
    l1_ratio : float, default=0.5
        Mix of L1 in the penalty, in ``[0, 1]``, used with
        ``penalty="elasticnet"``; the automatic grid needs it positive.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the automatic grid, positive.
    n_alphas : int, default=100
        Number of alphas of the automatic grid.
    alphas : array-like or int, default=None
        The alphas (finite, non-negative, sorted in decreasing order
        internally); an int gives the number of alphas of the automatic grid,
        as in scikit-learn >= 1.7. ``None``: an automatic grid of ``n_alphas``
        values from ``alpha_max`` (the smallest alpha with an all-zero
        solution, computed as scikit-learn does, with the sample weights and
        the intercept) down to ``eps * alpha_max``.
    fit_intercept : bool, default=True
        Whether the (unpenalised) intercept is fitted, i.e. the data centred.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights, rescaled to sum to ``n_samples``.
    coef_init : array-like of shape (n_features,) or (n_targets, n_features), \
            default=None
        Starting coefficients for the first alpha.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    max_iter : int, default=1000
        Maximum number of iterations per alpha.
    tol : float, default=1e-4
        Duality-gap tolerance, relative to ``||y_c||^2 / n_samples`` (see
        :class:`RegularizedGDRegressor` for the exact rule).
    return_n_iter : bool, default=False
        Whether to return the number of iterations per alpha.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        The alphas, decreasing.
    coefs : ndarray of shape (n_features, n_alphas) or \
            (n_targets, n_features, n_alphas)
        Coefficients along the path.
    dual_gaps : ndarray of shape (n_alphas,) or (n_targets, n_alphas)
        Duality gaps at the end of each solve, on the objective's scale.
    n_iters : ndarray of shape (n_alphas,) or (n_targets, n_alphas)
        Iterations per alpha; returned when ``return_n_iter=True``.

    See Also
    --------
    RegularizedGDRegressorCV : Cross-validated choice of alpha along this path.
    sklearn.linear_model.enet_path : The same path by coordinate descent.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn_mtl import regularized_gd_path
    >>> X, y = load_diabetes(return_X_y=True)
    >>> alphas, coefs, gaps = regularized_gd_path(X, y, n_alphas=5)
    >>> coefs.shape
    (10, 5)
    >>> [int((coefs[:, i] != 0).sum()) for i in range(5)]
    [0, 4, 7, 9, 10]
    """
    X = check_array(
        X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32], order=None,
        ensure_all_finite=False,  # checked by the design's pass over X
    )
    y = check_array(y, ensure_2d=False, dtype=np.float64)
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"X and y have inconsistent numbers of samples: {X.shape[0]} and "
            f"{y.shape[0]}."
        )
    if penalty not in ("l1", "elasticnet", "l2"):
        raise ValueError(f"penalty must be 'l1', 'elasticnet' or 'l2', got {penalty!r}.")
    if not (isinstance(l1_ratio, Real) and 0 <= l1_ratio <= 1):
        raise ValueError(f"l1_ratio must be a number in [0, 1]; got {l1_ratio!r}.")
    if not (isinstance(eps, Real) and np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive number; got {eps!r}.")
    for name, value in [("max_iter", max_iter), ("n_alphas", n_alphas)]:
        if not (isinstance(value, Integral) and value >= 1):
            raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    if not (isinstance(tol, Real) and tol >= 0):
        raise ValueError(f"tol must be a non-negative number; got {tol!r}.")
    l1_ratio = l1_ratio_of(penalty, l1_ratio)
    design, targets = linear_design(X, y.reshape(X.shape[0], -1), sample_weight,
                                    fit_intercept)
    if alphas is None or isinstance(alphas, Integral):
        n = n_alphas if alphas is None else int(alphas)
        if n < 1:
            raise ValueError(f"alphas must be a positive integer; got {alphas!r}.")
        if l1_ratio == 0.0:
            raise ValueError(AUTOMATIC_GRID_NEEDS_L1)
        alphas = alpha_grid(design, targets, l1_ratio, eps, n, positive)
    else:
        alphas = check_alphas(alphas)
    if coef_init is not None:
        coef_init = np.asarray(coef_init, dtype=np.float64).reshape(
            targets.Y.shape[1], X.shape[1]
        )
    result = enet_path_on_design(
        design, targets, alphas, l1_ratio, positive, max_iter, tol, coef_init
    )
    message = convergence_message(result)
    if message:
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
    coefs = in_data_dtype(result.coefs, X.dtype, "coefs")
    gaps, n_iters = result.gaps, result.n_iters
    if y.ndim == 1:
        coefs, gaps, n_iters = coefs[0], gaps[0], n_iters[0]
    if return_n_iter:
        return alphas, coefs, gaps, n_iters
    return alphas, coefs, gaps
