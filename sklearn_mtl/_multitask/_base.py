"""What the two shared-representation estimators have in common.

Parameters and their constraints, the ``n_components`` check, warm starts,
the initial factor, ``transform`` (wrapped by scikit-learn's ``set_output``),
and the convergence warning.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import check_n_components

# Initial directions that the starting point does not span are drawn at
# random with this size relative to the leading one.
_RANDOM_INIT_SCALE = 1e-3


def initial_factor(W0, n_components, rng):
    """Leading left singular vectors of ``W0`` scaled by ``sqrt(sigma)``.

    Directions that ``W0`` does not span (rank below ``n_components``) are drawn
    at random, small, so that the solver can grow them if they lower the
    objective: a zero column would stay zero for ever.
    """
    dim = W0.shape[0]
    U0 = np.zeros((dim, n_components))
    if dim == 0 or not np.all(np.isfinite(W0)):
        return U0
    P, sigma, _ = np.linalg.svd(W0, full_matrices=False)
    top = sigma[0] if sigma.size else 0.0
    if top == 0.0:
        return U0
    m = min(n_components, sigma.size)
    n_spanned = int(np.count_nonzero(sigma[:m] > top * 1e-10))
    U0[:, :n_spanned] = P[:, :n_spanned] * np.sqrt(sigma[:n_spanned])
    if n_spanned < n_components:
        U0[:, n_spanned:] = rng.standard_normal((dim, n_components - n_spanned)) * (
            _RANDOM_INIT_SCALE * np.sqrt(top / dim)
        )
    return U0


def revive_columns(U, rng):
    """Warm-start factor with its (near-)zero columns redrawn small at random.

    A zero column of ``U`` is a saddle that no iteration leaves, so the
    components a previous fit switched off (at a larger ``alpha``, say) get a
    small random direction back. Returns None if ``U`` is zero altogether (the
    caller then starts cold).
    """
    norms = np.linalg.norm(U, axis=0)
    top = norms.max() if norms.size else 0.0
    if not top > 0.0:
        return None
    dead = norms <= top * 1e-8
    if dead.any():
        U = U.copy()
        U[:, dead] = rng.standard_normal((U.shape[0], int(dead.sum()))) * (
            _RANDOM_INIT_SCALE * top / np.sqrt(U.shape[0])
        )
    return U


def task_weights(task_weight, observed_weight):
    """Per-task weights ``c_t``, normalised so that ``sum_t c_t w_t = sum_t w_t``.

    ``w_t`` is each task's observed sample weight. None gives ones;
    "balanced" makes every task weigh the same in the loss whatever its
    number of rows (``c_t`` proportional to ``1 / w_t``); an array gives
    positive weights, one per task. The normalisation keeps ``alpha`` on the
    same scale, and makes task weights on tasks observed on their own rows the
    same as the corresponding sample weights.
    """
    n_tasks = observed_weight.shape[0]
    if task_weight is None:
        return np.ones(n_tasks)
    if isinstance(task_weight, str):
        c = 1.0 / observed_weight
    else:
        c = np.asarray(task_weight, dtype=np.float64)
        if c.shape != (n_tasks,):
            raise ValueError(
                f"task_weight must have one entry per task ({n_tasks}); got shape "
                f"{c.shape}."
            )
        if not (np.all(np.isfinite(c)) and np.all(c > 0)):
            raise ValueError("task_weight must hold finite positive numbers.")
        c = c / c.max()
    return c * (observed_weight.sum() / (c @ observed_weight))


def warn_not_converged(estimator, status, measure, tol, n_iter, measure_name,
                       stacklevel=3):
    """A ConvergenceWarning whose advice matches the way the solver stopped
    (shown ``stacklevel`` frames up)."""
    if status == "converged":
        return
    name = type(estimator).__name__
    head = f"{name} did not converge: the {measure_name} is {measure:.3e}, above tol={tol:.3e}"
    if status == "max_iter":
        advice = f" after max_iter={n_iter} iterations. Increase max_iter, or loosen tol."
    elif status == "stalled":
        advice = (
            f", and no step lowers the objective in floating point after {n_iter} "
            "iterations: rounding limits the accuracy here, so more iterations will "
            "not help. Loosen tol, or scale the features."
        )
    else:
        advice = (
            f": a non-finite value appeared after {n_iter} iterations and the solver "
            "kept its last finite iterate. Scale the features, or increase alpha."
        )
    warnings.warn(head + advice, ConvergenceWarning, stacklevel=stacklevel)


class BaseSharedRep(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Parameters, checks, warm start and ``transform`` of shared-rep models.

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

    def _n_components(self, n_features, n_columns, what):
        """``k``, checked against the data before anything is allocated."""
        return check_n_components(self.n_components, min(n_features, n_columns), what)

    def _previous_factor(self, n_features, n_components):
        """The previous ``U`` when warm starting, else None.

        A previous fit of another shape cannot be continued: that is an error,
        not a silent cold start.
        """
        if not (self.warm_start and hasattr(self, "components_")):
            return None
        if self.components_.shape != (n_components, n_features):
            raise ValueError(
                "warm_start=True needs the previous fit's shapes: components_ has "
                f"shape {self.components_.shape}, this fit needs "
                f"({n_components}, {n_features}). Set warm_start=False to refit "
                "from scratch."
            )
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
        if type(X).__module__.startswith("dask."):  # lazy, block by block
            from .. import _dask
            return _dask.transform(self, X)
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
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
