"""scikit-learn's coordinate-descent API on top of sklearn_mtl's estimators.

``tests/test_sklearn_suite.py`` runs scikit-learn's own tests for
:class:`~sklearn.linear_model.ElasticNet`, :class:`~sklearn.linear_model.Lasso`,
their CV classes and :func:`~sklearn.linear_model.enet_path` /
:func:`~sklearn.linear_model.lasso_path` with the names swapped for the ones
defined here. Each adapter only translates scikit-learn's signature into
ours:

* ``ElasticNet`` / ``Lasso`` are :class:`~sklearn_mtl.RegularizedGDRegressor`
  with ``penalty="elasticnet"`` / ``"l1"``; ``ElasticNetCV`` / ``LassoCV`` are
  :class:`~sklearn_mtl.RegularizedGDRegressorCV` likewise. They subclass ours,
  so ``fit``, ``predict``, ``score``, parameter validation and every fitted
  attribute are ours; only ``__init__`` (sklearn's parameter names) and a
  ``fit`` that drops sklearn-only arguments are added.
* ``enet_path`` / ``lasso_path`` call :func:`~sklearn_mtl.regularized_gd_path`
  with ``fit_intercept=False`` (scikit-learn's path functions never centre the
  data) and return its results unchanged.

scikit-learn parameters that we do not have are accepted when they cannot
change the optimum (they choose how sklearn's solver gets there, or whether it
copies/checks its input):

* ``precompute=True/False/"auto"``: whether sklearn's coordinate descent works
  on the Gram matrix; ours picks its own solver.
* ``selection``, ``random_state``, ``do_screening``: coordinate order and
  screening of sklearn's solver.
* ``copy_X``, ``check_input``: ours never writes into ``X`` and always
  validates its input.
* ``verbose`` of the path functions: printing only.

Parameters that can change the result, or that are sklearn plumbing, raise
:class:`NotApplicable`, so that a test using them fails loudly unless it is
listed in ``NOT_APPLICABLE`` of the suite module:

* ``precompute=<array>`` and ``Xy=<array>``: a user-supplied Gram matrix or
  ``X.T @ y``, which sklearn uses as given (ours always computes its own).
* ``sample_weight``, ``X_offset``, ``X_scale`` passed to the path functions:
  private hooks through which ``ElasticNet.fit`` hands pre-processed data to
  sklearn's path (our path function has ``sample_weight`` with the estimators'
  meaning, which is not what sklearn's path does with it).

One difference the adapters do not hide: with a 2-D ``y`` (several
targets), scikit-learn's path functions solve the multi-task problem (an
l2,1 penalty coupling the targets), while ``regularized_gd_path`` fits each
target independently, as ``ElasticNet`` does. Tests that only compare our
results with each other (dense against sparse input, say) are unaffected.

Nothing here special-cases a test or computes anything with scikit-learn's
estimators.
"""

import numpy as np
from sklearn.utils._param_validation import StrOptions

from sklearn_mtl import (
    RegularizedGDRegressor,
    RegularizedGDRegressorCV,
    regularized_gd_path,
)

__all__ = [
    "ElasticNet",
    "ElasticNetCV",
    "Lasso",
    "LassoCV",
    "NotApplicable",
    "enet_path",
    "lasso_path",
]


class NotApplicable(NotImplementedError):
    """A scikit-learn argument that has no counterpart in sklearn_mtl."""


def _reject_gram(precompute, where):
    """``precompute`` may choose sklearn's solver, but may not supply data."""
    if precompute is None or isinstance(precompute, (bool, np.bool_, str)):
        return
    raise NotApplicable(
        f"{where}: precompute=<Gram matrix> has no counterpart in sklearn_mtl "
        "(its solvers compute their own products from X)."
    )


# Constraints of the sklearn-only parameters (ours cover the shared ones).
_SKLEARN_ONLY = {
    "precompute": ["boolean", StrOptions({"auto"}), "array-like"],
    "copy_X": ["boolean"],
    "random_state": ["random_state"],
    "selection": [StrOptions({"cyclic", "random"})],
}


def _constraints(ours, drop=("penalty",)):
    constraints = {k: v for k, v in ours.items() if k not in drop}
    constraints.update(_SKLEARN_ONLY)
    return constraints


class ElasticNet(RegularizedGDRegressor):
    """``sklearn.linear_model.ElasticNet``'s signature for
    ``RegularizedGDRegressor(penalty="elasticnet")``."""

    penalty = "elasticnet"
    verbose = 0
    _parameter_constraints = _constraints(RegularizedGDRegressor._parameter_constraints)

    def __init__(
        self,
        alpha=1.0,
        *,
        l1_ratio=0.5,
        fit_intercept=True,
        precompute=False,
        max_iter=1000,
        copy_X=True,
        tol=1e-4,
        warm_start=False,
        positive=False,
        random_state=None,
        selection="cyclic",
    ):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.copy_X = copy_X
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection

    def fit(self, X, y, sample_weight=None, check_input=True):
        _reject_gram(self.precompute, type(self).__name__)
        return super().fit(X, y, sample_weight=sample_weight)


class Lasso(ElasticNet):
    """``sklearn.linear_model.Lasso``'s signature for
    ``RegularizedGDRegressor(penalty="l1")``."""

    penalty = "l1"
    l1_ratio = 1.0  # not a parameter: penalty="l1" fixes it
    _parameter_constraints = _constraints(
        RegularizedGDRegressor._parameter_constraints, drop=("penalty", "l1_ratio")
    )

    def __init__(
        self,
        alpha=1.0,
        *,
        fit_intercept=True,
        precompute=False,
        copy_X=True,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        positive=False,
        random_state=None,
        selection="cyclic",
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.copy_X = copy_X
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection


class _CVFit:
    """sklearn's ``LinearModelCV.fit`` signature, without a Gram matrix."""

    def fit(self, X, y, sample_weight=None, **params):
        _reject_gram(self.precompute, type(self).__name__)
        return super().fit(X, y, sample_weight=sample_weight, **params)


class ElasticNetCV(_CVFit, RegularizedGDRegressorCV):
    """``sklearn.linear_model.ElasticNetCV``'s signature for
    ``RegularizedGDRegressorCV(penalty="elasticnet")``."""

    penalty = "elasticnet"
    _parameter_constraints = _constraints(
        RegularizedGDRegressorCV._parameter_constraints
    )

    def __init__(
        self,
        *,
        l1_ratio=0.5,
        eps=1e-3,
        alphas=100,
        fit_intercept=True,
        precompute="auto",
        max_iter=1000,
        tol=1e-4,
        cv=None,
        copy_X=True,
        verbose=0,
        n_jobs=None,
        positive=False,
        random_state=None,
        selection="cyclic",
    ):
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.copy_X = copy_X
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.positive = positive
        self.random_state = random_state
        self.selection = selection


class LassoCV(_CVFit, RegularizedGDRegressorCV):
    """``sklearn.linear_model.LassoCV``'s signature for
    ``RegularizedGDRegressorCV(penalty="l1")``."""

    penalty = "l1"
    _parameter_constraints = _constraints(
        RegularizedGDRegressorCV._parameter_constraints, drop=("penalty", "l1_ratio")
    )

    def __init__(
        self,
        *,
        eps=1e-3,
        alphas=100,
        fit_intercept=True,
        precompute="auto",
        max_iter=1000,
        tol=1e-4,
        copy_X=True,
        cv=None,
        verbose=False,
        n_jobs=None,
        positive=False,
        random_state=None,
        selection="cyclic",
    ):
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.copy_X = copy_X
        self.cv = cv
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.positive = positive
        self.random_state = random_state
        self.selection = selection


# sklearn's enet_path takes its solver options as **params; these are the ones
# that only steer sklearn's coordinate descent.
_SOLVER_ONLY_PARAMS = ("random_state", "selection", "do_screening")
# ... and these are private plumbing from ElasticNet.fit into the path.
_PRIVATE_PARAMS = ("sample_weight", "X_offset", "X_scale")


def _path(X, y, penalty, l1_ratio, eps, n_alphas, alphas, precompute, Xy, coef_init,
          return_n_iter, positive, params):
    _reject_gram(precompute, f"{penalty} path")
    if Xy is not None:
        raise NotApplicable("Xy=<X.T @ y> has no counterpart in regularized_gd_path.")
    private = sorted(set(params) & set(_PRIVATE_PARAMS))
    if private:
        raise NotApplicable(
            f"{private}: private hooks of sklearn's path function (ElasticNet.fit "
            "passes pre-processed data through them)."
        )
    for name in _SOLVER_ONLY_PARAMS:
        params.pop(name, None)
    kwargs = {}
    if not (isinstance(n_alphas, str) and n_alphas == "deprecated"):
        kwargs["n_alphas"] = n_alphas
    if not (isinstance(alphas, str) and alphas == "warn"):
        kwargs["alphas"] = alphas
    # Anything else (tol, max_iter, or an unknown name) goes to ours as is.
    return regularized_gd_path(
        X,
        y,
        penalty=penalty,
        l1_ratio=l1_ratio,
        eps=eps,
        fit_intercept=False,
        coef_init=coef_init,
        positive=positive,
        return_n_iter=return_n_iter,
        **kwargs,
        **params,
    )


def enet_path(
    X,
    y,
    *,
    l1_ratio=0.5,
    eps=1e-3,
    n_alphas="deprecated",
    alphas="warn",
    precompute="auto",
    Xy=None,
    copy_X=True,
    coef_init=None,
    verbose=False,
    return_n_iter=False,
    positive=False,
    check_input=True,
    **params,
):
    """``sklearn.linear_model.enet_path``'s signature for
    ``regularized_gd_path(penalty="elasticnet", fit_intercept=False)``."""
    return _path(X, y, "elasticnet", l1_ratio, eps, n_alphas, alphas, precompute, Xy,
                 coef_init, return_n_iter, positive, params)


def lasso_path(
    X,
    y,
    *,
    eps=1e-3,
    n_alphas="deprecated",
    alphas="warn",
    precompute="auto",
    Xy=None,
    copy_X=True,
    coef_init=None,
    verbose=False,
    return_n_iter=False,
    positive=False,
    **params,
):
    """``sklearn.linear_model.lasso_path``'s signature for
    ``regularized_gd_path(penalty="l1", fit_intercept=False)``."""
    return _path(X, y, "l1", 1.0, eps, n_alphas, alphas, precompute, Xy, coef_init,
                 return_n_iter, positive, params)


#: sklearn.linear_model name -> adapter.
ADAPTERS = {
    "ElasticNet": ElasticNet,
    "ElasticNetCV": ElasticNetCV,
    "Lasso": Lasso,
    "LassoCV": LassoCV,
    "enet_path": enet_path,
    "lasso_path": lasso_path,
}
