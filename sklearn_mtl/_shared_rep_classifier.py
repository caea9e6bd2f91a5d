"""Many classification tasks that share one low-rank linear representation."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
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

from ._kernels._shared_rep_logistic import (
    multitask_cross_entropy,
    multitask_cross_entropy_grad,
    multitask_cross_entropy_hessp,
)
from ._validation import rescaled_sample_weight

# Components whose singular value is below this fraction of the largest one are
# numerically zero at the optimum; they are set exactly to zero after fitting.
_ZERO_COMPONENT_RTOL = 1e-8
# Relative size of the random columns that seed components the initial
# gradient does not determine (rank deficiency, or n_components above its rank).
_SEED_SCALE = 1e-2
# Newton-CG steps that may polish an L-BFGS solution stalled at rounding level.
_NEWTON_STEPS = 3


def _missing_mask(column):
    """Boolean mask of the missing labels of one task (NaN or None)."""
    if column.dtype.kind == "f":
        return np.isnan(column)
    if column.dtype.kind == "O":
        return np.fromiter(
            (
                v is None or (isinstance(v, (float, np.floating)) and np.isnan(v))
                for v in column
            ),
            dtype=bool,
            count=column.shape[0],
        )
    return np.zeros(column.shape[0], dtype=bool)


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
    P = Qu @ A
    Q = Qv @ Bt.T
    P, Qt = svd_flip(P, Q.T, u_based_decision=True)
    if s.size and s[0] > 0:
        s = np.where(s > _ZERO_COMPONENT_RTOL * s[0], s, 0.0)
    root = np.sqrt(s)
    r = s.shape[0]
    U_new = np.zeros_like(U)
    V_new = np.zeros_like(V)
    U_new[:, :r] = P * root
    V_new[:r] = root[:, None] * Qt
    return U_new[:, :k], V_new[:k]


class _Objective:
    """Smooth part of the objective and its gradient over a flat vector.

    The vector stacks ``U.ravel()``, ``V.ravel()`` and, when the intercept is
    fitted, the intercepts ``b`` (one per score column). All arithmetic on the
    data is done in the dtype of ``X``; values and gradients are returned in
    float64 for the optimiser.
    """

    def __init__(self, X, Y, weights, offsets, n_components, l2_reg, fit_intercept):
        self.X = X
        self.Y = Y
        self.weights = weights
        self.offsets = offsets
        self.dtype = X.dtype
        self.n_features = X.shape[1]
        self.n_components = n_components
        self.n_columns = int(offsets[-1])
        self.l2_reg = l2_reg
        self.fit_intercept = fit_intercept
        self.n_U = self.n_features * n_components
        self.n_V = n_components * self.n_columns
        self.size = self.n_U + self.n_V + (self.n_columns if fit_intercept else 0)
        self.dS = np.empty((X.shape[0], self.n_columns), dtype=self.dtype)

    def pack(self, U, V, b):
        parts = [np.ravel(U), np.ravel(V)]
        if self.fit_intercept:
            parts.append(np.ravel(b))
        return np.concatenate(parts).astype(np.float64)

    def unpack(self, x):
        U = x[: self.n_U].reshape(self.n_features, self.n_components)
        V = x[self.n_U : self.n_U + self.n_V].reshape(
            self.n_components, self.n_columns
        )
        if self.fit_intercept:
            b = x[self.n_U + self.n_V :]
        else:
            b = np.zeros(self.n_columns)
        return U, V, b

    def _scores(self, U, V, b):
        U = U.astype(self.dtype, copy=False)
        V = V.astype(self.dtype, copy=False)
        Z = np.asarray(safe_sparse_dot(self.X, U))
        S = Z @ V
        S += b.astype(self.dtype, copy=False)
        return Z, np.ascontiguousarray(S)

    def value(self, x):
        U, V, b = self.unpack(x)
        _, S = self._scores(U, V, b)
        loss = multitask_cross_entropy(S, self.Y, self.weights, self.offsets)
        factors = x[: self.n_U + self.n_V]
        return loss + 0.5 * self.l2_reg * np.dot(factors, factors)

    def value_and_grad(self, x):
        U, V, b = self.unpack(x)
        Z, S = self._scores(U, V, b)
        dS = self.dS
        loss = multitask_cross_entropy_grad(
            S, self.Y, self.weights, self.offsets, dS
        )
        grad = np.empty(self.size)
        grad_U = grad[: self.n_U].reshape(U.shape)
        grad_U[:] = safe_sparse_dot(self.X.T, dS @ V.T.astype(self.dtype))
        grad_U += self.l2_reg * U
        grad_V = grad[self.n_U : self.n_U + self.n_V].reshape(V.shape)
        grad_V[:] = Z.T @ dS
        grad_V += self.l2_reg * V
        if self.fit_intercept:
            grad[self.n_U + self.n_V :] = dS.sum(axis=0)
        sq = np.dot(x[: self.n_U + self.n_V], x[: self.n_U + self.n_V])
        return loss + 0.5 * self.l2_reg * sq, grad


    def hessp(self, x, v):
        """Hessian of the smooth objective at ``x`` applied to ``v``."""
        U, V, b = self.unpack(x)
        dU, dV, db = self.unpack(v)
        dtype = self.dtype
        V = V.astype(dtype)
        dV = dV.astype(dtype)
        Z, S = self._scores(U, V, b)
        G = np.empty_like(S)
        multitask_cross_entropy_grad(S, self.Y, self.weights, self.offsets, G)
        XdU = np.asarray(safe_sparse_dot(self.X, dU.astype(dtype)))
        D = XdU @ V + Z @ dV
        if self.fit_intercept:
            D += db.astype(dtype)
        D = np.ascontiguousarray(D)
        HD = np.empty_like(S)
        multitask_cross_entropy_hessp(S, self.Y, self.weights, self.offsets, D, HD)
        out = np.empty(self.size)
        out_U = out[: self.n_U].reshape(U.shape)
        out_U[:] = safe_sparse_dot(self.X.T, HD @ V.T + G @ dV.T)
        out_U += self.l2_reg * dU
        out_V = out[self.n_U : self.n_U + self.n_V].reshape(V.shape)
        out_V[:] = XdU.T @ G + Z.T @ HD
        out_V += self.l2_reg * dV
        if self.fit_intercept:
            out[self.n_U + self.n_V :] = HD.sum(axis=0)
        return out


def _newton_direction(hessp, grad, max_iter):
    """Approximately solve ``H p = -grad`` by conjugate gradient.

    Stops at a relative residual of 1e-8, after ``max_iter`` products, or on
    non-positive curvature (then returns the current iterate, or None if no
    step was made).
    """
    p = np.zeros_like(grad)
    r = -grad
    d = r.copy()
    rr = r @ r
    stop = 1e-16 * rr
    for _ in range(max_iter):
        Hd = hessp(d)
        curvature = d @ Hd
        if not curvature > 0:
            break
        step = rr / curvature
        p += step * d
        r -= step * Hd
        rr_new = r @ r
        if rr_new <= stop:
            break
        d = r + (rr_new / rr) * d
        rr = rr_new
    return p if np.any(p) else None


class MultiTaskSharedRepClassifier(
    ClassNamePrefixFeaturesOutMixin, ClassifierMixin, TransformerMixin, BaseEstimator
):
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
        Regularisation strength; ``0`` means no penalty (then the coefficients
        grow without bound on separable data until ``max_iter``).

    l1_ratio : float in [0, 1), default=0.0
        Share ``rho`` of the penalty that is an L1 norm on ``U`` (sparse
        shared features). ``l1_ratio = 1`` is excluded: the objective would
        then have no minimiser, since scaling ``U`` down and ``V`` up drives
        the penalty to zero.

    fit_intercept : bool, default=True
        Whether to fit an unpenalised intercept per score column.

    solver : {"auto", "lbfgs", "fista"}, default="auto"
        ``"lbfgs"``: scipy's L-BFGS-B driving the jitted loss and gradient
        (only for ``l1_ratio=0``). ``"fista"``: accelerated proximal gradient
        with backtracking and monotone restart, soft-thresholding ``U``.
        ``"auto"`` picks ``"lbfgs"`` when ``l1_ratio=0`` and ``"fista"``
        otherwise.

    max_iter : int, default=500
        Maximum number of iterations of the solver.

    tol : float, default=1e-4
        Stopping tolerance. The solver stops when the largest absolute entry
        of the gradient of the objective with respect to ``(U, V, b)`` (for
        ``"fista"``: of the proximal gradient mapping ``L (x - prox(x -
        grad / L))``) is at most ``tol``. ``"lbfgs"`` also stops when the
        relative decrease of the objective falls below ``64 * machine
        epsilon``; if the gradient is then still above ``tol``, up to 3
        Newton-CG steps follow, each kept only if it reduces the gradient. A
        :class:`~sklearn.exceptions.ConvergenceWarning` is raised when the
        measure is still above ``tol`` at the end.

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

    **Degenerate tasks.** A task with no observed label, or whose observed
    labels (with positive weight) all belong to one class, raises a
    ``ValueError`` naming the task: its intercept would have no finite
    optimum. Drop such a column or collect labels of a second class.

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
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="left")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"auto", "lbfgs", "fista"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "class_weight": [dict, list, StrOptions({"balanced"}), None],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
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
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

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
            Labels; missing labels are NaN (float ``y``) or None (object
            ``y``).

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples, rescaled to sum to
            ``n_samples``.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        solver = self._resolve_solver()
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
        n_samples, n_features = X.shape
        n_tasks = Y.shape[1]

        classes, Y_enc, observed = self._encode(Y, single_task)
        sample_weight = rescaled_sample_weight(sample_weight, X)
        weights = self._label_weights(
            Y_enc, observed, classes, sample_weight, single_task
        )

        n_heads = np.array([1 if len(c) == 2 else len(c) for c in classes])
        offsets = np.zeros(n_tasks + 1, dtype=np.intp)
        np.cumsum(n_heads, out=offsets[1:])
        n_columns = int(offsets[-1])
        k = self.n_components
        if k is None:
            k = min(n_features, n_columns)

        objective = _Objective(
            X,
            Y_enc,
            weights,
            offsets,
            k,
            self.alpha * (1.0 - self.l1_ratio),
            self.fit_intercept,
        )
        rng = check_random_state(self.random_state)
        x0 = self._initial_point(objective, classes, rng, single_task)

        if solver == "lbfgs":
            x, n_iter, measure = self._solve_lbfgs(objective, x0)
        else:
            x, n_iter, measure = self._solve_fista(
                objective, x0, self.alpha * self.l1_ratio
            )
        if not np.all(np.isfinite(x)):  # pragma: no cover - defensive
            raise FloatingPointError(
                "The solver produced non-finite coefficients; scale the "
                "features or increase alpha."
            )
        if measure > self.tol:
            measure_name = (
                "largest absolute gradient entry"
                if solver == "lbfgs"
                else "largest absolute entry of the proximal gradient mapping"
            )
            warnings.warn(
                f"{type(self).__name__} did not converge: the {measure_name} "
                f"is {measure:.3e}, above tol={self.tol:.3e}, after {n_iter} "
                f"iterations of solver {solver!r}. Increase max_iter, loosen "
                "tol, or scale the features.",
                ConvergenceWarning,
            )

        U, V, b = objective.unpack(x)
        if self.l1_ratio == 0:
            U, V = _balanced_factors(U, V)
        self._store(U, V, b, classes, offsets, single_task, X.dtype)
        self.n_iter_ = int(n_iter)
        return self

    def _resolve_solver(self):
        if self.solver == "auto":
            return "lbfgs" if self.l1_ratio == 0 else "fista"
        if self.solver == "lbfgs" and self.l1_ratio > 0:
            raise ValueError(
                "solver='lbfgs' handles only smooth objectives (l1_ratio=0); got "
                f"l1_ratio={self.l1_ratio}. Use solver='fista' or 'auto'."
            )
        return self.solver

    @staticmethod
    def _task_name(t, single_task):
        return "y" if single_task else f"task {t} (column {t} of y)"

    def _encode(self, Y, single_task):
        """Classes of each task and labels encoded as indices (-1: missing)."""
        n_samples, n_tasks = Y.shape
        if n_tasks == 0:
            raise ValueError("y has no task (0 columns).")
        Y_enc = np.full((n_samples, n_tasks), -1, dtype=np.intp)
        observed = np.empty((n_samples, n_tasks), dtype=bool)
        classes = []
        for t in range(n_tasks):
            where = self._task_name(t, single_task)
            column = Y[:, t]
            mask = ~_missing_mask(column)
            observed[:, t] = mask
            if not mask.any():
                raise ValueError(
                    f"{where} has no observed label: every entry is missing. "
                    "Drop the task or provide labels."
                )
            labels = _as_labels(column[mask], where)
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
            task_classes = np.unique(labels)
            Y_enc[mask, t] = np.searchsorted(task_classes, labels)
            classes.append(task_classes)
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
        """Weight of each observed label: s_i * c_t[y_it] / n (0 if missing)."""
        n_samples, n_tasks = Y_enc.shape
        specs = self._class_weight_specs(n_tasks)
        weights = np.zeros((n_samples, n_tasks))
        for t in range(n_tasks):
            where = self._task_name(t, single_task)
            mask = observed[:, t]
            enc = Y_enc[mask, t]
            task_classes = classes[t]
            if isinstance(specs[t], dict):
                class_w = compute_class_weight(
                    specs[t], classes=task_classes, y=task_classes[enc]
                )
            else:
                class_w = compute_class_weight(
                    specs[t],
                    classes=np.arange(len(task_classes)),
                    y=enc,
                    sample_weight=sample_weight[mask],
                )
            if np.any(class_w < 0):
                raise ValueError(f"class_weight of {where} has negative weights.")
            w = sample_weight[mask] * class_w[enc]
            weights[mask, t] = w / n_samples
            per_class = np.bincount(enc, weights=w, minlength=len(task_classes))
            n_positive = np.count_nonzero(per_class > 0)
            if n_positive == 0:
                raise ValueError(
                    f"{where} has no observed label with positive weight."
                )
            if n_positive == 1:
                present = task_classes[np.flatnonzero(per_class > 0)[0]]
                raise ValueError(
                    f"{where} has only one class ({present!r}) among its observed "
                    "labels with positive weight; a classifier needs samples of at "
                    "least 2 classes."
                )
        return weights

    # ------------------------------------------------------- initialisation

    def _initial_point(self, objective, classes, rng, single_task):
        if self.warm_start and hasattr(self, "components_"):
            return self._warm_start_point(objective, classes, rng, single_task)
        X = objective.X
        n_features, k = objective.n_features, objective.n_components
        n_columns = objective.n_columns
        offsets = objective.offsets
        b = np.zeros(n_columns)
        if objective.fit_intercept:
            for t, task_classes in enumerate(classes):
                mask = objective.Y[:, t] >= 0
                freq = np.bincount(
                    objective.Y[mask, t],
                    weights=objective.weights[mask, t],
                    minlength=len(task_classes),
                )
                freq = freq / freq.sum()
                log_freq = np.log(freq + 1e-8)
                if len(task_classes) == 2:
                    b[offsets[t]] = log_freq[1] - log_freq[0]
                else:
                    b[offsets[t] : offsets[t + 1]] = log_freq - log_freq.mean()
        # Gradient of the loss with respect to W = U V at W = 0.
        S = np.ascontiguousarray(
            np.broadcast_to(b.astype(objective.dtype), (X.shape[0], n_columns))
        )
        dS = np.empty_like(S)
        multitask_cross_entropy_grad(
            S, objective.Y, objective.weights, objective.offsets, dS
        )
        G = np.asarray(safe_sparse_dot(X.T, dS), dtype=np.float64)
        P, s, Qt = np.linalg.svd(G, full_matrices=False)
        r = min(k, s.shape[0])
        P, s, Qt = P[:, :r], s[:r], Qt[:r]
        if s.size and s[0] > 0:
            r = int(np.count_nonzero(s > 1e-10 * s[0]))
        else:
            r = 0
        U = np.zeros((n_features, k))
        V = np.zeros((k, n_columns))
        scale = 1.0
        if r > 0:
            P, s, Qt = P[:, :r], s[:r], Qt[:r]
            # Curvature of the loss along D = -P diag(s) Qt, bounded by 1/4 of
            # the weighted squared norm of X D; the step minimises the model.
            XD = np.asarray(safe_sparse_dot(X, P)) @ (s[:, None] * Qt)
            task_of_column = np.repeat(np.arange(len(classes)), np.diff(offsets))
            curvature = 0.25 * np.sum(
                objective.weights[:, task_of_column] * XD**2
            )
            step = np.sum(s**2) / curvature if curvature > 0 else 1.0
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

    def _warm_start_point(self, objective, classes, rng, single_task):
        U = self.components_.T.astype(np.float64)
        V = self._heads.astype(np.float64)
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
        # Components that vanished at the previous optimum would stay at the
        # saddle point U_j = V_j = 0: reseed them with small random values.
        norms = np.linalg.norm(U, axis=0)
        dead = norms == 0
        if dead.any():
            scale = norms[~dead].min() if (~dead).any() else 1.0
            U[:, dead] = _SEED_SCALE * scale * rng.standard_normal(
                (U.shape[0], dead.sum())
            ) / np.sqrt(U.shape[0])
            V[dead] = _SEED_SCALE * scale * rng.standard_normal(
                (dead.sum(), V.shape[1])
            ) / np.sqrt(V.shape[1])
        return objective.pack(U, V, self._intercepts.astype(np.float64))

    # ---------------------------------------------------------------- solvers

    def _solve_lbfgs(self, objective, x0):
        iteration = [0]

        def callback(intermediate_result):
            iteration[0] += 1
            if self.verbose:
                print(
                    f"[{type(self).__name__}] iteration {iteration[0]}: objective "
                    f"{intermediate_result.fun:.8e}"
                )

        result = minimize(
            objective.value_and_grad,
            x0,
            method="L-BFGS-B",
            jac=True,
            callback=callback,
            options=dict(
                maxiter=self.max_iter,
                maxfun=max(15000, 4 * self.max_iter),
                gtol=self.tol,
                ftol=64 * np.finfo(np.float64).eps,
                maxls=50,
            ),
        )
        x, grad, n_iter = result.x, result.jac, max(int(result.nit), 1)
        measure = float(np.max(np.abs(grad))) if grad.size else 0.0
        if measure > self.tol and n_iter < self.max_iter:
            # L-BFGS stopped because the objective no longer decreases in
            # floating point (its line search compares objective values).
            # Newton steps need only gradients: polish while they reduce it.
            for _ in range(_NEWTON_STEPS):
                step = _newton_direction(
                    lambda v: objective.hessp(x, v),
                    grad,
                    max_iter=min(objective.size, 100),
                )
                if step is None:
                    break
                _, grad_new = objective.value_and_grad(x + step)
                measure_new = float(np.max(np.abs(grad_new)))
                if not measure_new < measure:
                    break
                x, grad, measure = x + step, grad_new, measure_new
                n_iter += 1
                if self.verbose:
                    print(
                        f"[{type(self).__name__}] Newton step: gradient "
                        f"{measure:.3e}"
                    )
                if measure <= self.tol or n_iter >= self.max_iter:
                    break
        return x, n_iter, measure

    def _solve_fista(self, objective, x0, l1_reg):
        """Accelerated proximal gradient with backtracking and monotone restart.

        The prox soft-thresholds ``U`` by ``l1_reg / L``; ``V`` and ``b`` are
        smooth. Momentum is dropped whenever an accelerated step would increase
        the objective, so the objective decreases at every iteration.
        """
        n_U = objective.n_U

        def nonsmooth(x):
            return l1_reg * np.abs(x[:n_U]).sum()

        def prox_step(y, lipschitz):
            # The step size only shrinks: near the optimum the sufficient
            # decrease test compares objective values at rounding level, and
            # letting it grow back would accept steps on noise and oscillate.
            f_y, g_y = objective.value_and_grad(y)
            while True:
                x_new = y - g_y / lipschitz
                if l1_reg > 0:
                    u = x_new[:n_U]
                    x_new[:n_U] = np.sign(u) * np.maximum(
                        np.abs(u) - l1_reg / lipschitz, 0.0
                    )
                d = x_new - y
                f_new = objective.value(x_new)
                bound = f_y + g_y @ d + 0.5 * lipschitz * (d @ d)
                if f_new <= bound or lipschitz > 1e20:
                    break
                lipschitz *= 2.0
            measure = lipschitz * np.max(np.abs(d)) if d.size else 0.0
            return x_new, f_new + nonsmooth(x_new), lipschitz, measure

        # Initial Lipschitz estimate: the curvature along the gradient at x0.
        _, g0 = objective.value_and_grad(x0)
        g_norm = np.linalg.norm(g0)
        lipschitz = 1.0
        if g_norm > 0:
            h = 1e-4 * max(np.linalg.norm(x0), 1.0) / g_norm
            _, g1 = objective.value_and_grad(x0 - h * g0)
            lipschitz = max(np.linalg.norm(g1 - g0) / (h * g_norm), 1e-8)

        x = x0
        x_prev = x0
        F_x = objective.value(x) + nonsmooth(x)
        t = 1.0
        measure = np.inf
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):
            t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
            beta = (t - 1.0) / t_next
            y = x + beta * (x - x_prev) if beta > 0 else x
            x_new, F_new, lipschitz, measure = prox_step(y, lipschitz)
            if F_new > F_x and beta > 0:
                t_next = 1.0
                x_new, F_new, lipschitz, measure = prox_step(x, lipschitz)
            x_prev, x, F_x, t = x, x_new, F_new, t_next
            if self.verbose:
                print(
                    f"[{type(self).__name__}] iteration {n_iter}: objective "
                    f"{F_x:.8e}, prox-gradient {measure:.3e}"
                )
            if measure <= self.tol:
                break
        return x, n_iter, float(measure)

    # ------------------------------------------------------------ attributes

    def _store(self, U, V, b, classes, offsets, single_task, dtype):
        self._single_task = single_task
        self._classes = classes
        self._offsets = offsets
        self._heads = V.astype(dtype)
        self._intercepts = b.astype(dtype)
        self.components_ = U.T.astype(dtype)
        W = (U @ V).T.astype(dtype)
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

    @property
    def _n_features_out(self):
        """Number of features produced by ``transform``."""
        return self.components_.shape[0]

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

    def transform(self, X):
        """Project ``X`` on the shared representation, ``Z = X U``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            The shared representation of the samples.
        """
        X = self._validate_X_predict(X)
        return np.asarray(safe_sparse_dot(X, self.components_.T))

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
            mask = ~_missing_mask(Y[:, t])
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
