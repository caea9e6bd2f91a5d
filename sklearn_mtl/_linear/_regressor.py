"""Linear regression with an L1, L2 or elastic-net penalty, by proximal steps."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._design import linear_design
from .._validation import in_data_dtype
from ._path import (
    convergence_message,
    enet_path_on_design,
    intercepts,
    l1_ratio_of,
    linear_predict,
)


class RegularizedGDRegressor(MultiOutputMixin, RegressorMixin, BaseEstimator):
    """Linear regression with an L1, L2 or elastic-net penalty.

    Minimises the objective of scikit-learn's
    :class:`~sklearn.linear_model.ElasticNet`::

        1 / (2 * n_samples) * sum_i s_i * (y_i - x_i @ w - b) ** 2
        + alpha * l1_ratio * ||w||_1
        + 0.5 * alpha * (1 - l1_ratio) * ||w||_2 ** 2

    with sample weights ``s`` rescaled to sum to ``n_samples``. The intercept
    ``b`` is not penalised. No step size needs tuning.

    With an L1 part (``"l1"``, ``"elasticnet"``) the solver works on working
    sets: each outer round takes one pass over the data for the duality gap and
    the optimality violations, keeps the support plus the features closest to
    violating their optimality condition, and solves that small problem by
    proximal steps one coordinate at a time (soft-thresholding, then L2
    shrinkage, each coordinate with its own step ``1 / ||x_j||^2``) in
    Numba-jitted loops, with Anderson extrapolation. Without an L1 part the
    problem is quadratic: ridge (``"l2"``) is solved by conjugate gradient,
    stopped on its duality gap, and least squares (``None``) directly (LSQR
    for large sparse ``X``, as :class:`~sklearn.linear_model.LinearRegression`
    does for any sparse ``X``; small sparse ``X`` is solved on a dense copy).

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
        Whether to fit an (unpenalised) intercept. The data are centred
        explicitly, or implicitly (without a copy) for the columns whose mean
        is small next to their spread, so that large column means (years,
        timestamps) lose no accuracy.
    max_iter : int, default=1000
        Maximum number of iterations per target: epochs over the working sets
        with an L1 part, conjugate-gradient steps for ridge. It bounds all the
        work.
    tol : float, default=1e-4
        Tolerance on the duality gap, which bounds the distance of the
        objective to its minimum, with scikit-learn's scaling: a fit whose gap
        ends above ``tol * ||y_c||^2 / n_samples`` (``y_c`` the weighted,
        centred target) warns. The solver aims a million times lower, at
        ``1e-6 * tol * ||y_c||^2 / n_samples``, and then, at the default
        ``tol`` and tighter, solves exactly on the support found when that is
        cheap (at a looser ``tol`` only when negligible, for small problems):
        sklearn's coordinate descent lands far below its own gap test, and at
        equal ``tol`` this makes our fits at least as accurate as its (the
        benchmarks measure it). Neither
        target goes below what rounding lets a gap resolve
        (``10 * eps * ||y_c||^2 / n_samples``). For least squares on large
        sparse ``X``, ``tol`` bounds LSQR's relative residual instead.
    warm_start : bool, default=False
        When True, start from the previous ``coef_`` (same number of targets
        and features).
    positive : bool, default=False
        When True, constrain the coefficients to be non-negative. Without a
        penalty (or with an alpha below rounding) this is non-negative least
        squares, solved exactly (active-set NNLS) on the data, or on a dense
        copy of sparse data (a ValueError beyond 4 million entries).
    verbose : int, default=0
        Print a line per target when positive.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, of the input's floating dtype; 1-D for one target
        (also for ``y`` of shape ``(n_samples, 1)``, as in ElasticNet).
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept (0 when ``fit_intercept=False``); an array for 2-D ``y``.
    n_iter_ : int or ndarray of shape (n_targets,)
        Iterations run (see ``max_iter``).
    dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap at the solution, on the scale of the objective above (0
        for a direct least-squares solve): a bound on how far ``coef_`` is
        from the optimum. After the final exact solve on the support, the
        dual point is the one measured just before it, so the gap may exceed
        the one recomputed at ``coef_``; it is never below the suboptimality.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names seen during ``fit``, when ``X`` has string column names.

    See Also
    --------
    sklearn.linear_model.ElasticNet : The same objective by coordinate descent.
    sklearn.linear_model.Lasso : The ``penalty="l1"`` case.
    sklearn.linear_model.Ridge : The ``penalty="l2"`` case, with ``alpha * n``.

    Notes
    -----
    Magnitudes near the limits of floating point are handled by dividing
    ``X`` and ``y`` by powers of two (exact), solving the equivalent problem,
    and scaling back. A stop that is not a convergence (``max_iter`` reached,
    the gap no longer falling because of rounding, a non-finite value) raises
    a :class:`~sklearn.exceptions.ConvergenceWarning` that says which.

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
        if type(X).__module__.startswith("dask."):  # out of core: sklearn_mtl._dask
            from .. import _dask
            return _dask.fit(self, X, y, sample_weight)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            multi_output=True,
            y_numeric=True,
            ensure_all_finite=False,  # checked by the design's pass over X
        )
        n_samples, n_features = X.shape
        Y = np.asarray(y).reshape(n_samples, -1)
        design, targets = linear_design(X, Y, sample_weight, self.fit_intercept)
        l1_ratio = l1_ratio_of(self.penalty, self.l1_ratio)
        alpha = 0.0 if self.penalty is None else float(self.alpha)
        result = enet_path_on_design(
            design,
            targets,
            [alpha],
            l1_ratio,
            self.positive,
            self.max_iter,
            self.tol,
            coef_init=self._initial_coef(Y.shape[1], n_features),
        )
        store_path_result(
            self, result, targets.y_mean, design.x_mean, X.dtype, np.ndim(y), stacklevel=4
        )
        return self

    def _initial_coef(self, n_targets, n_features):
        """The previous coefficients when warm starting, else None."""
        if not (self.warm_start and hasattr(self, "coef_")):
            return None
        coef = np.asarray(self.coef_)
        if coef.size != n_targets * n_features:
            raise ValueError(
                f"warm_start=True needs the previous fit's shape: coef_ has shape "
                f"{coef.shape}, but this fit has {n_targets} target(s) and "
                f"{n_features} features. Set warm_start=False to refit from "
                "scratch."
            )
        return coef.reshape(n_targets, n_features)

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
        if type(X).__module__.startswith("dask."):  # lazy, block by block
            from .. import _dask
            return _dask.predict(self, X)
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            reset=False,
        )
        return linear_predict(X, self.coef_, self.intercept_)

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination :math:`R^2` of the prediction.

        As :meth:`sklearn.base.RegressorMixin.score`; on dask arrays it is
        computed in one pass of per-block sums, without gathering ``y`` or the
        predictions.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            True values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            :math:`R^2` of ``self.predict(X)`` against ``y``.
        """
        if type(X).__module__.startswith("dask."):  # one pass over the blocks
            from .. import _dask
            return _dask.score(self, X, y, sample_weight)
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags


def store_path_result(estimator, result, y_mean, x_mean, dtype, y_ndim, stacklevel):
    """Set ``coef_``, ``intercept_``, ``n_iter_`` and ``dual_gap_`` from a
    one-alpha path result; warn (at ``stacklevel``) if a solve did not converge.

    The coefficients take the data's ``dtype`` first, and the intercept
    comes from them as stored: with float32 data whose columns sit far from
    zero, the coefficients' rounding times the means would otherwise move
    every prediction (by 0.04 for a mean of 1.6e6, a 50% worse objective).
    One target gives a 1-D ``coef_``, as ElasticNet does.
    """
    message = convergence_message(result)
    if message:
        warnings.warn(message, ConvergenceWarning, stacklevel=stacklevel)
    coef = in_data_dtype(result.coefs[:, :, 0], dtype, "coef_")
    intercept = intercepts(y_mean, coef.astype(np.float64), x_mean)
    if estimator.verbose:
        for k in range(coef.shape[0]):
            print(
                f"[{type(estimator).__name__}] target {k}: {result.n_iters[k, 0]} "
                f"iterations, {result.measure} {result.gaps[k, 0]:.3e} "
                f"({result.statuses[k]})"
            )
    if coef.shape[0] == 1:
        estimator.coef_ = coef[0]
        estimator.intercept_ = (
            float(intercept[0])
            if y_ndim == 1
            else in_data_dtype(intercept, dtype, "intercept_")
        )
        estimator.n_iter_ = int(result.n_iters[0, 0])
        estimator.dual_gap_ = float(result.gaps[0, 0])
    else:
        estimator.coef_ = coef
        estimator.intercept_ = in_data_dtype(intercept, dtype, "intercept_")
        estimator.n_iter_ = result.n_iters[:, 0]
        estimator.dual_gap_ = result.gaps[:, 0]
