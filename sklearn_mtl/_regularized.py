"""Linear regression with an L1, L2 or elastic-net penalty, by proximal steps."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import (
    check_is_fitted,
    validate_data,
)

from ._kernels._design import design_sq_norm
from ._kernels._enet_fista import enet_fista
from ._kernels._enet_working_set import (
    column_stats,
    dense_moments,
    enet_working_set,
    sparse_moments,
)
from ._penalties import penalty_strengths
from ._validation import rescaled_sample_weight

# Duality gap checks cost one extra pass over X: do one every few iterations.
_GAP_EVERY = 10
_POWER_ITERATIONS = 30
# Working-set solver settings: smallest working set, inner tolerance as a
# fraction of the outer KKT violation, and Anderson memory.
_WS_P0 = 10
# ... and at least this fraction of the features: early rounds cost a full
# pass each, so a first working set that is cheap next to a pass but not tiny
# saves rounds.
_WS_P0_FRACTION = 0.02
_WS_INNER_RATIO = 0.3
_ANDERSON_K = 5


def _l1_ratio_of(penalty, l1_ratio):
    """The ``l1_ratio`` that a ``penalty`` name stands for."""
    if penalty == "l1":
        return 1.0
    if penalty == "elasticnet":
        return float(l1_ratio)
    return 0.0


class _Design:
    """The centred, row-weighted design ``A`` in the form the kernels take.

    Dense ``X`` is centred and weighted in a Fortran-ordered copy. Sparse ``X``
    is converted to CSC with its rows scaled by ``sqrt(sample_weight)`` (same
    sparsity) and its centring kept implicit through ``offset`` and
    ``row_scale``. With ``copy=False`` (unweighted Fortran-ordered dense or
    sorted CSC ``X``, see :func:`_prepare_in_place`) ``X`` is used as it is,
    the centring implicit.
    """

    def __init__(self, X, X_offset, sqrt_sw, copy=True):
        dtype = X.dtype
        # Target index -> A.T y_c when known (the gradient at w = 0).
        self.initial_grad = {}
        self.row_scale = sqrt_sw.astype(dtype)
        empty_index = np.empty(0, dtype=np.int32)
        if sp.issparse(X):
            if copy:
                X = sp.csc_matrix(X, dtype=dtype, copy=True)
                X.sort_indices()
                X.data *= self.row_scale[X.indices]
            self.is_sparse = True
            self.X = np.empty((0, 0), dtype=dtype)
            self.data = X.data
            self.indices = X.indices.astype(np.int32, copy=False)
            self.indptr = X.indptr.astype(np.int32, copy=False)
            self.offset = X_offset.astype(dtype)
        else:
            self.is_sparse = False
            self.data = np.empty(0, dtype=dtype)
            self.indices = empty_index
            self.indptr = empty_index
            unweighted = bool(np.all(sqrt_sw == 1.0))
            if unweighted and X.flags.f_contiguous and X.dtype == dtype:
                # No copy: the kernels read columns and centre implicitly.
                self.X = X
                self.offset = X_offset.astype(dtype)
            else:
                # One copy, centred (and row-weighted), in Fortran order: the
                # coordinate solvers read columns.
                A = np.empty(X.shape, dtype=dtype, order="F")
                np.subtract(X, X_offset.astype(dtype), out=A)
                if not unweighted:
                    A *= self.row_scale[:, None]
                self.X = A
                self.offset = np.zeros(X.shape[1], dtype=dtype)

    @property
    def arrays(self):
        return (
            self.X,
            self.data,
            self.indices,
            self.indptr,
            self.offset,
            self.row_scale,
            self.is_sparse,
        )

    def column_stats(self):
        """``(||A_j||^2, X_j @ row_scale)`` per column, computed once."""
        if not hasattr(self, "_column_stats"):
            self._column_stats = column_stats(*self.arrays)
        return self._column_stats

    def squared_norm(self, n_features):
        """Power-iteration estimate of ``||A||_2^2`` (deterministic start)."""
        start = np.random.default_rng(0).standard_normal(n_features)
        start = start.astype(self.row_scale.dtype)
        return design_sq_norm(*self.arrays, start, _POWER_ITERATIONS)


def _prepare(X, y, sample_weight, fit_intercept):
    """Weights, centring and the design for validated ``X`` and ``y``.

    Returns ``(design, Y_c, X_offset, Y_offset)`` where ``Y_c`` is
    ``(n_samples, n_targets)``, centred and row-weighted by ``sqrt(s)``, in
    ``X``'s dtype, and the offsets are float64 (zero without an intercept).
    """
    n_samples, n_features = X.shape
    Y = np.asarray(y, dtype=X.dtype).reshape(n_samples, -1)
    n_targets = Y.shape[1]
    unweighted = sample_weight is None
    sample_weight = rescaled_sample_weight(sample_weight, X)
    if unweighted and (
        (not sp.issparse(X) and X.flags.f_contiguous)
        or (sp.issparse(X) and X.format == "csc" and X.has_sorted_indices)
    ):
        return _prepare_in_place(X, Y, fit_intercept)
    if fit_intercept:
        X_offset = np.asarray(safe_sparse_dot(sample_weight, X)).ravel() / n_samples
        Y_offset = sample_weight @ Y.astype(np.float64) / n_samples
    else:
        X_offset = np.zeros(n_features)
        Y_offset = np.zeros(n_targets)
    sqrt_sw = np.sqrt(sample_weight)
    design = _Design(X, X_offset, sqrt_sw)
    Y_c = np.asfortranarray(((Y - Y_offset) * sqrt_sw[:, None]).astype(X.dtype))
    return design, Y_c, X_offset, Y_offset


def _prepare_in_place(X, Y, fit_intercept):
    """:func:`_prepare` for unweighted Fortran-ordered dense or sorted CSC ``X``.

    ``X`` is not copied: the kernels read it as it is, with the centring
    implicit. One pass over ``X`` gives its column means, the squared norms of
    the centred columns and ``A.T y`` for the first target (the solver's first
    gradient), instead of three.
    """
    n_samples, n_features = X.shape
    Y_offset = Y.astype(np.float64).mean(axis=0) if fit_intercept else None
    if Y_offset is None:
        Y_offset = np.zeros(Y.shape[1])
    Y_c = np.asfortranarray((Y - Y_offset).astype(X.dtype))
    y0 = Y_c[:, 0].astype(np.float64)
    if sp.issparse(X):
        indices = X.indices.astype(np.int32, copy=False)
        indptr = X.indptr.astype(np.int32, copy=False)
        sums, sumsq, xty = sparse_moments(X.data, indices, indptr, y0)
    else:
        sums, sumsq, xty = dense_moments(X, y0)
    X_offset = sums / n_samples if fit_intercept else np.zeros(n_features)
    design = _Design(X, X_offset, np.ones(n_samples), copy=False)
    norms2 = np.maximum(sumsq - n_samples * X_offset**2, 0.0)
    if np.any(norms2 < 1e-4 * sumsq):
        # Large means relative to the spread: recompute without cancellation.
        design.column_stats()
    else:
        design._column_stats = (norms2, sums)
    design.initial_grad = {0: xty - X_offset * float(np.sum(y0))}
    return design, Y_c, X_offset, Y_offset


def _ws_p0(n_features):
    """Size of the first working set."""
    return max(_WS_P0, int(_WS_P0_FRACTION * n_features))


def _solve_to_tol(design, y, w, l1_reg, l2_reg, positive, max_iter, tol, grad0=None):
    """Solve for one (centred, weighted) target with sklearn's tolerance scaling.

    Returns ``(gap, n_iter, abs_tol)``, n-scaled.
    """
    y_norm2 = float(np.dot(y.astype(np.float64), y))
    if y_norm2 == 0.0 and not np.any(w):
        return 0.0, 1, 0.0
    # Scale-free floor: the gap cannot be resolved below rounding error.
    eps = np.finfo(y.dtype).eps
    abs_tol = max(tol, 10 * eps) * y_norm2 if y_norm2 > 0 else 10 * eps
    gap, n_iter = _run_solver(
        design, y, w, l1_reg, l2_reg, bool(positive), int(max_iter), abs_tol, grad0
    )
    return gap, n_iter, abs_tol


def _run_solver(design, y, w, l1_reg, l2_reg, positive, max_iter, tol, grad0=None):
    """Solve the n-scaled problem for one target from ``w`` (in place).

    With an L1 part: the working-set solver. Otherwise (ridge, least squares)
    working sets do not help: FISTA on the full design. Returns ``(gap, n_iter)``
    with the n-scaled gap.
    """
    if l1_reg > 0.0:
        norms2, xs = design.column_stats()
        if grad0 is None or np.any(w):
            grad0 = np.empty(0, dtype=y.dtype)
        else:
            grad0 = grad0.astype(y.dtype)
        gap, n_iter, _ = enet_working_set(
            *design.arrays,
            y,
            w,
            float(l1_reg),
            float(l2_reg),
            positive,
            int(max_iter),
            float(tol),
            norms2,
            xs,
            _ws_p0(w.shape[0]),
            _WS_INNER_RATIO,
            _ANDERSON_K,
            grad0,
        )
        return gap, n_iter
    if not hasattr(design, "_lipschitz"):
        design._lipschitz = design.squared_norm(w.shape[0])
    eps = np.finfo(y.dtype).eps
    gap, n_iter, _ = enet_fista(
        *design.arrays,
        y,
        w,
        float(l1_reg),
        float(l2_reg),
        positive,
        max(float(design._lipschitz), np.finfo(np.float64).tiny),
        int(max_iter),
        float(tol),
        _GAP_EVERY,
        float(10 * eps),
    )
    return gap, n_iter


class RegularizedGDRegressor(MultiOutputMixin, RegressorMixin, BaseEstimator):
    """Linear regression with an L1, L2 or elastic-net penalty.

    Minimises the objective of scikit-learn's
    :class:`~sklearn.linear_model.ElasticNet`::

        1 / (2 * n_samples) * sum_i s_i * (y_i - x_i @ w - b) ** 2
        + alpha * l1_ratio * ||w||_1
        + 0.5 * alpha * (1 - l1_ratio) * ||w||_2 ** 2

    with sample weights ``s`` rescaled to sum to ``n_samples``, by proximal
    gradient steps in Numba-jitted loops: soft-thresholding for the L1 part,
    shrinkage (weight decay) for the L2 part. The intercept ``b`` is not
    penalised. No step size needs tuning.

    With an L1 part (``"l1"``, ``"elasticnet"``) the solver works on working
    sets: each outer round takes one pass over the data for the duality gap and
    the optimality violations, keeps the support plus the features closest to
    violating their optimality condition, and solves that small problem by
    proximal steps one coordinate at a time (each with its own step
    ``1 / ||x_j||^2``) with Anderson extrapolation. Without one (``"l2"``,
    ``None``) it runs FISTA with adaptive restart and backtracking on all
    features.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet"} or None, default="l2"
        The penalty. ``"l1"`` sets ``l1_ratio = 1`` (the Lasso), ``"l2"`` sets
        ``l1_ratio = 0`` (then ``alpha * n_samples`` is
        :class:`~sklearn.linear_model.Ridge`'s ``alpha``), ``"elasticnet"`` uses
        ``l1_ratio``, and ``None`` fits ordinary least squares (``alpha`` is
        ignored).
    alpha : float, default=1.0
        Regularisation strength; non-negative.
    l1_ratio : float, default=0.5
        Mix of L1 in the penalty, in ``[0, 1]``; used only with
        ``penalty="elasticnet"``.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept. Sparse ``X`` is never
        centred: the centring is kept implicit in the solver.
    max_iter : int, default=1000
        Maximum number of iterations per target: epochs over the working set
        with an L1 part, FISTA iterations otherwise.
    tol : float, default=1e-4
        Stop when the duality gap is below ``tol * ||y_c||^2 / n_samples``
        where ``y_c`` is the (weighted, centred) target, scikit-learn's scaling.
        With ``penalty=None`` the gap is replaced by ``||X_c^T r||^2 / (2 L n)``,
        the decrease a gradient step would still achieve (zero exactly at an
        optimum).
    warm_start : bool, default=False
        When True, start from the previous ``coef_``.
    positive : bool, default=False
        When True, constrain the coefficients to be non-negative.
    verbose : int, default=0
        Print a line per target when positive.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, of the input's floating dtype.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept (0 when ``fit_intercept=False``).
    n_iter_ : int or ndarray of shape (n_targets,)
        Iterations run (see ``max_iter``).
    dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap at the solution, on the scale of the objective above.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names seen during ``fit``, when ``X`` has string column names.

    See Also
    --------
    sklearn.linear_model.ElasticNet : The same objective by coordinate descent.
    sklearn.linear_model.Lasso : The ``penalty="l1"`` case.
    sklearn.linear_model.Ridge : The ``penalty="l2"`` case, with ``alpha * n``.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn_mtl import RegularizedGDRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = RegularizedGDRegressor(penalty="l1", alpha=0.1).fit(X, y)
    >>> int((reg.coef_ != 0).sum())
    7
    >>> round(reg.score(X, y), 2)
    0.51
    """

    _parameter_constraints: dict = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "positive": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        penalty="l2",
        *,
        alpha=1.0,
        l1_ratio=0.5,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        positive=False,
        verbose=0,
    ):
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse matrices (CSR or CSC) are never densified.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets; with several targets, one independent model is fit per
            column, as :class:`~sklearn.linear_model.ElasticNet` does.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights, rescaled internally to sum to
            ``n_samples``.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            multi_output=True,
            y_numeric=True,
        )
        n_samples, n_features = X.shape
        single_target = np.ndim(y) == 1
        design, Y_c, X_offset, Y_offset = _prepare(
            X, y, sample_weight, self.fit_intercept
        )
        n_targets = Y_c.shape[1]

        l1_ratio = _l1_ratio_of(self.penalty, self.l1_ratio)
        alpha = 0.0 if self.penalty is None else float(self.alpha)
        l1_reg, l2_reg = penalty_strengths(alpha, l1_ratio, n_samples)

        coef_init = self._initial_coef(n_targets, n_features)
        coef = np.empty((n_targets, n_features), dtype=X.dtype)
        dual_gap = np.empty(n_targets)
        n_iter = np.empty(n_targets, dtype=np.int64)
        for k in range(n_targets):
            y_k = Y_c[:, k]
            w = coef_init[k].astype(X.dtype, copy=True)
            gap, n_iter[k] = self._solve(
                design, y_k, w, l1_reg, l2_reg, design.initial_grad.get(k)
            )
            coef[k] = w
            dual_gap[k] = gap / n_samples
            if self.verbose:
                print(
                    f"[RegularizedGDRegressor] target {k}: {n_iter[k]} iterations, "
                    f"duality gap {dual_gap[k]:.3e}"
                )

        if not np.all(np.isfinite(coef)):
            raise FloatingPointError(
                "The solver produced non-finite coefficients; the data may be "
                "badly scaled (try StandardScaler)."
            )
        intercept = Y_offset - coef.astype(np.float64) @ X_offset
        if single_target:
            self.coef_ = coef[0]
            self.intercept_ = float(intercept[0])
            self.n_iter_ = int(n_iter[0])
            self.dual_gap_ = float(dual_gap[0])
        else:
            self.coef_ = coef
            self.intercept_ = intercept.astype(X.dtype)
            self.n_iter_ = n_iter
            self.dual_gap_ = dual_gap
        return self

    def _initial_coef(self, n_targets, n_features):
        if self.warm_start and hasattr(self, "coef_"):
            coef = np.asarray(self.coef_).reshape(-1, n_features)
            if coef.shape[0] == n_targets:
                return coef
        return np.zeros((n_targets, n_features))

    def _solve(self, design, y, w, l1_reg, l2_reg, grad0=None):
        """Run the kernel on one target; ``w`` is updated in place.

        Returns the n-scaled duality gap and the number of iterations.
        """
        gap, n_iter, tol = _solve_to_tol(
            design, y, w, l1_reg, l2_reg, self.positive, self.max_iter, self.tol, grad0
        )
        if gap > tol:
            warnings.warn(
                "Objective did not converge: the duality gap "
                f"{gap / y.shape[0]:.3e} is above the tolerance "
                f"{tol / y.shape[0]:.3e} after {n_iter} iterations. Increase "
                "max_iter, loosen tol, or scale the features.",
                ConvergenceWarning,
            )
        return gap, n_iter

    def predict(self, X):
        """Predict with the fitted linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predicted values.
        """
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            reset=False,
        )
        return safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags
