"""Many classification tasks that share one low-rank linear representation."""

import functools
from numbers import Real

import numpy as np
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot, svd_flip
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from .._datafits.cross_entropy import CrossEntropyHeads
from .._design import make_design
from .._penalties import enet_prox
from .._solvers.cg import conjugate_gradient
from .._solvers.fista import fista
from .._solvers.lbfgs import lbfgs
from .._validation import in_data_dtype, missing_mask, rescaled_sample_weight
from ._base import BaseSharedRep, revive_columns, task_weights, warn_not_converged

# Components whose singular value is below this fraction of the largest one are
# numerically zero at the optimum; they are set exactly to zero after fitting.
_ZERO_COMPONENT_RTOL = 1e-8
# Relative size of the random columns that seed components the initial
# gradient does not determine (rank deficiency, or n_components above its rank).
_SEED_SCALE = 1e-2
# Newton-CG steps that may polish an L-BFGS solution stalled at rounding level,
# and the conjugate-gradient products each may take.
_NEWTON_STEPS = 8
_NEWTON_CG_ITER = 100
# Problems with at most this many unknowns are polished down to
# tol * _POLISH_FACTOR after L-BFGS.
_POLISH_MAX_SIZE = 5000
# alpha (relative to the largest feature's mean square) is at least this.
_ALPHA_FLOOR = 1e-12
_POLISH_FACTOR = 1e-6


def _as_labels(labels, where):
    """Observed labels of one task as an array ``np.unique`` can sort.

    Object arrays of numbers become numeric arrays (so that ``type_of_target``
    can tell discrete from continuous labels); object arrays of strings stay
    object arrays; a mix of both is an error.
    """
    if labels.dtype.kind != "O":
        return labels
    is_str = np.fromiter((isinstance(v, str) for v in labels), bool, len(labels))
    if is_str.all():
        return labels
    if is_str.any():
        raise ValueError(
            f"The labels of {where} mix strings and numbers; use one label type "
            "per task."
        )
    return np.asarray(labels.tolist())


def _balanced_factors(U, V):
    """Rewrite ``W = U @ V`` as ``P sqrt(s)``, ``sqrt(s) Q.T`` with ``s`` sorted.

    The balanced factorisation is the one of least penalty
    ``(||U||^2 + ||V||^2) / 2 = ||W||_*`` among all factorisations of ``W``,
    and it is unique up to the signs (fixed as in ``svd_flip``) of components
    with distinct singular values. Components below ``_ZERO_COMPONENT_RTOL``
    times the largest singular value are set to zero.
    """
    k = U.shape[1]
    Qu, Ru = np.linalg.qr(U)
    Qv, Rv = np.linalg.qr(V.T)
    A, s, Bt = np.linalg.svd(Ru @ Rv.T, full_matrices=False)
    P, Qt = svd_flip(Qu @ A, (Qv @ Bt.T).T, u_based_decision=True)
    if s.size and s[0] > 0:
        s = np.where(s > _ZERO_COMPONENT_RTOL * s[0], s, 0.0)
    root = np.sqrt(s)
    r = s.shape[0]
    U_new = np.zeros_like(U)
    V_new = np.zeros_like(V)
    U_new[:, :r] = P * root
    V_new[:r] = root[:, None] * Qt
    return U_new[:, :k], V_new[:k]


def _damped_hessp(objective, x, damping, v):
    return objective.hessp(x, v) + damping * v


def _residual_below(threshold, p, r):
    return "converged" if np.linalg.norm(r) <= threshold else None


def _newton_polish(objective, x, grad, measure, tol, max_steps):
    """Newton-CG steps from ``x``, each kept only if it lowers the gradient.

    L-BFGS's line search compares objective values, which stop changing in
    floating point before the gradient is small; Newton steps need only
    gradients. Returns ``x, grad, measure, steps``.
    """
    steps = 0
    for _ in range(max_steps):
        norm = np.linalg.norm(grad)
        # Damping by ||grad|| keeps the convergence quadratic while making
        # the system definite along the symmetries of the factorisation
        # (rotations of U and V leave the objective unchanged).
        step, _, _ = conjugate_gradient(
            functools.partial(_damped_hessp, objective, x, norm),
            -grad,
            np.zeros_like(grad),
            min(objective.size, _NEWTON_CG_ITER),
            functools.partial(_residual_below, 1e-8 * norm),
        )
        if not np.any(step):
            break
        _, grad_new = objective.value_and_grad(x + step)
        measure_new = float(np.abs(grad_new).max())
        if not measure_new < measure:
            break
        x, grad, measure = x + step, grad_new, measure_new
        steps += 1
        if measure <= tol:
            break
    return x, grad, measure, steps


def _frequency_intercepts(objective, classes):
    """Intercepts at the weighted log class frequencies of each task (the
    optimum of a model without features, up to the pooling)."""
    offsets = objective.offsets
    b = np.zeros(objective.n_columns)
    if not objective.fit_intercept:
        return b
    for t, task_classes in enumerate(classes):
        hit = objective.tasks == t
        freq = np.bincount(
            objective.labels[hit], weights=objective.weights[hit],
            minlength=len(task_classes),
        )
        log_freq = np.log(freq / freq.sum() + 1e-8)
        if len(task_classes) == 2:
            b[offsets[t]] = log_freq[1] - log_freq[0]
        else:
            b[offsets[t] : offsets[t + 1]] = log_freq - log_freq.mean()
    return b


class MultiTaskSharedRepClassifier(ClassifierMixin, BaseSharedRep):
    r"""Classification tasks that share one low-rank linear representation.

    ``T`` classification tasks, each binary or multiclass with its own labels,
    are fitted on the same samples ``X``. They share the representation
    ``Z = X U`` with ``U`` of shape ``(n_features, n_components)``, and each
    task reads its own head from ``Z``: a logistic head (one score column)
    for a task with two classes, a softmax head (one column per class) for a
    task with more. Stacking the heads' columns into ``V`` of shape
    ``(n_components, n_columns)`` and the intercepts into ``b``, the scores
    are ``S = X U V + b`` and the estimator minimises

    .. math::

        \frac{1}{n} \sum_{(i, t)\ \mathrm{observed}} s_i c_{t, y_{it}}
        \, \mathrm{CE}_t(S_{i, t}, y_{it})
        + \frac{\alpha (1 - \rho)}{2} (\|U\|_F^2 + \|V\|_F^2)
        + \alpha \rho \|U\|_1

    where ``n`` is the number of samples, the sum runs over the observed
    labels only, ``CE_t`` is the cross-entropy of task ``t``'s head, ``s``
    are the sample weights rescaled to sum to ``n``, ``c_t`` the class weights
    of task ``t``, and ``rho = l1_ratio``. The intercepts are not penalised.

    With ``l1_ratio=0`` and ``n_components`` at least the rank of the
    solution, the minimum equals that of the convex trace-norm problem
    ``cross-entropy(W) + alpha * ||W||_*`` over ``W = U V``, so ``alpha``
    selects the rank of the shared representation. The default
    ``n_components=None`` uses the largest useful rank,
    ``min(n_features, n_columns)``, so that the fit always solves the convex
    problem.

    Parameters
    ----------
    n_components : int or None, default=None
        Dimension ``k`` of the shared representation. ``None`` means
        ``min(n_features, n_columns)``, where ``n_columns`` counts one column
        per binary task and one per class of each multiclass task.

    alpha : float, default=0.01
        Regularisation strength, positive (without a penalty the factors of
        ``W = U V`` have no minimiser: scaling ``U`` down and ``V`` up is free).

    l1_ratio : float in [0, 1), default=0.0
        Share ``rho`` of the penalty that is an L1 norm on ``U`` (sparse
        shared features). ``l1_ratio = 1`` is excluded: the objective would
        then have no minimiser, since scaling ``U`` down and ``V`` up drives
        the penalty to zero.

    fit_intercept : bool, default=True
        Whether to fit an unpenalised intercept per score column.

    solver : {"auto", "lbfgs", "fista"}, default="auto"
        ``"lbfgs"``: L-BFGS with an Armijo line search, orthant-wise (OWL-QN)
        on ``U`` when ``l1_ratio > 0``; with ``l1_ratio=0`` a few Newton-CG
        steps polish a solution that the line search can no longer improve in
        floating point. ``"fista"``: accelerated proximal gradient with
        backtracking and monotone restart, soft-thresholding ``U``. ``"auto"``
        is ``"lbfgs"``.

    max_iter : int, default=500
        Maximum number of iterations of the solver.

    tol : float, default=1e-4
        Stopping tolerance: the solver stops when the largest absolute entry of
        the (pseudo-)gradient of the objective in ``(U, V, b)`` (for
        ``"fista"``: of the proximal gradient mapping) is at most ``tol``. A
        :class:`~sklearn.exceptions.ConvergenceWarning` says why when it ends
        above (``max_iter`` reached, no step lowers the objective in floating
        point, or a non-finite value).

    class_weight : dict, list, "balanced" or None, default=None
        Weights of the classes. ``None``: all one. ``"balanced"``: per task,
        ``n_observed / (n_classes * weighted_class_count)`` computed over the
        task's observed labels (with sample weights). A dict ``{label:
        weight}`` applies to a single task; for several tasks pass a list
        with one entry (dict, ``"balanced"`` or ``None``) per task. Class
        weights multiply the rescaled sample weights and are not rescaled
        themselves (as in :class:`~sklearn.linear_model.LogisticRegression`),
        so multiplying all of them by ``c`` acts like dividing ``alpha`` by
        ``c``.

    task_weight : {"balanced"} or array-like of shape (n_tasks,), default=None
        Weight of each task in the loss, as in
        :class:`MultiTaskSharedRepRegressor`: None counts every observed label
        the same, "balanced" makes every task count the same whatever its
        number of labels, an array gives positive weights (rescaled so that the
        labels' total weight is unchanged).

    intercept_shrinkage : float, default=0.01
        Strength with which the intercepts of tasks that share a label set are
        pulled toward their common centre (see Notes). 0 leaves them free; then a task whose
        training labels hold a single class is an error, since its intercept
        has no finite optimum.

    warm_start : bool, default=False
        When True, reuse the solution of the previous call to ``fit`` as the
        initialisation. The tasks, their classes, the number of features and
        ``n_components`` must be unchanged.

    random_state : int, RandomState instance or None, default=None
        Seeds the small random columns that start components the initial
        gradient leaves undetermined. The fit is deterministic for a given
        ``random_state``. See :term:`Glossary <random_state>`.

    verbose : int, default=0
        If positive, print the objective and the convergence measure at every
        iteration.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,) or list of such arrays
        Labels of each task: an array for a single task (1-D ``y``), a list
        with one array per task otherwise.

    components_ : ndarray of shape (n_components, n_features)
        The shared representation ``U.T``. With ``l1_ratio=0`` the components
        are the balanced factors of ``W = U V`` (``components_[j]`` has squared
        norm the ``j``-th singular value of ``W``), sorted by decreasing
        singular value, so ``transform`` orders features by importance.

    coef_ : ndarray of shape (n_heads, n_features) or list of such arrays
        Coefficients ``(U V_t).T`` of each task, as
        :class:`~sklearn.linear_model.LogisticRegression` stores them:
        ``(1, n_features)`` for a binary task (scores of its second class),
        ``(n_classes, n_features)`` for a multiclass task. An array for a
        single task, a list with one array per task otherwise.

    intercept_ : ndarray of shape (n_heads,) or list of such arrays
        Intercepts of each task, shaped like ``coef_``.

    n_iter_ : int
        Number of solver iterations run by the last ``fit``.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.multioutput.MultiOutputClassifier : One independent classifier per
        task.
    sklearn.linear_model.LogisticRegression : A single task.

    Notes
    -----
    **Targets.** ``y`` is 1-D for a single task or of shape
    ``(n_samples, n_tasks)``. A label that was not observed is NaN in a float
    label matrix or None (or NaN) in an object one; it contributes nothing to
    the objective, and each task may be observed on different samples. Labels
    may be strings. A column vector ``y`` of shape ``(n_samples, 1)`` is
    raveled with a ``DataConversionWarning``, as scikit-learn's single-output
    classifiers do. The estimator does not advertise the ``multi_output`` tag
    because scikit-learn's common checks require multi-output classifiers to
    return a single ``(n_samples, n_tasks)`` probability array, which cannot
    hold tasks with different numbers of classes.

    **Model selection with missing labels.** Pass an explicit splitter such as
    ``cv=KFold(5)`` to :class:`~sklearn.model_selection.GridSearchCV`: for a
    classifier, an integer ``cv`` asks ``type_of_target`` whether to stratify,
    and it rejects NaN labels. The default scorer is :meth:`score`, the mean
    per-task accuracy on the observed labels.

    **Rare classes.** A task that sees a single class among its training
    labels (a shuffled fold of a task with rare positives, say) still fits:
    its classes are then the labels of all the tasks, and its intercept is
    pulled toward the other tasks'. The objective has the term
    ``intercept_shrinkage / (2 T) * sum_t ||b_t - bbar||^2`` over the tasks
    that share a label set, with ``bbar`` their mean intercept (free): a
    prior on the tasks' base rates, partial pooling as in hierarchical
    models. The pooled ``b_t`` are the intercepts at the mean of ``X``
    under the weight each row carries in the loss (so a shift of ``X``
    changes the reported intercepts only, and a ``task_weight`` and the
    equivalent sample weights give the same model). Its strength is that of
    an average task's data times
    ``intercept_shrinkage``, so a task with few labels borrows its base rate
    from the others and a task with many keeps its own; a single task is left
    unchanged. ``predict_proba`` then has a column for every label, so
    per-task metrics such as the ROC AUC work on every fold. A task with no
    observed label at all is an error.

    **Solver.** The initial point is the best rank-``k`` step along the
    gradient at ``U = V = 0`` (intercepts at the weighted log class
    frequencies): its leading singular vectors, balanced between ``U`` and
    ``V`` and scaled by a curvature estimate. After an ``l1_ratio=0`` fit the
    factors are rewritten in balanced form (see ``components_``), which
    leaves ``W`` and the objective unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl import MultiTaskSharedRepClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.standard_normal((60, 5))
    >>> direction = X @ rng.standard_normal(5)
    >>> Y = np.column_stack([direction > 0, direction > 1, direction < -1])
    >>> Y = Y.astype(float)
    >>> Y[:10, 1] = np.nan  # labels missing for the second task
    >>> clf = MultiTaskSharedRepClassifier(n_components=1, random_state=0)
    >>> clf.fit(X, Y).predict(X[:2])
    array([[0., 0., 1.],
           [1., 1., 0.]])
    >>> clf.transform(X).shape
    (60, 1)
    >>> round(clf.score(X, Y), 2)
    0.98
    """

    _parameter_constraints: dict = {
        **BaseSharedRep._parameter_constraints,
        "solver": [StrOptions({"auto", "lbfgs", "fista"})],
        "class_weight": [dict, list, StrOptions({"balanced"}), None],
        "task_weight": [None, StrOptions({"balanced"}), "array-like"],
        "intercept_shrinkage": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_components=None,
        *,
        alpha=0.01,
        l1_ratio=0.0,
        fit_intercept=True,
        solver="auto",
        max_iter=500,
        tol=1e-4,
        class_weight=None,
        task_weight=None,
        intercept_shrinkage=0.01,
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            n_components,
            alpha=alpha,
            l1_ratio=l1_ratio,
            fit_intercept=fit_intercept,
            max_iter=max_iter,
            tol=tol,
            warm_start=warm_start,
            random_state=random_state,
            verbose=verbose,
        )
        self.solver = solver
        self.class_weight = class_weight
        self.task_weight = task_weight
        self.intercept_shrinkage = intercept_shrinkage

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the shared representation and the heads of all tasks.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse input (CSR or CSC) is used as is, never
            densified.

        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Labels; missing labels are NaN (float ``y``), None or pandas'
            ``NA`` (object ``y``).

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples, rescaled to sum to
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
            validate_separately=(
                dict(accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32]),
                dict(ensure_2d=False, dtype=None, ensure_all_finite=False),
            ),
        )
        check_consistent_length(X, y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        single_task = y.ndim == 1
        Y = y.reshape(-1, 1) if single_task else y
        problem = self._prepare(X, Y, sample_weight, single_task)
        k = self._n_components(
            X.shape[1], problem.n_columns, "min(n_features, n_columns)"
        )
        rng = check_random_state(self.random_state)
        objective = self._objective(problem, k, self.alpha)
        x0 = self._initial_point(objective, problem, rng)
        x, n_iter, measure, status = self._solve(objective, x0, problem, self.alpha)
        warn_not_converged(self, status, measure, self.tol, n_iter, self._measure_name())
        self._store_solution(problem, objective, x, n_iter, single_task, X.dtype)
        return self

    def _prepare(self, X, Y, sample_weight, single_task):
        """Labels, weights and the centred design: all but alpha and ``k``.

        X is centred around its weighted means (a shift of X then changes the
        intercepts only) and, near the limits of floating point, divided by a
        power of two: with ``X = x_scale X'``, ``U = U' / sqrt(x_scale)`` and
        ``V = V' / sqrt(x_scale)``, the problem in the primed variables has
        ``alpha2 / x_scale`` and ``alpha1 / sqrt(x_scale)``.
        """
        n_samples = X.shape[0]
        classes, Y_enc, observed = self._encode(Y, single_task)
        n_heads = np.array([1 if len(c) == 2 else len(c) for c in classes])
        offsets = np.zeros(len(classes) + 1, dtype=np.int64)
        np.cumsum(n_heads, out=offsets[1:])
        sample_weight = rescaled_sample_weight(sample_weight, X)
        label_weight = self._label_weights(
            Y_enc, observed, classes, sample_weight, single_task
        )
        rows, tasks = np.nonzero(observed)
        c = task_weights(self.task_weight, label_weight.sum(axis=0))
        weights = label_weight[rows, tasks] * c[tasks] / n_samples
        groups = {}
        for t, task_classes in enumerate(classes):
            groups.setdefault(tuple(task_classes.tolist()), []).append(t)
        # X is centred on the means under the weight each row carries in the
        # loss: the intercepts' pooling then reads the same problem whether
        # tasks are weighted by task_weight or by the sample weights of their
        # rows (a task on its own rows).
        row_weight = np.bincount(rows, weights=weights, minlength=n_samples)
        row_weight *= n_samples / row_weight.sum()
        design = make_design(
            X, row_weight, np.ones(n_samples), self.fit_intercept, any_layout=True
        )
        return Bunch(
            classes=classes,
            offsets=offsets,
            n_columns=int(offsets[-1]),
            design=design,
            observations=(
                rows.astype(np.int64),
                tasks.astype(np.int64),
                Y_enc[rows, tasks].astype(np.int64),
                weights,
            ),
            groups=[np.array(g) for g in groups.values()],
            root_scale=np.sqrt(design.x_scale),
            # Below rounding of the data's scale the penalty no longer fixes
            # the scale of the factors (U V is unchanged by U c, V / c).
            alpha_floor=_ALPHA_FLOOR * design.sq_norms.max(initial=0.0) / n_samples,
        )

    def _penalties(self, problem, alpha):
        """``(alpha1, alpha2)`` in the internal units."""
        alpha1 = alpha * self.l1_ratio / problem.root_scale
        alpha2 = alpha * (1.0 - self.l1_ratio) / problem.root_scale**2
        return alpha1, max(alpha2, problem.alpha_floor)

    def _objective(self, problem, k, alpha):
        return CrossEntropyHeads(
            problem.design,
            problem.observations,
            problem.offsets,
            k,
            self._penalties(problem, alpha)[1],
            self.fit_intercept,
            problem.groups,
            self.intercept_shrinkage,
        )

    def _alpha_max(self, problem):
        """The smallest alpha whose solution has ``W = 0`` (user units): the
        spectral norm of the loss gradient in ``W`` there, over ``1 - l1_ratio``."""
        objective = self._objective(problem, 1, 1.0)
        grad, _ = objective.loss_gradient_at(
            _frequency_intercepts(objective, problem.classes)
        )
        top = np.linalg.norm(grad, 2) if grad.size else 0.0
        return top * problem.root_scale**2 / max(1.0 - self.l1_ratio, 1e-12)

    def _measure_name(self):
        if self.solver == "fista":
            return "largest absolute entry of the proximal gradient mapping"
        return "largest absolute (pseudo-)gradient entry"

    def _solve(self, objective, x0, problem, alpha, polish_converged=True):
        alpha1 = self._penalties(problem, alpha)[0]
        if self.solver == "fista":
            return self._solve_fista(objective, x0, alpha1)
        return self._solve_lbfgs(objective, x0, alpha1, polish_converged)

    def _store_solution(self, problem, objective, x, n_iter, single_task, dtype):
        """Attributes of the solution ``x`` (internal units)."""
        offsets = problem.offsets
        U, V, b = objective.unpack(x)
        U, V = U / problem.root_scale, V / problem.root_scale
        b = b - problem.design.x_mean @ (U @ V)  # intercepts for X, not centred X
        for t in range(len(problem.classes)):
            # A softmax head's intercepts are defined up to a constant (its
            # loss ignores a common shift, and the pooling is at its best
            # when they sum to zero): fix the one that rounding chose.
            cols = slice(offsets[t], offsets[t + 1])
            if offsets[t + 1] - offsets[t] > 1:
                b[cols] -= b[cols].mean()
        if self.l1_ratio == 0:
            U, V = _balanced_factors(U, V)
        # Coefficients whose logits X W stay below 1e-7 do not change the
        # probabilities: losing them to float32's range does not matter.
        sq_norms = getattr(problem.design, "sq_norms", None)  # None out of core
        floor = 0.0
        if sq_norms is not None:
            x_rms = problem.root_scale**2 * np.sqrt(
                sq_norms.max(initial=0.0) / max(problem.design.n_samples, 1)
            )
            floor = 1e-7 / x_rms if x_rms > 0 else np.inf
        self._store(U, V, b, problem.classes, offsets, single_task, dtype, floor)
        self.n_iter_ = int(n_iter)

    @staticmethod
    def _task_name(t, single_task):
        return "y" if single_task else f"task {t} (column {t} of y)"

    def _encode(self, Y, single_task):
        """Classes of each task and labels encoded as indices (-1: missing).

        A task whose observed labels hold a single class takes the labels of
        all the tasks as its classes (see Notes); a single task cannot.
        """
        n_samples, n_tasks = Y.shape
        if n_tasks == 0:
            raise ValueError("y has no task (0 columns).")
        observed = ~missing_mask(Y)
        labels_of = []
        for t in range(n_tasks):
            where = self._task_name(t, single_task)
            if not observed[:, t].any():
                raise ValueError(
                    f"{where} has no observed label: every entry is missing. "
                    "Drop the task or provide labels."
                )
            labels = _as_labels(Y[observed[:, t], t], where)
            if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
                raise ValueError(
                    f"Input y contains infinity in {where}; labels must be "
                    "finite (NaN marks a missing label)."
                )
            kind = type_of_target(labels, input_name="y")
            if kind not in ("binary", "multiclass"):
                raise ValueError(
                    f"Unknown label type: {kind!r} in {where}. A classifier "
                    "needs discrete labels (integers or strings), not "
                    "continuous values."
                )
            labels_of.append(labels)
        classes = [np.unique(labels) for labels in labels_of]
        pooled = None
        Y_enc = np.full((n_samples, n_tasks), -1, dtype=np.int64)
        for t, labels in enumerate(labels_of):
            if len(classes[t]) < 2:
                if pooled is None:
                    try:
                        pooled = np.unique(np.concatenate(labels_of))
                    except TypeError:
                        pooled = classes[t]  # labels of different types
                if single_task or len(pooled) < 2 or self.intercept_shrinkage == 0:
                    raise ValueError(
                        f"{self._task_name(t, single_task)} has only one class "
                        f"({classes[t][0]!r}) among its observed labels; a "
                        "classifier needs samples of at least 2 classes"
                        + (
                            "" if single_task or len(pooled) < 2 else
                            " when intercept_shrinkage=0 (with a positive "
                            "intercept_shrinkage it borrows from the other tasks)"
                        )
                        + "."
                    )
                classes[t] = pooled
            Y_enc[observed[:, t], t] = np.searchsorted(classes[t], labels)
        return classes, Y_enc, observed

    def _class_weight_specs(self, n_tasks):
        class_weight = self.class_weight
        if class_weight is None or isinstance(class_weight, str):
            return [class_weight] * n_tasks
        if isinstance(class_weight, dict):
            if n_tasks == 1:
                return [class_weight]
            raise ValueError(
                f"class_weight is a single dict but y has {n_tasks} tasks; pass a "
                "list with one entry (dict, 'balanced' or None) per task."
            )
        if len(class_weight) != n_tasks:
            raise ValueError(
                f"class_weight has {len(class_weight)} entries but y has "
                f"{n_tasks} tasks."
            )
        for entry in class_weight:
            if not (entry is None or entry == "balanced" or isinstance(entry, dict)):
                raise ValueError(
                    "Each entry of class_weight must be a dict, 'balanced' or None; "
                    f"got {entry!r}."
                )
        return list(class_weight)

    def _label_weights(self, Y_enc, observed, classes, sample_weight, single_task):
        """Weight of each observed label: ``s_i c_t[y_it]`` (0 if missing)."""
        n_samples, n_tasks = Y_enc.shape
        specs = self._class_weight_specs(n_tasks)
        weights = np.zeros((n_samples, n_tasks))
        for t in range(n_tasks):
            where = self._task_name(t, single_task)
            mask = observed[:, t]
            enc = Y_enc[mask, t]
            task_classes = classes[t]
            sw = sample_weight[mask]
            if isinstance(specs[t], dict):
                class_w = np.ones(len(task_classes))
                for label, value in specs[t].items():
                    hit = np.flatnonzero(task_classes == label)
                    if hit.size == 0:
                        raise ValueError(
                            f"class_weight of {where} names the label {label!r}, "
                            f"which is not among its classes {task_classes.tolist()}."
                        )
                    class_w[hit] = value
            elif specs[t] == "balanced":
                # Over the classes present with positive weight, as sklearn's
                # "balanced"; absent classes have no label to weigh.
                per_class = np.bincount(enc, weights=sw, minlength=len(task_classes))
                present = per_class > 0
                class_w = np.zeros(len(task_classes))
                class_w[present] = sw.sum() / (present.sum() * per_class[present])
            else:
                class_w = np.ones(len(task_classes))
            class_w = np.asarray(class_w, dtype=np.float64)
            if not np.all(np.isfinite(class_w)) or np.any(class_w < 0):
                raise ValueError(
                    f"class_weight of {where} must hold finite non-negative "
                    f"weights; got {class_w.tolist()}."
                )
            w = sw * class_w[enc]
            weights[mask, t] = w
            if not w.sum() > 0:
                raise ValueError(
                    f"{where} has no observed label with positive weight."
                )
            weighted_classes = np.unique(enc[w > 0])
            if weighted_classes.size < 2 and (
                single_task or self.intercept_shrinkage == 0
            ):
                present = task_classes[weighted_classes[0]]
                raise ValueError(
                    f"{where} has only one class ({present!r}) among its observed "
                    "labels with positive weight; a classifier needs samples of at "
                    "least 2 classes."
                )
        return weights

    # ------------------------------------------------------- initialisation

    def _initial_point(self, objective, problem, rng):
        classes = problem.classes
        if getattr(self, "warm_start", False) and hasattr(self, "components_"):
            x0 = self._warm_start_point(objective, problem, rng)
            if x0 is not None:
                return x0
        n_features, k = objective.n_features, objective.n_components
        n_columns = objective.n_columns
        offsets = objective.offsets
        b = _frequency_intercepts(objective, classes)
        # The loss gradient in W = U V at W = 0, and its best rank-k step.
        grad, _ = objective.loss_gradient_at(b)
        P, s, Qt = np.linalg.svd(grad, full_matrices=False)
        r = min(k, s.shape[0])
        r = int(np.count_nonzero(s[:r] > 1e-10 * s[0])) if s.size and s[0] > 0 else 0
        U = np.zeros((n_features, k))
        V = np.zeros((k, n_columns))
        scale = 1.0
        if r > 0:
            P, s, Qt = P[:, :r], s[:r], Qt[:r]
            # The step along D = -P diag(s) Qt minimises the quadratic model
            # (the loss's curvature along D, the penalty alpha2 step sum(s) of
            # these factors): tiny data would otherwise ask for a huge first
            # point.
            task_of_column = np.repeat(np.arange(len(classes)), np.diff(offsets))
            curvature = objective.curvature(P, s[:, None] * Qt, task_of_column)
            gain = max(np.sum(s**2) - objective.alpha2 * np.sum(s), 0.0)
            step = gain / curvature if curvature > 0 else 1.0
            if not np.isfinite(step):
                step = 1.0
            root = np.sqrt(step * s)
            U[:, :r] = P * root
            V[:r] = -root[:, None] * Qt
            scale = root[-1]
        if r < k:
            U[:, r:] = _SEED_SCALE * scale * rng.standard_normal(
                (n_features, k - r)
            ) / np.sqrt(n_features)
            V[r:] = _SEED_SCALE * scale * rng.standard_normal(
                (k - r, n_columns)
            ) / np.sqrt(n_columns)
        return objective.pack(U, V, b)

    def _warm_start_point(self, objective, problem, rng):
        classes, root_scale = problem.classes, problem.root_scale
        U = self.components_.T.astype(np.float64) * root_scale
        V = self._heads.astype(np.float64) * root_scale
        same = (
            U.shape == (objective.n_features, objective.n_components)
            and V.shape == (objective.n_components, objective.n_columns)
            and len(self._classes) == len(classes)
            and all(
                len(a) == len(c) and np.all(a == c)
                for a, c in zip(self._classes, classes)
            )
        )
        if not same:
            raise ValueError(
                "warm_start=True needs the same tasks, classes, number of features "
                "and n_components as the previous fit; set warm_start=False to "
                "refit from scratch."
            )
        # The stored intercepts are for X; the solver's for centred X.
        b = self._intercepts.astype(np.float64)
        b = b + problem.design.x_mean @ (U @ V) / root_scale**2
        return self.revived_point(objective, U, V, b, rng)

    @staticmethod
    def revived_point(objective, U, V, b, rng):
        """The point ``(U, V, b)`` with its dead components reseeded, or None
        when every component is dead: a model at ``W = 0`` is a saddle of the
        factors, and a start near it carries nothing (start fresh instead)."""
        value = objective.value_and_grad(objective.pack(U, V, b))[0]
        at_zero = objective.value_and_grad(objective.pack(0 * U, 0 * V, b))[0]
        if not value < at_zero - 1e-12 * abs(at_zero):
            return None  # the factors do no better than W = 0
        U = revive_columns(U, rng)
        return None if U is None else objective.pack(U, V, b)

    # ---------------------------------------------------------------- solvers

    def _solve_lbfgs(self, objective, x0, alpha1, polish_converged=True):
        """L-BFGS, then Newton steps where it stalls and, with
        ``polish_converged``, after a converged run on a small problem
        (leave it out where a Hessian product is costly: out of core, each
        is a pass over the data)."""

        def evaluate(x):
            value, grad = objective.value_and_grad(x)
            return value, grad, None

        def measure(x, pseudo_grad, extra):
            return float(np.abs(pseudo_grad).max()) if pseudo_grad.size else 0.0

        x, _, n_iter, value, status = lbfgs(
            x0,
            evaluate,
            max_iter=self.max_iter,
            measure=measure,
            tol=self.tol,
            l1=alpha1,
            l1_mask=objective.u_mask,
            curvature=objective.alpha2,
            verbose=self.verbose,
            measure_name="largest gradient entry",
        )
        n_iter = max(n_iter, 1)
        # Newton steps need only gradients, so they go on where L-BFGS's line
        # search stalls at rounding level; on small problems they also carry a
        # converged fit near machine precision for the price of a few
        # Hessian products, so that tiny changes of the data (a weight
        # instead of a repeated row) give the same model.
        small = polish_converged and objective.size <= _POLISH_MAX_SIZE
        budget = min(_NEWTON_STEPS, self.max_iter - n_iter)  # max_iter bounds all
        if (
            alpha1 == 0
            and budget > 0
            and status != "non-finite"
            and (status == "stalled" or small)
        ):
            _, grad = objective.value_and_grad(x)
            x, _, value, steps = _newton_polish(
                objective, x, grad, value, self.tol * _POLISH_FACTOR, budget
            )
            n_iter += steps
            if value <= self.tol:
                status = "converged"
        return x, n_iter, value, status

    def _solve_fista(self, objective, x0, alpha1):
        n_U = objective.n_U

        def prox(v, step):
            if alpha1 > 0:
                v = v.copy()
                v[:n_U] = enet_prox(v[:n_U], step * alpha1)
            return v

        _, g0 = objective.value_and_grad(x0)
        norm2 = g0 @ g0
        # The curvature along the gradient, as a scale: the objective is not
        # convex in (U, V) jointly, so it may be negative (backtracking then
        # corrects an underestimate; a tiny one would overflow the first step).
        curvature = abs(g0 @ objective.hessp(x0, g0)) / norm2 if norm2 > 0 else 1.0
        lipschitz = curvature if np.isfinite(curvature) and curvature > 0 else 1.0
        x, n_iter, measure, status = fista(
            x0,
            objective.value_and_grad,
            prox,
            lambda x: alpha1 * np.abs(x[:n_U]).sum(),
            lipschitz,
            max_iter=self.max_iter,
            tol=self.tol,
            verbose=self.verbose,
        )
        return x, n_iter, float(measure), status

    # ------------------------------------------------------------ attributes

    def _store(self, U, V, b, classes, offsets, single_task, dtype, floor=0.0):
        self._single_task = single_task
        self._classes = classes
        self._offsets = offsets
        factor_floor = np.sqrt(floor)
        self._heads = in_data_dtype(V, dtype, "heads", factor_floor)
        self._intercepts = in_data_dtype(b, dtype, "intercept_", 1e-7)
        self.components_ = in_data_dtype(U.T, dtype, "components_", factor_floor)
        W = in_data_dtype((U @ V).T, dtype, "coef_", floor)
        coef = [W[offsets[t] : offsets[t + 1]] for t in range(len(classes))]
        intercept = [
            self._intercepts[offsets[t] : offsets[t + 1]] for t in range(len(classes))
        ]
        if single_task:
            self.classes_ = classes[0]
            self.coef_ = coef[0]
            self.intercept_ = intercept[0]
        else:
            self.classes_ = list(classes)
            self.coef_ = coef
            self.intercept_ = intercept

    # ------------------------------------------------------------ prediction
    def _validate_X_predict(self, X):
        check_is_fitted(self)
        return validate_data(
            self,
            X,
            reset=False,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
        )

    def _task_scores(self, X):
        """List of per-task scores: (n,) for binary tasks, (n, C) otherwise."""
        X = self._validate_X_predict(X)
        Z = np.asarray(safe_sparse_dot(X, self.components_.T))
        S = Z @ self._heads + self._intercepts
        offsets = self._offsets
        scores = []
        for t in range(len(self._classes)):
            if offsets[t + 1] - offsets[t] == 1:
                scores.append(S[:, offsets[t]].copy())
            else:
                scores.append(S[:, offsets[t] : offsets[t + 1]].copy())
        return scores

    def _per_task(self, values):
        return values[0] if self._single_task else values

    def decision_function(self, X):
        """Compute the scores of each task's head.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray or list of ndarray
            Per task: of shape ``(n_samples,)`` for a binary task (the log-odds
            of its second class ``classes_[1]``) and ``(n_samples, n_classes)``
            for a multiclass task. An array for a single task, a list with one
            array per task otherwise.
        """
        return self._per_task(self._task_scores(X))

    def predict_proba(self, X):
        """Probability of each class of each task.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes) or list of such arrays
            Columns follow the order of ``classes_``. An array for a single
            task, a list with one array per task otherwise (as
            :class:`~sklearn.multioutput.MultiOutputClassifier` returns).
        """
        probas = []
        for s in self._task_scores(X):
            if s.ndim == 1:
                p = expit(s)
                probas.append(np.column_stack([1.0 - p, p]))
            else:
                probas.append(softmax(s, axis=1))
        return self._per_task(probas)

    def predict_log_proba(self, X):
        """Logarithm of the probability of each class of each task.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes) or list of such arrays
            Shaped like the output of :meth:`predict_proba`.
        """
        log_probas = []
        for s in self._task_scores(X):
            if s.ndim == 1:
                log_probas.append(np.column_stack([log_expit(-s), log_expit(s)]))
            else:
                log_probas.append(log_softmax(s, axis=1))
        return self._per_task(log_probas)

    def predict(self, X):
        """Predict the label of every task, in each task's own label set.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_tasks)
            Predicted labels: 1-D for a single task. For several tasks the
            column dtype is the common dtype of the tasks' classes (object if
            they differ).
        """
        if type(X).__module__.startswith("dask."):  # lazy, block by block
            from .. import _dask
            return _dask.predict(self, X)
        scores = self._task_scores(X)
        predictions = []
        for task_classes, s in zip(self._classes, scores):
            if s.ndim == 1:
                predictions.append(task_classes[(s > 0).astype(np.intp)])
            else:
                predictions.append(task_classes[np.argmax(s, axis=1)])
        if self._single_task:
            return predictions[0]
        dtypes = {c.dtype for c in self._classes}
        dtype = dtypes.pop() if len(dtypes) == 1 else object
        out = np.empty((predictions[0].shape[0], len(predictions)), dtype=dtype)
        for t, p in enumerate(predictions):
            out[:, t] = p
        return out

    def score(self, X, y, sample_weight=None):
        """Mean accuracy over the tasks, on the observed labels.

        For a single task this is the plain (weighted) accuracy. For several
        tasks it is the mean over tasks of each task's accuracy on its
        observed labels (tasks with no observed label in ``y`` are skipped),
        not the subset accuracy of :class:`~sklearn.base.ClassifierMixin`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            True labels; NaN or None mark missing labels.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Mean per-task accuracy.
        """
        if type(X).__module__.startswith("dask."):  # one pass over the blocks
            from .. import _dask
            return _dask.score(self, X, y, sample_weight)
        check_is_fitted(self)
        y = check_array(y, ensure_2d=False, dtype=None, ensure_all_finite=False)
        if y.ndim == 2 and y.shape[1] == 1 and self._single_task:
            y = y.ravel()
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        n_tasks = len(self._classes)
        if Y.shape[1] != n_tasks:
            raise ValueError(
                f"y has {Y.shape[1]} tasks but the estimator was fitted on "
                f"{n_tasks}."
            )
        check_consistent_length(X, Y)
        y_pred = self.predict(X).reshape(Y.shape[0], n_tasks)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, Y)
        accuracies = []
        for t in range(n_tasks):
            mask = ~missing_mask(Y[:, t])
            if not mask.any():
                continue
            correct = np.asarray(Y[mask, t] == y_pred[mask, t], dtype=float)
            w = None if sample_weight is None else sample_weight[mask]
            if w is not None and not w.sum() > 0:
                continue
            accuracies.append(np.average(correct, weights=w))
        if not accuracies:
            raise ValueError("y has no observed label to score.")
        return float(np.mean(accuracies))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
