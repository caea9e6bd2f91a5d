"""Cross-validated choice of ``alpha`` (and ``l1_ratio``) along the path."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from .._design import design_gram, linear_design, power_of_two
from ._path import (
    _SPARSE_GRAM_MAX,
    AUTOMATIC_GRID_NEEDS_L1,
    alpha_grid,
    check_alphas,
    enet_path_on_design,
    intercepts,
    linear_predict,
)
from ._regressor import RegularizedGDRegressor

# Fold paths are only scored: they aim at a hundredth of the tolerance, not
# the millionth that fitted models aim at (the refit keeps that one).
_FOLD_GAP_SAFETY = 1e-2


def _fold_mse(X, y, sample_weight, train, test, fit_intercept, grids, l1_ratios,
              positive, max_iter, tol, y_unit):
    """Test mean squared errors ``(n_l1_ratio, n_alphas)`` of the paths fitted
    on ``train`` (one design for every ratio), in units of ``y_unit ** 2`` (a
    power of two near the largest ``|y|``), so that squares cannot overflow."""
    sw_train = None if sample_weight is None else sample_weight[train]
    if sw_train is not None and not sw_train.sum() > 0:
        raise ValueError(
            "The sample weights of a cross-validation fold's training part sum "
            "to zero: no model can be fitted on it. Use a splitter that keeps "
            "weighted samples in every training part."
        )
    design, targets = linear_design(
        X[train], y[train].reshape(-1, 1), sw_train, fit_intercept
    )
    X_test = X[test]
    y_test = np.asarray(y[test], dtype=np.float64)
    out = np.empty((len(l1_ratios), grids.shape[1]))
    # One Gram matrix serves the paths of every l1_ratio of this fold.
    gram = None
    if (
        len(l1_ratios) > 1
        and design.n_samples > design.n_features
        and (design.csc is None or design.n_features <= _SPARSE_GRAM_MAX)
    ):
        gram = design_gram(design)
    for r, (l1_ratio, alphas) in enumerate(zip(l1_ratios, grids)):
        result = enet_path_on_design(
            design, targets, alphas, float(l1_ratio), positive, max_iter, tol,
            gram=gram, gap_safety=_FOLD_GAP_SAFETY,
        )
        coefs = result.coefs[0]  # (n_features, n_alphas)
        intercept = intercepts(targets.y_mean[0], coefs.T, design.x_mean)
        residues = np.asarray(safe_sparse_dot(X_test, coefs)) + intercept
        residues -= y_test[:, None]
        residues /= y_unit
        if sample_weight is None:
            out[r] = (residues**2).mean(axis=0)
        else:
            weights = sample_weight[test]
            if not weights.sum() > 0:
                raise ValueError(
                    "The sample weights of a cross-validation fold's test part "
                    "sum to zero: its error is undefined."
                )
            # Relative weights: huge raw weights must not overflow the sums.
            weights = weights / weights.max()
            out[r] = np.average(residues**2, weights=weights, axis=0)
    return out


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
        L1 mix(es) to try with ``penalty="elasticnet"``, each in ``[0, 1]``; 0
        (ridge) needs explicit ``alphas``, since the automatic grid starts
        from the smallest alpha that zeroes an L1 penalty.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the automatic grid.
    alphas : int or array-like, default=100
        Number of alphas of the automatic grid (computed on all the data for
        each ``l1_ratio``, from ``alpha_max`` down to ``eps * alpha_max``), or
        the alphas themselves (finite, non-negative).
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    max_iter : int, default=1000
        Maximum number of iterations per alpha.
    tol : float, default=1e-4
        Tolerance of every solve, as in :class:`RegularizedGDRegressor`.
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
        The grid of alphas: one row per ``l1_ratio`` for an automatic grid
        with several ratios, else 1-D, as in
        :class:`~sklearn.linear_model.ElasticNetCV`.
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
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
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
    def fit(self, X, y, sample_weight=None, **params):
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
        **params : dict
            Parameters routed to the splitter (e.g. ``groups`` for
            :class:`~sklearn.model_selection.GroupKFold`), with metadata
            routing enabled (``sklearn.set_config(enable_metadata_routing=True)``).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        _raise_for_params(params, self, "fit")
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            y_numeric=True,
        )
        y = np.asarray(y, dtype=np.float64)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        l1_ratios = self._l1_ratios()
        explicit = not isinstance(self.alphas, Integral)
        if explicit:
            grids = np.tile(check_alphas(self.alphas), (len(l1_ratios), 1))
        else:
            if np.any(l1_ratios == 0):
                raise ValueError(AUTOMATIC_GRID_NEEDS_L1)
            design, targets = linear_design(
                X, y.reshape(-1, 1), sample_weight, self.fit_intercept
            )
            grids = np.array(
                [
                    alpha_grid(design, targets, r, self.eps, self.alphas, self.positive)
                    for r in l1_ratios
                ]
            )
            del design, targets

        if _routing_enabled():
            routed = process_routing(self, "fit", **params)
        else:
            routed = Bunch(splitter=Bunch(split={}))
        if sp.issparse(X):
            X = X.tocsr()  # row subsets for the folds
        folds = list(check_cv(self.cv).split(X, y, **routed.splitter.split))
        y_unit = power_of_two(np.abs(y).max(initial=0.0))
        with warnings.catch_warnings():
            # Paths on folds do not warn: only the refit's convergence counts.
            warnings.simplefilter("ignore", ConvergenceWarning)
            mse = Parallel(n_jobs=self.n_jobs, verbose=self.verbose, prefer="threads")(
                delayed(_fold_mse)(
                    X, y, sample_weight, train, test, self.fit_intercept, grids,
                    l1_ratios, self.positive, self.max_iter, self.tol, y_unit,
                )
                for train, test in folds
            )
        # (n_folds, n_l1_ratio, n_alphas) -> (n_l1_ratio, n_folds, n_alphas)
        mse = np.moveaxis(np.asarray(mse), 0, 1)
        mean_mse = mse.mean(axis=1)
        i_ratio, i_alpha = np.unravel_index(np.argmin(mean_mse), mean_mse.shape)

        self.l1_ratio_ = float(l1_ratios[i_ratio])
        self.alpha_ = float(grids[i_ratio, i_alpha])
        with np.errstate(over="ignore"):
            mse_path = np.squeeze(np.moveaxis(mse, 2, 1)) * np.float64(y_unit) ** 2
        if not np.all(np.isfinite(mse_path)):
            raise ValueError(
                "The cross-validation errors overflow float64: |y| reaches "
                f"{np.abs(y).max():.3g}, whose square is not representable. "
                "Scale y down (the fit is equivariant to it)."
            )
        self.mse_path_ = mse_path
        self.alphas_ = grids[0] if explicit else np.squeeze(grids)
        model = RegularizedGDRegressor(
            "elasticnet",
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

    def _l1_ratios(self):
        if self.penalty == "l1":
            return np.array([1.0])
        l1_ratios = np.atleast_1d(np.asarray(self.l1_ratio, dtype=np.float64)).ravel()
        if (
            l1_ratios.size == 0
            or not np.all(np.isfinite(l1_ratios))
            or np.any(l1_ratios < 0)
            or np.any(l1_ratios > 1)
        ):
            raise ValueError(
                f"l1_ratio must hold numbers in [0, 1]; got {self.l1_ratio!r}."
            )
        return l1_ratios

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
        return linear_predict(X, self.coef_, self.intercept_)

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        Returns
        -------
        routing : MetadataRouter
            A :class:`~sklearn.utils.metadata_routing.MetadataRouter`
            encapsulating routing information: ``groups`` and other split
            parameters go to the splitter.
        """
        return (
            MetadataRouter(owner=self.__class__.__name__)
            .add_self_request(self)
            .add(
                splitter=check_cv(self.cv),
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
