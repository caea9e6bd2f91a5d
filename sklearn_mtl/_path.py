"""Regularization path and cross-validated choice of ``alpha`` (and ``l1_ratio``)."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_is_fitted,
    validate_data,
)

from ._kernels._design import design_tdot
from ._kernels._enet_working_set import enet_working_set_gram
from ._penalties import penalty_strengths
from ._regularized import (
    _ANDERSON_K,
    _WS_INNER_RATIO,
    RegularizedGDRegressor,
    _l1_ratio_of,
    _prepare,
    _solve_to_tol,
    _ws_p0,
)
from ._validation import rescaled_sample_weight


def _gram(design):
    """``A.T A`` (float64) of a dense design, or None when it does not pay.

    As sklearn's ``precompute="auto"``: along a path on dense data with more
    samples than features, one Gram matrix serves every alpha, and the solver
    never reads ``X`` again.
    """
    if design.is_sparse:
        return None
    n_samples, n_features = design.X.shape
    if n_samples <= n_features:
        return None
    A = np.asarray(design.X, dtype=np.float64)
    if np.any(design.offset):
        A = A - np.outer(design.row_scale, design.offset)
    return A, A.T @ A


def _alpha_max(design, Y_c, l1_ratio, positive):
    """Smallest ``alpha`` whose solution is all zeros (sklearn's formula).

    ``design`` and ``Y_c`` are centred and weighted (sample weights summing to
    ``n_samples``), so this is ``max_j |x_j^T (s * y_c)| / (n * l1_ratio)``
    with ``x_j`` and ``y_c`` weighted-centred, as sklearn's ``_alpha_grid``.
    """
    n_samples, n_features = design.row_scale.shape[0], design.offset.shape[0]
    largest = 0.0
    out = np.empty(n_features, dtype=Y_c.dtype)
    for k in range(Y_c.shape[1]):
        design_tdot(*design.arrays, np.ascontiguousarray(Y_c[:, k]), out)
        corr = out if positive else np.abs(out)
        largest = max(largest, float(np.max(corr)) if n_features else 0.0)
    return largest / (n_samples * l1_ratio)


def _alpha_grid(design, Y_c, l1_ratio, eps, n_alphas, positive):
    alpha_max = _alpha_max(design, Y_c, l1_ratio, positive)
    if alpha_max <= np.finfo(np.float64).resolution:
        return np.full(n_alphas, np.finfo(np.float64).resolution)
    return np.geomspace(alpha_max, alpha_max * eps, num=n_alphas)


def _path_on_design(
    design, Y_c, alphas, l1_ratio, coef_init, positive, max_iter, tol, dtype,
    gram=False,
):
    """Warm-started solves along ``alphas``; returns coefs, gaps, iterations.

    ``coefs`` is ``(n_targets, n_features, n_alphas)``; the gaps are on the
    scale of the objective (divided by ``n_samples``).
    """
    n_samples, n_targets = Y_c.shape
    n_features = design.offset.shape[0]
    n_alphas = len(alphas)
    coefs = np.empty((n_targets, n_features, n_alphas), dtype=dtype)
    gaps = np.empty((n_targets, n_alphas))
    n_iters = np.empty((n_targets, n_alphas), dtype=np.int64)
    not_converged = []
    if gram is False:
        gram = _gram(design) if l1_ratio > 0 else None
    for k in range(n_targets):
        y_k = np.ascontiguousarray(Y_c[:, k])
        if coef_init is None:
            w = np.zeros(n_features, dtype=dtype)
        else:
            w = np.array(coef_init[k], dtype=dtype)
        if gram is not None:
            y64 = y_k.astype(np.float64)
            Aty = gram[0].T @ y64
            y_norm2 = float(y64 @ y64)
            eps = np.finfo(dtype).eps
            abs_tol = max(tol, 10 * eps) * y_norm2 if y_norm2 > 0 else 10 * eps
        for i, alpha in enumerate(alphas):
            l1_reg, l2_reg = penalty_strengths(float(alpha), l1_ratio, n_samples)
            if gram is not None and y_norm2 > 0:
                gap, n_iter, _ = enet_working_set_gram(
                    gram[1],
                    Aty,
                    y_norm2,
                    w,
                    float(l1_reg),
                    float(l2_reg),
                    bool(positive),
                    int(max_iter),
                    float(abs_tol),
                    _ws_p0(n_features),
                    _WS_INNER_RATIO,
                    _ANDERSON_K,
                )
            else:
                gap, n_iter, abs_tol = _solve_to_tol(
                    design, y_k, w, l1_reg, l2_reg, positive, max_iter, tol
                )
            if gap > abs_tol:
                not_converged.append((alpha, gap / n_samples, abs_tol / n_samples))
            coefs[k, :, i] = w
            gaps[k, i] = gap / n_samples
            n_iters[k, i] = n_iter
    if not_converged:
        alpha, gap, abs_tol = not_converged[0]
        warnings.warn(
            f"Objective did not converge for {len(not_converged)} alpha(s); at "
            f"alpha={alpha:.3e} the duality gap {gap:.3e} is above the tolerance "
            f"{abs_tol:.3e}. Increase max_iter, loosen tol, or scale the features.",
            ConvergenceWarning,
        )
    return coefs, gaps, n_iters


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
        Mix of L1 in the penalty, used with ``penalty="elasticnet"``.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the automatic grid.
    n_alphas : int, default=100
        Number of alphas of the automatic grid.
    alphas : array-like or int, default=None
        The alphas (sorted in decreasing order internally); an int gives the
        number of alphas of the automatic grid, as in scikit-learn >= 1.7.
        ``None``: an automatic grid of ``n_alphas`` values from ``alpha_max``
        (the smallest alpha with an all-zero solution, computed as scikit-learn
        does, with the sample weights and the intercept) down to
        ``eps * alpha_max``.
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
        Duality-gap tolerance, relative to ``||y_c||^2 / n_samples``.
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
        X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32], order=None
    )
    y = check_array(y, ensure_2d=False, dtype=X.dtype)
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"X and y have inconsistent numbers of samples: {X.shape[0]} and "
            f"{y.shape[0]}."
        )
    if penalty not in ("l1", "elasticnet", "l2"):
        raise ValueError(f"penalty must be 'l1', 'elasticnet' or 'l2', got {penalty!r}.")
    l1_ratio = _l1_ratio_of(penalty, l1_ratio)
    design, Y_c, _, _ = _prepare(X, y, sample_weight, fit_intercept)
    if alphas is None or isinstance(alphas, Integral):
        n = n_alphas if alphas is None else int(alphas)
        if l1_ratio == 0.0:
            raise ValueError(
                "An automatic alpha grid needs an L1 part: give alphas with "
                "penalty='l2'."
            )
        alphas = _alpha_grid(design, Y_c, l1_ratio, eps, n, positive)
    else:
        alphas = np.sort(np.asarray(alphas, dtype=np.float64).ravel())[::-1]
        if np.any(alphas < 0):
            raise ValueError("alphas must be non-negative.")
    if coef_init is not None:
        coef_init = np.asarray(coef_init, dtype=np.float64).reshape(
            Y_c.shape[1], X.shape[1]
        )
    coefs, gaps, n_iters = _path_on_design(
        design, Y_c, alphas, l1_ratio, coef_init, positive, max_iter, tol, X.dtype
    )
    if y.ndim == 1:
        coefs, gaps, n_iters = coefs[0], gaps[0], n_iters[0]
    if return_n_iter:
        return alphas, coefs, gaps, n_iters
    return alphas, coefs, gaps


def _fold_mse(X, y, sample_weight, train, test, fit_intercept, grids, l1_ratios,
              positive, max_iter, tol):
    """Test mean squared errors ``(n_l1_ratio, n_alphas)`` of the paths fitted on
    ``train`` (one design, and one Gram matrix when it pays, for every ratio)."""
    X_train, y_train = X[train], y[train]
    sw_train = None if sample_weight is None else sample_weight[train]
    design, Y_c, X_offset, Y_offset = _prepare(X_train, y_train, sw_train, fit_intercept)
    del X_train, y_train
    gram = _gram(design) if np.all(np.asarray(l1_ratios) > 0) else None
    X_test = X[test]
    y_test = np.asarray(y[test], dtype=np.float64)
    out = np.empty((len(l1_ratios), grids.shape[1]))
    for r, (l1_ratio, alphas) in enumerate(zip(l1_ratios, grids)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            coefs, _, _ = _path_on_design(
                design, Y_c, alphas, float(l1_ratio), None, positive, max_iter, tol,
                X.dtype, gram=gram,
            )
        coefs = coefs[0].astype(np.float64)  # (n_features, n_alphas)
        intercepts = Y_offset[0] - X_offset @ coefs
        pred = np.asarray(safe_sparse_dot(X_test, coefs)) + intercepts
        residues = pred - y_test[:, None]
        if sample_weight is None:
            out[r] = (residues**2).mean(axis=0)
        else:
            out[r] = np.average(residues**2, weights=sample_weight[test], axis=0)
    return out


def _alpha_grid_raw(X, y, sample_weight, fit_intercept, l1_ratio, eps, n_alphas,
                    positive):
    """sklearn's alpha grid without building a (copied, centred) design.

    With weights ``s`` summing to ``n`` and ``y_c`` weighted-centred,
    ``s.y_c = 0``, so centring ``X`` does not change ``X.T (s * y_c)``.
    """
    n_samples = X.shape[0]
    sw = rescaled_sample_weight(sample_weight, X)
    y64 = np.asarray(y, dtype=np.float64)
    y_c = y64 - (sw @ y64) / n_samples if fit_intercept else y64
    Xy = np.asarray(safe_sparse_dot(X.T, sw * y_c)).ravel()
    corr = Xy if positive else np.abs(Xy)
    alpha_max = float(np.max(corr)) / (n_samples * l1_ratio)
    if alpha_max <= np.finfo(np.float64).resolution:
        return np.full(n_alphas, np.finfo(np.float64).resolution)
    return np.geomspace(alpha_max, alpha_max * eps, num=n_alphas)


class RegularizedGDRegressorCV(RegressorMixin, BaseEstimator):
    """:class:`RegularizedGDRegressor` with ``alpha`` (and ``l1_ratio``) chosen by CV.

    For each ``l1_ratio`` and each cross-validation fold, the whole path of
    :func:`regularized_gd_path` is fitted on the training part (warm starts
    along a decreasing grid of alphas) and scored by the mean squared error on
    the held-out part. The pair with the lowest mean error over the folds is
    refitted on all the data. The objective is
    :class:`~sklearn.linear_model.ElasticNet`'s::

        1 / (2 * n_samples) * sum_i s_i * (y_i - x_i @ w - b) ** 2
        + alpha * l1_ratio * ||w||_1
        + 0.5 * alpha * (1 - l1_ratio) * ||w||_2 ** 2

    Parameters follow :class:`~sklearn.linear_model.ElasticNetCV`.

    Parameters
    ----------
    penalty : {"elasticnet", "l1"}, default="elasticnet"
        ``"l1"`` fixes ``l1_ratio = 1`` (as :class:`~sklearn.linear_model.LassoCV`).
    l1_ratio : float or array-like of float, default=0.5
        L1 mix(es) to try with ``penalty="elasticnet"``, each in ``(0, 1]``.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the automatic grid.
    alphas : int or array-like, default=100
        Number of alphas of the automatic grid (computed on all the data for
        each ``l1_ratio``, from ``alpha_max`` down to ``eps * alpha_max``), or
        the alphas themselves.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    max_iter : int, default=1000
        Maximum number of iterations per alpha.
    tol : float, default=1e-4
        Duality-gap tolerance, relative to ``||y_c||^2 / n_samples``.
    cv : int, cross-validation generator or iterable, default=None
        As :func:`~sklearn.model_selection.check_cv`: ``None`` is 5-fold.
    n_jobs : int, default=None
        Number of threads over the folds; the solvers release the GIL.
        ``None`` means 1 unless in a joblib context.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    verbose : int, default=0
        Verbosity of the joblib loop.

    Attributes
    ----------
    alpha_ : float
        The chosen alpha.
    l1_ratio_ : float
        The chosen ``l1_ratio``.
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        The grid(s) of alphas.
    mse_path_ : ndarray of shape (n_alphas, n_folds) or \
            (n_l1_ratio, n_alphas, n_folds)
        Test mean squared error per alpha and fold.
    coef_ : ndarray of shape (n_features,)
        Coefficients of the refitted model.
    intercept_ : float
        Intercept of the refitted model.
    dual_gap_ : float
        Duality gap of the refitted model.
    n_iter_ : int
        Iterations of the refit.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names seen during ``fit``, when ``X`` has string column names.

    See Also
    --------
    regularized_gd_path : The path fitted on each fold.
    sklearn.linear_model.ElasticNetCV : The same search by coordinate descent.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn_mtl import RegularizedGDRegressorCV
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = RegularizedGDRegressorCV(l1_ratio=[0.5, 1.0], alphas=20, cv=5).fit(X, y)
    >>> float(reg.l1_ratio_)
    1.0
    >>> round(reg.score(X, y), 2)
    0.52
    """

    _parameter_constraints: dict = {
        "penalty": [StrOptions({"elasticnet", "l1"})],
        "l1_ratio": [Interval(Real, 0, 1, closed="right"), "array-like"],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "cv": ["cv_object"],
        "n_jobs": [Integral, None],
        "positive": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        penalty="elasticnet",
        *,
        l1_ratio=0.5,
        eps=1e-3,
        alphas=100,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-4,
        cv=None,
        n_jobs=None,
        positive=False,
        verbose=0,
    ):
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.n_jobs = n_jobs
        self.positive = positive
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Choose ``alpha`` (and ``l1_ratio``) by cross-validation, then refit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse matrices are never densified.
        y : array-like of shape (n_samples,)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, used in the fits and in each fold's mean squared
            error (the folds' errors are then averaged unweighted, as
            :class:`~sklearn.linear_model.ElasticNetCV` does).

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
            y_numeric=True,
        )
        y = np.asarray(y, dtype=X.dtype)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        if self.penalty == "l1":
            l1_ratios = np.array([1.0])
        else:
            l1_ratios = np.atleast_1d(np.asarray(self.l1_ratio, dtype=np.float64))
            if np.any(l1_ratios <= 0) or np.any(l1_ratios > 1):
                raise ValueError(
                    "l1_ratio must be in (0, 1]: an automatic alpha grid needs an "
                    f"L1 part; got {self.l1_ratio!r}."
                )
        if isinstance(self.alphas, Integral):
            grids = np.array(
                [
                    _alpha_grid_raw(
                        X, y, sample_weight, self.fit_intercept, r, self.eps,
                        self.alphas, self.positive,
                    )
                    for r in l1_ratios
                ]
            )
        else:
            grid = np.sort(np.asarray(self.alphas, dtype=np.float64).ravel())[::-1]
            if grid.size == 0 or np.any(grid < 0) or not np.all(np.isfinite(grid)):
                raise ValueError("alphas must be finite and non-negative.")
            grids = np.tile(grid, (len(l1_ratios), 1))

        if sp.issparse(X):
            X = X.tocsr()  # row subsets for the folds
        folds = list(check_cv(self.cv).split(X, y))
        jobs = (
            delayed(_fold_mse)(
                X,
                y,
                sample_weight,
                train,
                test,
                self.fit_intercept,
                grids,
                l1_ratios,
                self.positive,
                self.max_iter,
                self.tol,
            )
            for train, test in folds
        )
        mse = Parallel(n_jobs=self.n_jobs, verbose=self.verbose, prefer="threads")(jobs)
        # (n_folds, n_l1_ratio, n_alphas) -> (n_l1_ratio, n_folds, n_alphas)
        mse = np.moveaxis(np.asarray(mse), 0, 1)
        mean_mse = mse.mean(axis=1)
        i_ratio, i_alpha = np.unravel_index(np.argmin(mean_mse), mean_mse.shape)

        self.l1_ratio_ = float(l1_ratios[i_ratio])
        self.alpha_ = float(grids[i_ratio, i_alpha])
        self.mse_path_ = np.squeeze(np.moveaxis(mse, 2, 1))
        self.alphas_ = np.squeeze(grids)
        penalty = "l1" if self.l1_ratio_ == 1.0 else "elasticnet"
        model = RegularizedGDRegressor(
            penalty,
            alpha=self.alpha_,
            l1_ratio=self.l1_ratio_,
            fit_intercept=self.fit_intercept,
            max_iter=self.max_iter,
            tol=self.tol,
            positive=self.positive,
        )
        model.fit(X, y, sample_weight=sample_weight)
        self.coef_ = model.coef_
        self.intercept_ = model.intercept_
        self.dual_gap_ = model.dual_gap_
        self.n_iter_ = model.n_iter_
        return self

    def predict(self, X):
        """Predict with the refitted linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
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
        return safe_sparse_dot(X, self.coef_, dense_output=True) + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
