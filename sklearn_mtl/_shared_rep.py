"""Multi-task linear models that share a low-rank representation ``Z = X U``."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    MultiOutputMixin,
    RegressorMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)
from threadpoolctl import ThreadpoolController

from ._kernels._shared_rep import (
    eigen_loss_grad,
    eigen_ustep,
    eigen_vstep,
    soft_threshold,
)
from ._validation import rescaled_sample_weight

# The eigenbasis solver (fully observed targets, no L1 part) diagonalises the
# Gram matrix in the smaller of feature and sample space, while that space has
# at most this dimension (an O(dim^3) factorisation, O(dim^2) memory).
_EIGEN_MAX_DIM = 3000
# Inner solvers of the U step on the general path.
_CG_MAX_ITER = 25
_CG_RTOL = 1e-2
_PROX_MAX_ITER = 50
_PROX_RTOL = 1e-2
_POWER_ITERATIONS = 30
# Row blocks of the pairwise column products in the V step hold at most this
# many entries (32 MB in float64).
_PAIR_BLOCK_ENTRIES = 1 << 22
# L-BFGS on the objective with V eliminated.
_LBFGS_MEMORY = 10
_LINE_SEARCH_STEPS = 10
_ARMIJO = 1e-4
# Initial directions that the ridge fit does not span are drawn at random with
# this size relative to the leading one.
_RANDOM_INIT_SCALE = 1e-3
_THREADPOOL_CONTROLLER = None


def _serial_lapack():
    """Run the small dense factorisations (eigh, SVD) on one BLAS thread.

    On matrices of a few hundred rows, multi-threaded LAPACK spends its time
    synchronising, and on a busy machine it can be 10 to 100 times slower
    than one thread. The large products with ``X`` stay multi-threaded.
    """
    global _THREADPOOL_CONTROLLER
    if _THREADPOOL_CONTROLLER is None:
        # inspecting the loaded libraries costs milliseconds: do it once
        _THREADPOOL_CONTROLLER = ThreadpoolController()
    return _THREADPOOL_CONTROLLER.limit(limits=1, user_api="blas")


def _dot(A, M):
    """``A @ M`` for dense or sparse ``A``, in ``A``'s dtype, returned in float64."""
    out = safe_sparse_dot(A, M.astype(A.dtype, copy=False), dense_output=True)
    return np.asarray(out, dtype=np.float64)


def _resolve_n_components(n_components, n_features, n_tasks):
    """The number of shared components ``k``, checked against the data."""
    upper = min(n_features, n_tasks)
    if n_components is None:
        return upper
    if n_components > upper:
        raise ValueError(
            f"n_components={n_components} must be between 1 and "
            f"min(n_features, n_tasks)={upper} (n_features={n_features}, "
            f"n_tasks={n_tasks})."
        )
    return int(n_components)


def _check_observed(observed_weight, single_task):
    """Raise if a task has no observed target with positive sample weight."""
    empty = np.flatnonzero(~(observed_weight > 0))
    if empty.size:
        if single_task:
            raise ValueError(
                "y has no observed target: every value is NaN or has zero "
                "sample weight."
            )
        raise ValueError(
            f"Task(s) {empty.tolist()} have no observed target: every value of "
            "y[:, t] is NaN or has zero sample weight. Drop these tasks before "
            "fitting."
        )


def _initial_factor(W0, n_components, rng):
    """Leading left singular vectors of ``W0`` scaled by ``sqrt(sigma)``.

    Directions that ``W0`` does not span (rank below ``n_components``) are drawn
    at random, small, so that the alternating steps can grow them if they lower
    the objective: a zero column would stay zero for ever.
    """
    dim = W0.shape[0]
    U0 = np.zeros((dim, n_components))
    if dim == 0:
        return U0
    P, sigma, _ = np.linalg.svd(W0, full_matrices=False)
    top = sigma[0] if sigma.size else 0.0
    if top == 0.0:
        return U0
    m = min(n_components, sigma.size)
    spanned = sigma[:m] > top * 1e-10
    n_spanned = int(spanned.sum())
    U0[:, :n_spanned] = P[:, :n_spanned] * np.sqrt(sigma[:n_spanned])
    if n_spanned < n_components:
        U0[:, n_spanned:] = rng.standard_normal((dim, n_components - n_spanned)) * (
            _RANDOM_INIT_SCALE * np.sqrt(top / dim)
        )
    return U0


def _revive_columns(U, rng):
    """Warm-start factor with its (near-)zero columns redrawn small at random.

    A zero column of ``U`` is a saddle that no iteration leaves, so the
    components a previous fit switched off (e.g. at a larger ``alpha``) get a
    small random direction back. Returns None if ``U`` is zero altogether (the
    caller then starts cold).
    """
    norms = np.linalg.norm(U, axis=0)
    top = norms.max() if norms.size else 0.0
    if top == 0.0:
        return None
    dead = norms <= top * 1e-8
    if dead.any():
        U = U.copy()
        U[:, dead] = rng.standard_normal((U.shape[0], int(dead.sum()))) * (
            _RANDOM_INIT_SCALE * top / np.sqrt(U.shape[0])
        )
    return U


def _relative_stationarity(grad_loss, U, alpha1, alpha2):
    """``||d_U F|| / max(||grad_U L||, ||d_U penalty||)`` at a point.

    ``d_U F`` is the minimum-norm subgradient of the objective in ``U`` (the
    gradient in ``V`` is zero after an exact V step) and ``d_U penalty`` the
    penalty's subgradient that enters it. The ratio is 0 at a stationary
    point and scale free.
    """
    g = _pseudo_gradient(grad_loss + alpha2 * U, U, alpha1)
    pen = alpha2 * U + alpha1 * np.sign(U)
    den = max(np.linalg.norm(grad_loss), np.linalg.norm(pen))
    if den == 0.0:
        return 0.0
    return float(np.linalg.norm(g) / den)


class _BaseSharedRep(BaseEstimator):
    """Parameters, validation helpers and ``transform`` of shared-rep models.

    Subclasses fit the shared factor ``U`` (stored as ``components_ = U.T``)
    and the per-task heads; the representation is ``Z = X U``.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "l1_ratio": [Interval(Real, 0, 1, closed="left")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_components=None,
        *,
        alpha=1.0,
        l1_ratio=0.0,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    def _penalty_strengths(self):
        """``(alpha1, alpha2)``: the L1 weight on ``U`` and the L2 weight."""
        return self.alpha * self.l1_ratio, self.alpha * (1.0 - self.l1_ratio)

    def _warm_start_factor(self, n_features, n_components):
        """The previous ``U`` if warm starting with matching shapes, else None."""
        if not self.warm_start or not hasattr(self, "components_"):
            return None
        if self.components_.shape != (n_components, n_features):
            return None
        return np.asarray(self.components_.T, dtype=np.float64)

    def transform(self, X):
        """Project ``X`` on the shared representation ``Z = X U``.

        The projection is not centred: ``Z = X @ components_.T``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            The shared representation of ``X``.
        """
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=[np.float64, np.float32],
            reset=False,
        )
        return safe_sparse_dot(
            X, self.components_.T.astype(X.dtype, copy=False), dense_output=True
        )

    @property
    def _n_features_out(self):
        """Number of transformed output features."""
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class MultiTaskSharedRepRegressor(
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    RegressorMixin,
    MultiOutputMixin,
    _BaseSharedRep,
):
    r"""Multi-task linear regression through a shared low-rank representation.

    The ``T`` tasks share a linear representation ``Z = X U`` with ``k``
    components; task ``t`` reads its own head ``v_t`` from it, so the
    coefficient matrix ``W = U V`` has rank at most ``k``. Targets may be
    missing (NaN in ``y``): each task is fit on the samples where it is
    observed. The objective is

    .. math::

        \frac{1}{2n} \sum_{(i, t)\ \mathrm{observed}} s_i
        (y_{it} - x_i U v_t - b_t)^2
        + \frac{\alpha (1 - \rho)}{2} (\|U\|_F^2 + \|V\|_F^2)
        + \alpha \rho \|U\|_1

    with ``rho = l1_ratio``, sample weights ``s`` rescaled to sum to ``n``,
    ``U`` of shape ``(n_features, k)``, ``V`` of shape ``(k, T)`` and
    unpenalised intercepts ``b_t``.

    With ``l1_ratio=0`` the penalty is the variational form of the trace
    norm: whenever ``k`` is at least the rank of the solution (always the case
    for the default ``n_components=None``), the fitted ``W = U V`` solves the
    convex problem ``loss(W) + alpha * ||W||_*``. Lowering ``n_components``
    adds a hard rank constraint. ``l1_ratio > 0`` adds an L1 penalty on ``U``
    that selects features shared by all tasks.

    Parameters
    ----------
    n_components : int, default=None
        Number of shared components ``k``, between 1 and
        ``min(n_features, n_tasks)``. None uses ``min(n_features, n_tasks)``:
        the rank is then only controlled by ``alpha``.

    alpha : float, default=1.0
        Strength of the penalty, a positive float.

    l1_ratio : float, default=0.0
        Share of the penalty put on the L1 norm of ``U``, in ``[0, 1)``. The
        ridge part ``alpha * (1 - l1_ratio) / 2 (||U||_F^2 + ||V||_F^2)`` must
        remain: without it the L1 part could be shrunk to nothing by scaling
        ``U`` down and ``V`` up.

    fit_intercept : bool, default=True
        Whether to fit an unpenalised intercept per task. With missing targets,
        each task is centred on its own observed samples; a sparse ``X`` is
        never centred explicitly.

    max_iter : int, default=1000
        Maximum number of iterations (see Notes: each is an L-BFGS step or an
        alternating step on ``U``, followed by the exact ``V`` step).

    tol : float, default=1e-4
        Stopping tolerance on the relative stationarity (see Notes).

    warm_start : bool, default=False
        When True and the shapes match, start from the ``components_`` of the
        previous fit instead of the ridge initialisation.

    random_state : int, RandomState instance or None, default=None
        Seeds the directions of the initial ``U`` that the ridge fit does not
        span (when ``n_components`` exceeds its rank). Pass an int for
        reproducible output across calls.

    verbose : int, default=0
        Print the stationarity measure at every iteration if positive.

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features) or (n_features,)
        Task coefficients ``(U V)^T``; 1-D when ``y`` is 1-D.

    intercept_ : ndarray of shape (n_tasks,) or float
        Task intercepts; a float when ``y`` is 1-D.

    components_ : ndarray of shape (n_components, n_features)
        The shared factor ``U^T``; ``transform(X)`` returns
        ``X @ components_.T``.

    heads_ : ndarray of shape (n_tasks, n_components) or (n_components,)
        The task heads ``V^T``, so that ``coef_ = heads_ @ components_``.

    n_iter_ : int
        Number of iterations run (1 when the zero solution is detected at
        once).

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.linear_model.MultiTaskLasso : Multi-task model with features
        selected jointly by an L1/L2 penalty.
    sklearn.cross_decomposition.PLSRegression : Shared components chosen by
        covariance, without a penalty.

    Notes
    -----
    **Solver.** The intercepts are eliminated by centring (each task on its
    own observed samples) and, for a given ``U``, the heads ``V`` by an exact
    ridge step (one ``k x k`` system per task). What remains is a smooth
    function of ``U`` alone (plus the L1 part), minimised by L-BFGS with an
    Armijo line search (by the envelope theorem its gradient is the gradient
    of the objective in ``U`` at the optimal ``V``). The first iteration,
    and any iteration whose line search fails, is an exact alternating step
    instead: with fully observed targets the ``U`` step is the Sylvester
    equation ``G U (V V^T) + alpha U = C V^T`` (``G`` the weighted centred
    Gram matrix, ``C = X^T S Y / n``), solved exactly; with missing targets
    it is an ``(n_features * k)`` linear system, solved by
    Jacobi-preconditioned conjugate gradient over products with ``X``
    restricted to the observed entries. With ``l1_ratio > 0`` the L-BFGS steps are orthant-wise
    (OWL-QN) and the ``U`` step of an alternating step is a lasso problem,
    solved by accelerated proximal gradient (soft-thresholding).

    With fully observed targets, ``l1_ratio=0`` and ``min(n_samples,
    n_features) <= 3000`` everything runs in the eigenbasis of ``G``,
    computed once from ``X^T X`` (or ``X X^T`` when ``n_samples <
    n_features``): an iteration then costs ``O(min(n, p) k T)`` whatever
    ``n``, so a fit costs about as much as one ridge fit. Otherwise each
    iteration costs a few products with ``X`` (sparse ``X`` stays sparse).

    With ``n_components`` below the rank of the trace-norm solution the
    problem is not convex: the fit returns a stationary point reached from a
    deterministic initialisation. When ``X^T X / n`` is the identity and the
    targets are fully observed it is the global minimum (the ``k`` leading
    singular values of the trace-norm solution); in general, and in
    particular with missing targets, it may be a local one.

    The initial ``U`` holds the leading left singular vectors of a ridge fit
    (fully observed targets) or of a diagonal ridge fit (missing targets),
    scaled by the square roots of the singular values, so it does not depend
    on luck; ``random_state`` only seeds the directions that fit does not
    span. When the spectral norm of ``C`` is at most ``alpha * (1 -
    l1_ratio)`` the solution is exactly zero and is returned at once.

    **Stopping rule.** After each V step the gradient in ``V`` is zero and the
    fit stops when the relative stationarity

    ``||d_U F||_F / max(||grad_U loss||_F, ||d_U penalty||_F) <= tol``,

    where ``d_U F`` is the minimum-norm subgradient of the objective in ``U``
    (with ``l1_ratio=0`` the two norms in the denominator are equal at a
    stationary point, so the measure is a relative residual). A
    :class:`~sklearn.exceptions.ConvergenceWarning` is raised when
    ``max_iter`` iterations do not reach it.

    **Score.** :meth:`score` is the mean over tasks of the coefficient of
    determination :math:`R^2` of each task, computed on its observed entries
    only (NaN targets are ignored).

    Examples
    --------
    >>> from sklearn_mtl import MultiTaskSharedRepRegressor
    >>> from sklearn_mtl.datasets import make_low_rank_tasks
    >>> X, X_test, Y, Y_test = make_low_rank_tasks(
    ...     n_samples=60, n_features=30, n_tasks=10, rank=2, noise=0.1,
    ...     missing_fraction=0.3, random_state=0)
    >>> reg = MultiTaskSharedRepRegressor(n_components=2, alpha=0.01).fit(X, Y)
    >>> reg.coef_.shape, reg.components_.shape, reg.transform(X).shape
    ((10, 30), (2, 30), (60, 2))
    >>> bool(reg.score(X_test, Y_test) > 0.8)
    True
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the shared representation and the task heads.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse CSR or CSC input is never densified.

        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets; NaN marks a target that was not observed.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights, rescaled to sum to ``n_samples``.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X, y = validate_data(
            self,
            X,
            y,
            validate_separately=(
                dict(accept_sparse=("csr", "csc"), dtype=[np.float64, np.float32]),
                dict(
                    ensure_2d=False,
                    dtype=np.float64,
                    ensure_all_finite="allow-nan",
                ),
            ),
        )
        check_consistent_length(X, y)
        single_task = y.ndim == 1
        Y = y.reshape(-1, 1) if single_task else y
        n_samples, n_features = X.shape
        n_tasks = Y.shape[1]
        sw = rescaled_sample_weight(sample_weight, X)
        mask = ~np.isnan(Y)
        observed_weight = sw @ mask
        _check_observed(observed_weight, single_task)
        k = _resolve_n_components(self.n_components, n_features, n_tasks)
        alpha1, alpha2 = self._penalty_strengths()
        rng = check_random_state(self.random_state)
        U_prev = self._warm_start_factor(n_features, k)

        fully_observed = bool(mask.all())
        small = min(n_samples, n_features)
        if fully_observed and alpha1 == 0 and small <= _EIGEN_MAX_DIM:
            U, V, x_mean, y_mean, n_iter, measure = self._fit_eigen(
                X, Y, sw, k, alpha2, U_prev, rng
            )
            coef = (U @ V).T
            intercept = y_mean - coef @ x_mean
        else:
            U, V, X_mean, y_mean, n_iter, measure = self._fit_masked(
                X, Y, mask, sw, observed_weight, k, alpha1, alpha2, U_prev, rng
            )
            coef = (U @ V).T
            intercept = y_mean - np.einsum("tj,tj->t", X_mean, coef)

        if measure > self.tol:
            warnings.warn(
                f"Objective did not converge: relative stationarity "
                f"{measure:.3e} > tol={self.tol:.3e} after {n_iter} iterations. "
                "Increase max_iter, or tol, or alpha.",
                ConvergenceWarning,
            )

        dtype = X.dtype
        self.n_iter_ = int(n_iter)
        self.components_ = np.ascontiguousarray(U.T, dtype=dtype)
        if single_task:
            self.coef_ = coef[0].astype(dtype)
            self.intercept_ = float(intercept[0])
            self.heads_ = V[:, 0].astype(dtype)
        else:
            self.coef_ = np.ascontiguousarray(coef, dtype=dtype)
            self.intercept_ = intercept.astype(dtype)
            self.heads_ = np.ascontiguousarray(V.T, dtype=dtype)
        return self

    def _fit_eigen(self, X, Y, sw, k, alpha, U_prev, rng):
        """Fully observed targets, ``l1_ratio=0``: solve in the Gram eigenbasis.

        With ``A = diag(sqrt(s / n)) (X - 1 x_mean^T)`` the loss is
        ``1/2 ||A W - B||^2`` (``B`` the centred, weighted targets). When
        ``n >= p`` the eigenbasis is that of ``G = A^T A``; otherwise it comes
        from ``K = A A^T`` (``A = E diag(lam)^(1/2) Q^T``) and ``Q`` is never
        formed: ``U = A^T E diag(lam)^(-1/2) U_eig``.
        """
        n_samples, n_features = X.shape
        inv_n = 1.0 / n_samples
        d = np.sqrt(sw * inv_n)
        if self.fit_intercept:
            x_mean = np.asarray(_dot(X.T, sw[:, None]))[:, 0] * inv_n
            y_mean = sw @ Y * inv_n
        else:
            x_mean = np.zeros(n_features)
            y_mean = np.zeros(Y.shape[1])
        B = (Y - y_mean) * d[:, None]

        C = None
        if sp.issparse(X):
            Xd = sp.diags(d.astype(X.dtype)) @ X
            Xd_mean = _dot(Xd, x_mean[:, None])[:, 0]
            if n_samples >= n_features:
                G = np.asarray((Xd.T @ Xd).toarray(), dtype=np.float64)
                G -= np.outer(x_mean, x_mean)  # sum of d^2 is 1
            else:
                K = (
                    np.asarray((Xd @ Xd.T).toarray(), dtype=np.float64)
                    - np.outer(Xd_mean, d)
                    - np.outer(d, Xd_mean)
                    + (x_mean @ x_mean) * np.outer(d, d)
                )
        else:
            # A_s = a_scale * A is the centred design with rows scaled by d
            A = X - x_mean.astype(X.dtype) if self.fit_intercept else X
            if np.any(sw != 1.0):
                A = A * d.astype(X.dtype)[:, None]
                a_scale = 1.0
            else:
                a_scale = np.sqrt(inv_n)
            if n_samples >= n_features:
                G = np.asarray(A.T @ A, dtype=np.float64) * a_scale**2
                C = _dot(A.T, B) * a_scale
            else:
                K = np.asarray(A @ A.T, dtype=np.float64) * a_scale**2

        def A_dot(M):
            # A @ M with the centring and weights kept implicit
            return d[:, None] * (_dot(X, M) - x_mean @ M)

        def AT_dot(N):
            # A^T @ N with the centring and weights kept implicit
            return _dot(X.T, d[:, None] * N) - np.outer(x_mean, d @ N)

        if n_samples >= n_features:
            with _serial_lapack():
                lam, Q = np.linalg.eigh((G + G.T) / 2)
            lam = np.maximum(lam, 0.0)
            Cr = Q.T @ (AT_dot(B) if C is None else C)

            def to_eig(U):
                return Q.T @ U

            def from_eig(U_eig):
                return Q @ U_eig

        else:
            with _serial_lapack():
                lam, E = np.linalg.eigh((K + K.T) / 2)
            keep = lam > max(lam[-1], 0.0) * n_samples * np.finfo(X.dtype).eps
            lam, E = lam[keep], E[:, keep]
            root = np.sqrt(lam)
            Cr = (E.T @ B) * root[:, None]

            def to_eig(U):
                return (E.T @ A_dot(U)) / root[:, None]

            def from_eig(U_eig):
                return AT_dot(E @ (U_eig / root[:, None]))

        lam = np.ascontiguousarray(lam)
        Cr = np.ascontiguousarray(Cr)
        n_tasks = Y.shape[1]
        with _serial_lapack():
            zero_solution = lam.size == 0 or np.linalg.norm(Cr, 2) <= alpha
        if zero_solution:
            # Cr has the singular values of C, the loss gradient at W = 0.
            return (
                np.zeros((n_features, k)),
                np.zeros((k, n_tasks)),
                x_mean,
                y_mean,
                1,
                0.0,
            )
        U0 = None if U_prev is None else _revive_columns(to_eig(U_prev), rng)
        if U0 is None:
            with _serial_lapack():
                U0 = _initial_factor(Cr / (lam + alpha)[:, None], k, rng)

        def evaluate(U_eig):
            V = np.ascontiguousarray(eigen_vstep(lam, Cr, U_eig, alpha))
            value, grad = eigen_loss_grad(lam, Cr, U_eig, V)
            return V, value, grad

        def u_step(U_eig, V, grad):
            return eigen_ustep(lam, Cr, V, alpha)

        with _serial_lapack():
            U_eig, V, n_iter, measure = _minimise(
                np.ascontiguousarray(U0),
                evaluate,
                u_step,
                0.0,
                alpha,
                self.max_iter,
                self.tol,
                self.verbose,
            )
        return from_eig(U_eig), V, x_mean, y_mean, n_iter, measure

    def _fit_masked(
        self, X, Y, mask, sw, observed_weight, k, alpha1, alpha2, U_prev, rng
    ):
        """Missing targets or an L1 part: ALS with matrix products over ``X``.

        Each task is centred on its own observed samples (``X_mean[t]``,
        ``y_mean[t]``); the centring of ``X`` stays implicit, so sparse ``X``
        keeps its sparsity.
        """
        n_samples, n_features = X.shape
        n_tasks = Y.shape[1]
        inv_n = 1.0 / n_samples
        W_obs = mask * sw[:, None]
        Y0 = np.where(mask, Y, 0.0)
        if self.fit_intercept:
            y_mean = (W_obs * Y0).sum(axis=0) / observed_weight
            X_mean = (_dot(X.T, W_obs) / observed_weight).T
        else:
            y_mean = np.zeros(n_tasks)
            X_mean = np.zeros((n_tasks, n_features))
        Yc = np.where(mask, Y0 - y_mean, 0.0)
        C = _dot(X.T, sw[:, None] * Yc) * inv_n
        # Global weighted mean of X: the per-task Gram matrices of Z = X U are
        # accumulated around it, so that little cancels when X is not centred.
        x_centre = None
        if self.fit_intercept:
            x_centre = _dot(X.T, sw[:, None])[:, 0] * inv_n

        # Per-task variances of the features, for the Jacobi preconditioner
        # and the diagonal ridge initialisation.
        X_sq = X.multiply(X) if sp.issparse(X) else X * X
        feature_var = np.maximum(
            (_dot(X_sq.T, W_obs) * inv_n).T
            - (observed_weight * inv_n)[:, None] * X_mean**2,
            0.0,
        )

        def represent(U):
            return _dot(X, U), X_mean @ U

        def vstep(U):
            Z, zbar = represent(U)
            z_centre = None if x_centre is None else x_centre @ U
            V = _masked_heads(
                Z, zbar, z_centre, Yc, sw, W_obs, observed_weight, alpha2, inv_n
            )
            return V, Z, zbar

        def loss_grad(V, Z, zbar):
            Q, value = _masked_rows(Z, V, zbar, Yc, W_obs, inv_n)
            return _dot(X.T, Q), value

        def hess(D, V):
            Z, zbar = represent(D)
            Q, _ = _masked_rows(Z, V, zbar, None, W_obs, inv_n)
            return _dot(X.T, Q)

        with _serial_lapack():
            zero_solution = np.linalg.norm(C, 2) <= alpha2
        if zero_solution:
            return (
                np.zeros((n_features, k)),
                np.zeros((k, n_tasks)),
                X_mean,
                y_mean,
                1,
                0.0,
            )
        U = None if U_prev is None else _revive_columns(U_prev, rng)
        if U is None:
            W0 = C / (feature_var.T + alpha2)
            with _serial_lapack():
                U = _initial_factor(W0, k, rng)

        lipschitz_X = None
        if alpha1 > 0:
            lipschitz_X = self._gram_norm(X, sw, inv_n, rng)

        def evaluate(U):
            V, Z, zbar = vstep(U)
            grad, value = loss_grad(V, Z, zbar)
            return V, value, grad

        def u_step(U, V, grad):
            if alpha1 == 0:
                precond = feature_var.T @ (V.T**2) + alpha2
                return _cg_ustep(U, V, grad + alpha2 * U, precond, alpha2, hess)
            return _prox_ustep(U, V, C @ V.T, alpha1, alpha2, lipschitz_X, hess)

        U, V, n_iter, measure = _minimise(
            U, evaluate, u_step, alpha1, alpha2, self.max_iter, self.tol, self.verbose
        )
        return U, V, X_mean, y_mean, n_iter, measure

    @staticmethod
    def _gram_norm(X, sw, inv_n, rng):
        """Largest eigenvalue of the weighted, globally centred Gram matrix.

        It bounds the curvature of the loss in ``U`` (per-task centring only
        lowers it), times ``||V||_2^2``. Power iteration.
        """
        x_mean = _dot(X.T, sw[:, None])[:, 0] * inv_n
        d = np.sqrt(sw * inv_n)
        v = rng.standard_normal((X.shape[1], 1))
        value = 0.0
        for _ in range(_POWER_ITERATIONS):
            v /= np.linalg.norm(v)
            Av = d[:, None] * (_dot(X, v) - x_mean @ v)
            v = _dot(X.T, d[:, None] * Av) - np.outer(x_mean, d @ Av)
            value = float(np.linalg.norm(v))
            if value == 0.0:
                break
        return 1.01 * value

    def predict(self, X):
        """Predict every task for every sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_tasks)
            Predictions; 1-D when the model was fit on a 1-D ``y``.
        """
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=[np.float64, np.float32],
            reset=False,
        )
        coef = self.coef_.astype(X.dtype, copy=False)
        return safe_sparse_dot(X, coef.T, dense_output=True) + self.intercept_

    def score(self, X, y, sample_weight=None):
        """Mean over tasks of the R^2 of each task on its observed entries.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.

        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            True targets; NaN marks a target that is not observed and is
            ignored. Tasks with fewer than two observed targets are skipped.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Mean R^2 over tasks.
        """
        y_pred = self.predict(X)
        y = check_array(
            y, ensure_2d=False, dtype=np.float64, ensure_all_finite="allow-nan"
        )
        check_consistent_length(y_pred, y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, y_pred)
        if not np.isnan(y).any():
            return float(r2_score(y, y_pred, sample_weight=sample_weight))
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        Y_pred = y_pred.reshape(Y.shape)
        scores = []
        for t in range(Y.shape[1]):
            observed = ~np.isnan(Y[:, t])
            if observed.sum() < 2:
                continue
            sw = None if sample_weight is None else sample_weight[observed]
            scores.append(
                r2_score(Y[observed, t], Y_pred[observed, t], sample_weight=sw)
            )
        return float(np.mean(scores)) if scores else float("nan")


def _masked_heads(Z, zbar, z_centre, Yc, sw, W_obs, observed_weight, alpha, inv_n):
    """Exact V step with missing targets: one ``k x k`` ridge system per task.

    Task ``t`` solves ``(A_t + alpha I) v_t = r_t`` with
    ``A_t = 1/n sum_{i in O_t} s_i (z_i - zbar_t)(z_i - zbar_t)^T`` and
    ``r_t = 1/n sum_{i in O_t} s_i (z_i - zbar_t) y_it``. All the ``A_t`` come
    from one matrix product over the pairwise products of the columns of
    ``Z - z_centre`` (in row blocks to bound memory), corrected by
    ``n_t (zbar_t - z_centre)(zbar_t - z_centre)^T``.

    Parameters
    ----------
    Z : ndarray of shape (n, k)
        Representation ``X U``.
    zbar : ndarray of shape (T, k)
        Per-task weighted means of ``Z`` over the observed rows.
    z_centre : ndarray of shape (k,) or None
        Global weighted mean of ``Z`` (None without intercept: no centring).
    Yc : ndarray of shape (n, T)
        Targets centred per task over the observed rows, 0 where missing.
    sw : ndarray of shape (n,)
    W_obs : ndarray of shape (n, T)
        Sample weight where observed, 0 where missing.
    observed_weight : ndarray of shape (T,)
        Column sums of ``W_obs``.
    alpha : float
    inv_n : float

    Returns
    -------
    V : ndarray of shape (k, T)
    """
    n, k = Z.shape
    n_tasks = W_obs.shape[1]
    Zc = Z if z_centre is None else Z - z_centre
    A = np.zeros((n_tasks, k * k))
    block = max(1, _PAIR_BLOCK_ENTRIES // (k * k))
    for start in range(0, n, block):
        Zb = Zc[start : start + block]
        pairs = (Zb[:, :, None] * Zb[:, None, :]).reshape(len(Zb), k * k)
        A += W_obs[start : start + block].T @ pairs
    A = A.reshape(n_tasks, k, k)
    if z_centre is not None:
        D = zbar - z_centre
        A -= observed_weight[:, None, None] * (D[:, :, None] * D[:, None, :])
    A *= inv_n
    A += alpha * np.eye(k)
    # the targets are centred over the observed rows: no correction needed
    rhs = (Zc.T @ (sw[:, None] * Yc)) * inv_n
    return np.linalg.solve(A, rhs.T[:, :, None])[:, :, 0].T


def _masked_rows(Z, V, zbar, Yc, W_obs, inv_n):
    """Sample-space factor of the loss gradient (or Hessian product) in ``U``.

    With ``e_it = (z_i - zbar_t) . v_t - y_it`` on the observed entries (the
    ``y`` term left out when ``Yc`` is None), returns ``Q`` with
    ``Q_i = 1/n sum_t s_i e_it v_t``, so that ``X^T Q`` is the gradient of the
    loss in ``U`` (or the Hessian applied to the direction ``Z = X D``), and
    the loss ``1/(2n) sum s_i e_it^2``.
    """
    E = Z @ V - np.einsum("tk,kt->t", zbar, V)
    if Yc is not None:
        E -= Yc
    WE = W_obs * E
    value = 0.5 * inv_n * np.vdot(WE, E)
    return (WE @ V.T) * inv_n, value


def _pseudo_gradient(grad, U, alpha1):
    """Minimum-norm subgradient of ``f(U) + alpha1 ||U||_1`` (``grad`` of f)."""
    if alpha1 == 0:
        return grad
    return np.where(U != 0, grad + alpha1 * np.sign(U), soft_threshold(grad, alpha1))


def _minimise(U, evaluate, u_step, alpha1, alpha2, max_iter, tol, verbose):
    """Minimise ``f(U) + alpha1 ||U||_1`` with ``f(U) = min_V F_smooth(U, V)``.

    ``evaluate(U)`` returns the exact ridge heads ``V(U)``, the data-fit value
    and its gradient in ``U``; by the envelope theorem that gradient plus
    ``alpha2 U`` is the gradient of ``f``. The iterations are L-BFGS steps on
    ``f`` with an Armijo backtracking line search; with an L1 part they are
    orthant-wise (OWL-QN: the pseudo-gradient replaces the gradient, the
    direction and the step are kept in the orthant of the current point). The
    first iteration, and any iteration whose line search fails, is an exact
    alternating step ``U = u_step(U, V, grad)`` (which always lowers the
    objective) and restarts the L-BFGS memory.

    Returns
    -------
    U, V, n_iter, measure
    """

    def objective(U, V, loss):
        value = loss + 0.5 * alpha2 * (np.vdot(U, U) + np.vdot(V, V))
        if alpha1 > 0:
            value += alpha1 * np.abs(U).sum()
        return value

    V, loss, grad_loss = evaluate(U)
    value = objective(U, V, loss)
    s_hist, y_hist = [], []
    measure = np.inf
    n_iter = 0
    for it in range(max_iter):
        grad = grad_loss + alpha2 * U
        pseudo_grad = _pseudo_gradient(grad, U, alpha1)
        accepted = False
        if s_hist:
            direction = -_lbfgs_direction(pseudo_grad, s_hist, y_hist)
            if alpha1 > 0:
                # keep the direction in the descent orthant, the step in the
                # orthant of U (zero entries take the sign of -pseudo_grad)
                direction[direction * pseudo_grad >= 0] = 0.0
                orthant = np.where(U != 0, np.sign(U), -np.sign(pseudo_grad))
            slope = np.vdot(pseudo_grad, direction)
            step = 1.0
            if np.isfinite(slope) and slope < 0:
                for _ in range(_LINE_SEARCH_STEPS):
                    U_new = U + step * direction
                    if alpha1 > 0:
                        U_new[np.sign(U_new) != orthant] = 0.0
                    V_new, loss_new, grad_loss_new = evaluate(U_new)
                    value_new = objective(U_new, V_new, loss_new)
                    decrease = np.vdot(pseudo_grad, U_new - U)
                    if value_new <= value + _ARMIJO * decrease:
                        accepted = True
                        break
                    step *= 0.5
        if not accepted:
            U_new = u_step(U, V, grad_loss)
            V_new, loss_new, grad_loss_new = evaluate(U_new)
            value_new = objective(U_new, V_new, loss_new)
            s_hist.clear()
            y_hist.clear()
        s_vec = U_new - U
        y_vec = grad_loss_new + alpha2 * U_new - grad
        sy = np.vdot(s_vec, y_vec)
        curvature_floor = 1e-10 * np.linalg.norm(s_vec) * np.linalg.norm(y_vec)
        if np.isfinite(sy) and sy > max(curvature_floor, 1e-250):
            s_hist.append(s_vec)
            y_hist.append(y_vec)
            if len(s_hist) > _LBFGS_MEMORY:
                s_hist.pop(0)
                y_hist.pop(0)
        U, V, loss, grad_loss, value = U_new, V_new, loss_new, grad_loss_new, value_new
        measure = _relative_stationarity(grad_loss, U, alpha1, alpha2)
        n_iter = it + 1
        if verbose:
            kind = "L-BFGS" if accepted else "alternating"
            print(
                f"iteration {n_iter} ({kind}): objective {value:.12e} "
                f"(up to a constant), relative stationarity {measure:.3e}"
            )
        if measure <= tol:
            break
    return U, V, n_iter, measure


def _lbfgs_direction(grad, s_hist, y_hist):
    """L-BFGS two-loop recursion: approximate inverse Hessian times ``grad``."""
    q = grad.copy()
    rhos = [1.0 / np.vdot(y, s) for s, y in zip(s_hist, y_hist)]
    alphas = []
    for s, y, rho in zip(reversed(s_hist), reversed(y_hist), reversed(rhos)):
        a = rho * np.vdot(s, q)
        alphas.append(a)
        q -= a * y
    s, y = s_hist[-1], y_hist[-1]
    q *= np.vdot(s, y) / np.vdot(y, y)
    for s, y, rho, a in zip(s_hist, y_hist, rhos, reversed(alphas)):
        b = rho * np.vdot(y, q)
        q += (a - b) * s
    return q


def _cg_ustep(U, V, grad, precond, alpha2, hess):
    """U step without L1 part: preconditioned conjugate gradient from ``U``.

    Solves ``H0(U) + alpha2 U = C V^T`` (``H0`` the Hessian of the loss in
    ``U``) until the residual has dropped by ``_CG_RTOL``; every iterate lowers
    the objective, so an early stop still makes progress.
    """
    U = U.copy()
    r = -grad
    r0 = np.linalg.norm(r)
    if r0 == 0.0:
        return U
    z = r / precond
    d = z
    rz = np.vdot(r, z)
    for _ in range(_CG_MAX_ITER):
        Hd = hess(d, V) + alpha2 * d
        curvature = np.vdot(d, Hd)
        if not curvature > 0:
            break
        step = rz / curvature
        U += step * d
        r -= step * Hd
        if np.linalg.norm(r) <= _CG_RTOL * r0:
            break
        z = r / precond
        rz_new = np.vdot(r, z)
        d = z + (rz_new / rz) * d
        rz = rz_new
    return U


def _prox_ustep(U, V, CVt, alpha1, alpha2, lipschitz_X, hess):
    """U step with an L1 part: accelerated proximal gradient from ``U``.

    Minimises ``1/2 <U, H U> - <C V^T, U> + alpha1 ||U||_1`` with
    ``H = H0 + alpha2 I``, step ``1 / (||G|| ||V||_2^2 + alpha2)``, restarting
    the momentum when it points uphill.
    """
    lipschitz = lipschitz_X * np.linalg.norm(V, 2) ** 2 + alpha2
    step = 1.0 / lipschitz
    x = U.copy()
    y = x
    momentum = 1.0
    first = None
    for _ in range(_PROX_MAX_ITER):
        grad = hess(y, V) + alpha2 * y - CVt
        x_new = soft_threshold(y - step * grad, step * alpha1)
        change = np.linalg.norm(x_new - x)
        if first is None:
            first = change
        if np.vdot(y - x_new, x_new - x) > 0:  # gradient restart
            momentum = 1.0
        momentum_new = (1.0 + np.sqrt(1.0 + 4.0 * momentum**2)) / 2.0
        y = x_new + ((momentum - 1.0) / momentum_new) * (x_new - x)
        x, momentum = x_new, momentum_new
        if change <= _PROX_RTOL * first:
            break
    return x
