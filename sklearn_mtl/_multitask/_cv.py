"""Cross-validated ``alpha`` and ``n_components`` for the shared-rep models.

In the manner of :class:`~sklearn.linear_model.ElasticNetCV`: on each fold
the problem is prepared once (its statistics or eigendecomposition serve the
whole path), each ``n_components`` runs down a decreasing grid of alphas,
every solve warm-started from the previous one, and each model is scored on
the held-out part. The best pair on the mean score is refitted on all data.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    column_or_1d,
    validate_data,
)

from .._validation import (
    as_float_targets,
    check_n_components,
    missing_mask,
    rescaled_sample_weight,
)
from ._base import warn_not_converged
from ._classifier import MultiTaskSharedRepClassifier
from ._regressor import MultiTaskSharedRepRegressor, prepare_problem, solve_problem


def alpha_grid(alpha_max, eps, n_alphas):
    """``n_alphas`` alphas from ``alpha_max`` down to ``eps * alpha_max``."""
    if not alpha_max > 0:
        alpha_max = 1.0  # every alpha zeroes a model of constant targets
    return np.geomspace(alpha_max, alpha_max * eps, num=n_alphas)


def checked_alphas(alphas):
    """Explicit alphas as a decreasing array of positive finite numbers."""
    alphas = np.asarray(alphas, dtype=np.float64).ravel()
    if alphas.size == 0 or not np.all(np.isfinite(alphas)) or np.any(alphas <= 0):
        raise ValueError(
            f"alphas must hold positive finite numbers; got {alphas.tolist()!r}."
        )
    return np.sort(alphas)[::-1]


def checked_components(n_components, upper, what):
    """The values of ``k`` to try: an int, a list of ints, or None (the largest)."""
    values = [n_components] if np.ndim(n_components) == 0 else list(n_components)
    if not values:
        raise ValueError("n_components must hold at least one value.")
    checked = []
    for value in values:
        if value is not None and not isinstance(value, Integral | np.integer):
            raise ValueError(f"n_components must hold integers or None; got {value!r}.")
        checked.append(check_n_components(value, upper, what))
    return sorted(set(checked))


class SharedRepCVMixin:
    """Grid, folds, scores and refit; the estimator supplies the path.

    Subclasses implement ``_stratify(Y, single_task)``, ``_validate_fit_data(X, y)`` (returning the
    validated arrays and whether y holds a single task), ``_upper_rank(X,
    Y)`` (the largest useful ``k`` and what bounds it), ``_prepare(X, Y, sw,
    ks)``, ``_alpha_max(problem)``, ``_fold_models(problem, alphas, ks,
    template)`` (fitted models along the path, ``(k, alpha)`` order) and
    ``_refit(problem, alpha, k)``.
    """

    _cv_parameter_constraints: dict = {
        "alphas": ["array-like", None],
        "n_alphas": [Interval(Integral, 1, None, closed="left")],
        "eps": [Interval(Real, 0, 1, closed="neither")],
        "n_components": [Interval(Integral, 1, None, closed="left"), "array-like", None],
        "l1_ratio": [Interval(Real, 0, 1, closed="left")],
        "fit_intercept": ["boolean"],
        "task_weight": [None, StrOptions({"balanced"}), "array-like"],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "n_jobs": [Integral, None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Choose ``alpha`` and ``n_components`` by cross-validation, then refit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets; missing entries as in the estimator this CV tunes.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, used in every fit (not in the scores).
        **params : dict
            Parameters routed to the splitter (e.g. ``groups``), with metadata
            routing enabled.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        _raise_for_params(params, self, "fit")
        X, Y, single_task = self._validate_fit_data(X, y)
        sw = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        upper, what = self._upper_rank(X, Y)
        ks = checked_components(self.n_components, upper, what)
        problem = self._prepare(X, Y, sw, ks, single_task)
        if self.alphas is None:
            alphas = alpha_grid(self._alpha_max(problem), self.eps, self.n_alphas)
        else:
            alphas = checked_alphas(self.alphas)

        routed = (
            process_routing(self, "fit", **params)
            if _routing_enabled()
            else Bunch(splitter=Bunch(split={}))
        )
        stratify = self._stratify(Y, single_task)
        cv = check_cv(self.cv, Y.ravel() if single_task else None, classifier=stratify)
        folds = list(cv.split(X, Y.ravel() if stratify else None, **routed.splitter.split))
        scorer = check_scoring(self, scoring=self.scoring)
        scores = Parallel(n_jobs=self.n_jobs, verbose=self.verbose, prefer="threads")(
            delayed(self._fold_scores)(
                X, Y, sw, train, test, alphas, ks, single_task, scorer
            )
            for train, test in folds
        )
        # (n_folds, n_k, n_alphas) -> (n_k, n_alphas, n_folds)
        self.score_path_ = np.moveaxis(np.asarray(scores), 0, -1)
        mean = self.score_path_.mean(axis=-1)
        if not np.any(np.isfinite(mean)):
            raise ValueError(
                "No candidate could be scored on the held-out parts: every task "
                "lacks observed targets there. Use fewer folds."
            )
        i_k, i_alpha = np.unravel_index(np.nanargmax(mean), mean.shape)
        self.alphas_ = alphas
        self.n_components_grid_ = np.asarray(ks)
        self.alpha_ = float(alphas[i_alpha])
        self.n_components_ = int(ks[i_k])
        self._refit(problem, self.alpha_, self.n_components_, X, single_task)
        return self

    def _fold_scores(self, X, Y, sw, train, test, alphas, ks, single_task, scorer):
        """Scores ``(n_k, n_alphas)`` of the path fitted on ``train``."""
        try:
            problem = self._prepare(X[train], Y[train], sw[train], ks, single_task)
        except ValueError as error:
            raise ValueError(
                f"A cross-validation fold cannot be fitted: {error} Tasks observed "
                "on their own rows need a splitter that gives every task training "
                "rows, e.g. cv=KFold(5, shuffle=True) or one stratified by task."
            ) from error
        Y_test = Y[test].ravel() if single_task else Y[test]
        out = np.full((len(ks), len(alphas)), np.nan)
        for (i, j), model in self._fold_models(problem, alphas, ks, X, single_task):
            out[i, j] = scorer(model, X[test], Y_test)
        return out

    def _fitted_like(self, n_features):
        """A fresh model of the tuned estimator's class, as fitted on ``X``."""
        model = self._estimator_class()
        model.n_features_in_ = n_features
        if hasattr(self, "feature_names_in_"):
            model.feature_names_in_ = self.feature_names_in_
        return model

    def _rng(self):
        return check_random_state(self.random_state)

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        Returns
        -------
        routing : MetadataRouter
            ``groups`` and other split parameters go to the splitter.
        """
        return (
            MetadataRouter(owner=self.__class__.__name__)
            .add_self_request(self)
            .add(
                splitter=check_cv(self.cv),
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
        )


class MultiTaskSharedRepRegressorCV(SharedRepCVMixin, MultiTaskSharedRepRegressor):
    """:class:`MultiTaskSharedRepRegressor` with ``alpha`` and ``n_components``
    chosen by cross-validation.

    For each fold, the problem is prepared once (per-task statistics or the
    Gram eigendecomposition, whichever the fit would use), then for each
    ``n_components`` the fits run down the grid of alphas, each warm-started
    from the previous one, and are scored on the held-out rows (by default
    the mean over tasks of each task's :math:`R^2` on its observed entries).
    The pair with the best mean score over the folds is refitted on all the
    data. Parameters follow :class:`~sklearn.linear_model.ElasticNetCV`.

    Parameters
    ----------
    alphas : array-like, default=None
        The alphas to try (positive). None: ``n_alphas`` values from the
        smallest alpha whose solution is zero (``alpha_max``, the spectral
        norm of the loss gradient at zero over ``1 - l1_ratio``) down to
        ``eps * alpha_max``.
    n_alphas : int, default=10
        Number of alphas of the automatic grid.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the automatic grid.
    n_components : int, array-like of int or None, default=None
        The values of ``k`` to try, as ``l1_ratio`` in ElasticNetCV; None is
        ``min(n_features, n_tasks)``.
    l1_ratio : float, default=0.0
        As in :class:`MultiTaskSharedRepRegressor`.
    fit_intercept : bool, default=True
        Whether to fit an intercept per task.
    task_weight : {"balanced"} or array-like of shape (n_tasks,), default=None
        As in :class:`MultiTaskSharedRepRegressor`.
    cv : int, cross-validation generator or iterable, default=None
        As :func:`~sklearn.model_selection.check_cv`: None is 5-fold.
    scoring : str or callable, default=None
        A scikit-learn scorer; None is :meth:`score`, the mean per-task
        :math:`R^2` on the observed entries.
    n_jobs : int, default=None
        Threads over the folds.
    max_iter : int, default=1000
        Maximum iterations of each fit.
    tol : float, default=1e-4
        Tolerance of each fit.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial directions the ridge start does not span.
    verbose : int, default=0
        Verbosity of the joblib loop.

    Attributes
    ----------
    alpha_ : float
        The chosen alpha.
    n_components_ : int
        The chosen number of components.
    alphas_ : ndarray of shape (n_alphas,)
        The grid of alphas, decreasing.
    n_components_grid_ : ndarray of shape (n_k,)
        The values of ``k`` tried, increasing.
    score_path_ : ndarray of shape (n_k, n_alphas, n_folds)
        Held-out score of each candidate on each fold.
    coef_, intercept_, components_, heads_, n_iter_
        Of the model refitted on all data, as in
        :class:`MultiTaskSharedRepRegressor`.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``, when they are all strings.

    See Also
    --------
    MultiTaskSharedRepRegressor : The model tuned here.
    sklearn.linear_model.ElasticNetCV : The same search for one task.

    Examples
    --------
    >>> from sklearn_mtl import MultiTaskSharedRepRegressorCV
    >>> from sklearn_mtl.datasets import make_low_rank_tasks
    >>> X, X_test, Y, Y_test = make_low_rank_tasks(
    ...     n_samples=60, n_features=30, n_tasks=10, rank=2, noise=0.1,
    ...     missing_fraction=0.3, random_state=0)
    >>> reg = MultiTaskSharedRepRegressorCV(n_components=[1, 2, 4], cv=3,
    ...                                     random_state=0).fit(X, Y)
    >>> reg.score_path_.shape
    (3, 10, 3)
    >>> bool(reg.score(X_test, Y_test) > 0.8)
    True
    """

    _parameter_constraints: dict = dict(SharedRepCVMixin._cv_parameter_constraints)
    _estimator_class = MultiTaskSharedRepRegressor

    def __init__(
        self,
        *,
        alphas=None,
        n_alphas=10,
        eps=1e-3,
        n_components=None,
        l1_ratio=0.0,
        fit_intercept=True,
        task_weight=None,
        cv=None,
        scoring=None,
        n_jobs=None,
        max_iter=1000,
        tol=1e-4,
        random_state=None,
        verbose=0,
    ):
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.eps = eps
        self.n_components = n_components
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose

    def _stratify(self, Y, single_task):
        return False

    def _validate_fit_data(self, X, y):
        X, y = validate_data(
            self,
            X,
            as_float_targets(y),
            validate_separately=(
                dict(accept_sparse=("csr", "csc"), dtype=[np.float64, np.float32]),
                dict(ensure_2d=False, dtype=np.float64, ensure_all_finite="allow-nan"),
            ),
        )
        check_consistent_length(X, y)
        if sp.issparse(X):
            X = X.tocsr()  # row subsets for the folds
        single_task = y.ndim == 1
        return X, (y.reshape(-1, 1) if single_task else y), single_task

    def _upper_rank(self, X, Y):
        return min(X.shape[1], Y.shape[1]), "min(n_features, n_tasks)"

    def _prepare(self, X, Y, sw, ks, single_task):
        return prepare_problem(
            X, Y, rescaled_sample_weight(sw, X), self.task_weight,
            self.fit_intercept, self.l1_ratio > 0, ks, single_task,
        )

    def _alpha_max(self, problem):
        return problem.alpha_max(self.l1_ratio)

    def _fold_models(self, problem, alphas, ks, X, single_task):
        rng = self._rng()
        for i, k in enumerate(ks):
            U = None
            for j, alpha in enumerate(alphas):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    U, V, n_iter, _, _ = solve_problem(
                        problem, alpha, self.l1_ratio, k, U, rng, self.max_iter,
                        self.tol, False, fresh_if_better=True,
                    )
                model = self._fitted_like(X.shape[1])
                model._set_fitted(problem, U, V, n_iter, single_task, X.dtype)
                yield (i, j), model

    def _refit(self, problem, alpha, k, X, single_task):
        U, V, n_iter, measure, status = solve_problem(
            problem, alpha, self.l1_ratio, k, None, self._rng(), self.max_iter,
            self.tol, self.verbose,
        )
        warn_not_converged(self, status, measure, self.tol, n_iter, "relative stationarity")
        self._set_fitted(problem, U, V, n_iter, single_task, X.dtype)


class MultiTaskSharedRepClassifierCV(SharedRepCVMixin, MultiTaskSharedRepClassifier):
    """:class:`MultiTaskSharedRepClassifier` with ``alpha`` and ``n_components``
    chosen by cross-validation.

    For each fold, the labels, weights and centred design are prepared once;
    for each ``n_components`` the fits run down the grid of alphas, each
    warm-started from the previous one, and are scored on the held-out rows
    (by default the mean over tasks of each task's accuracy on its observed
    labels; :func:`sklearn_mtl.metrics.make_task_scorer` gives per-task
    averages of any metric, e.g. the ROC AUC). The pair with the best mean
    score is refitted on all the data.

    Parameters
    ----------
    alphas : array-like, default=None
        The alphas to try (positive). None: ``n_alphas`` values from the
        smallest alpha whose solution has ``W = 0`` (``alpha_max``, the
        spectral norm of the loss gradient there over ``1 - l1_ratio``) down
        to ``eps * alpha_max``.
    n_alphas : int, default=10
        Number of alphas of the automatic grid.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the automatic grid.
    n_components : int, array-like of int or None, default=None
        The values of ``k`` to try; None is ``min(n_features, n_columns)``.
    l1_ratio : float, default=0.0
        As in :class:`MultiTaskSharedRepClassifier`.
    fit_intercept : bool, default=True
        Whether to fit the intercepts.
    solver : {"auto", "lbfgs", "fista"}, default="auto"
        As in :class:`MultiTaskSharedRepClassifier`.
    class_weight : dict, list, "balanced" or None, default=None
        As in :class:`MultiTaskSharedRepClassifier`.
    task_weight : {"balanced"} or array-like of shape (n_tasks,), default=None
        As in :class:`MultiTaskSharedRepClassifier`.
    intercept_shrinkage : float, default=0.01
        As in :class:`MultiTaskSharedRepClassifier`.
    cv : int, cross-validation generator or iterable, default=None
        As :func:`~sklearn.model_selection.check_cv` (stratified for a single
        task without missing labels); None is 5-fold.
    scoring : str or callable, default=None
        A scikit-learn scorer; None is :meth:`score`.
    n_jobs : int, default=None
        Threads over the folds.
    max_iter : int, default=500
        Maximum iterations of each fit.
    tol : float, default=1e-4
        Tolerance of each fit.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial directions the starting point does not span.
    verbose : int, default=0
        Verbosity of the joblib loop.

    Attributes
    ----------
    alpha_ : float
        The chosen alpha.
    n_components_ : int
        The chosen number of components.
    alphas_ : ndarray of shape (n_alphas,)
        The grid of alphas, decreasing.
    n_components_grid_ : ndarray of shape (n_k,)
        The values of ``k`` tried, increasing.
    score_path_ : ndarray of shape (n_k, n_alphas, n_folds)
        Held-out score of each candidate on each fold.
    classes_, coef_, intercept_, components_, n_iter_
        Of the model refitted on all data, as in
        :class:`MultiTaskSharedRepClassifier`.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``, when they are all strings.

    See Also
    --------
    MultiTaskSharedRepClassifier : The model tuned here.
    sklearn.linear_model.LogisticRegressionCV : The same search for one task.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import KFold
    >>> from sklearn_mtl import MultiTaskSharedRepClassifierCV
    >>> from sklearn_mtl.datasets import make_low_rank_classification_tasks
    >>> X, X_test, Y, Y_test = make_low_rank_classification_tasks(
    ...     n_samples=60, n_features=20, n_tasks=8, rank=2, random_state=0)
    >>> clf = MultiTaskSharedRepClassifierCV(
    ...     n_components=[1, 2], n_alphas=5, cv=KFold(3, shuffle=True, random_state=0),
    ...     random_state=0).fit(X, Y)
    >>> clf.score_path_.shape
    (2, 5, 3)
    >>> bool(clf.score(X_test, Y_test) > 0.7)
    True
    """

    _parameter_constraints: dict = {
        **SharedRepCVMixin._cv_parameter_constraints,
        "solver": [StrOptions({"auto", "lbfgs", "fista"})],
        "class_weight": [dict, list, StrOptions({"balanced"}), None],
        "intercept_shrinkage": [Interval(Real, 0, None, closed="left")],
    }
    _estimator_class = MultiTaskSharedRepClassifier

    def __init__(
        self,
        *,
        alphas=None,
        n_alphas=10,
        eps=1e-3,
        n_components=None,
        l1_ratio=0.0,
        fit_intercept=True,
        solver="auto",
        class_weight=None,
        task_weight=None,
        intercept_shrinkage=0.01,
        cv=None,
        scoring=None,
        n_jobs=None,
        max_iter=500,
        tol=1e-4,
        random_state=None,
        verbose=0,
    ):
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.eps = eps
        self.n_components = n_components
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.class_weight = class_weight
        self.task_weight = task_weight
        self.intercept_shrinkage = intercept_shrinkage
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose

    def _stratify(self, Y, single_task):
        # One task without missing labels: stratified folds, as sklearn's
        # classifiers get; otherwise plain folds (NaN labels cannot be
        # stratified, and several tasks have no single label to keep).
        return single_task and not missing_mask(Y).any()

    def _model_params(self):
        return dict(
            l1_ratio=self.l1_ratio, fit_intercept=self.fit_intercept,
            solver=self.solver, class_weight=self.class_weight,
            task_weight=self.task_weight,
            intercept_shrinkage=self.intercept_shrinkage, max_iter=self.max_iter,
            tol=self.tol,
        )

    def _validate_fit_data(self, X, y):
        X, y = validate_data(
            self,
            X,
            y,
            validate_separately=(
                dict(accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32]),
                dict(ensure_2d=False, dtype=None, ensure_all_finite=False),
            ),
        )
        check_consistent_length(X, y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if sp.issparse(X):
            X = X.tocsr()  # row subsets for the folds
        single_task = y.ndim == 1
        return X, (y.reshape(-1, 1) if single_task else y), single_task

    def _upper_rank(self, X, Y):
        # Columns of the heads: one per binary task, one per class otherwise.
        n_columns = 0
        for t in range(Y.shape[1]):
            labels = Y[~missing_mask(Y[:, t]), t]
            n_class = len(np.unique(labels.astype(str) if labels.dtype.kind == "O" else labels))
            n_columns += 1 if n_class <= 2 else n_class
        return min(X.shape[1], n_columns), "min(n_features, n_columns)"

    def _prepare(self, X, Y, sw, ks, single_task):
        return MultiTaskSharedRepClassifier._prepare(self, X, Y, sw, single_task)

    def _alpha_max(self, problem):
        return MultiTaskSharedRepClassifier._alpha_max(self, problem)

    def _fold_models(self, problem, alphas, ks, X, single_task):
        rng = self._rng()
        for i, k in enumerate(ks):
            x = None
            for j, alpha in enumerate(alphas):
                objective = self._objective(problem, k, alpha)
                x0 = self._initial_point(objective, problem, rng)
                warm = None if x is None else self.revived_point(
                    objective, *objective.unpack(x), rng
                )
                if warm is not None:
                    # The previous alpha's solution, unless the fresh start is
                    # already better (with fewer components than the path
                    # needs, the warm start can lead to a worse local optimum).
                    value = self._objective_value
                    if value(objective, warm, problem, alpha) <= value(
                        objective, x0, problem, alpha
                    ):
                        x0 = warm
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    x, n_iter, _, _ = self._solve(objective, x0, problem, alpha)
                model = self._fitted_like(X.shape[1])
                model.set_params(**self._model_params(), alpha=alpha, n_components=k)
                model._store_solution(problem, objective, x, n_iter, single_task, X.dtype)
                yield (i, j), model

    def _objective_value(self, objective, x, problem, alpha):
        alpha1 = self._penalties(problem, alpha)[0]
        return objective.value_and_grad(x)[0] + alpha1 * np.abs(x[: objective.n_U]).sum()

    def _refit(self, problem, alpha, k, X, single_task):
        objective = self._objective(problem, k, alpha)
        x0 = self._initial_point(objective, problem, self._rng())
        x, n_iter, measure, status = self._solve(objective, x0, problem, alpha)
        warn_not_converged(self, status, measure, self.tol, n_iter, self._measure_name())
        self._store_solution(problem, objective, x, n_iter, single_task, X.dtype)
