"""scikit-learn's own tests of ElasticNet, Lasso, their CV classes and paths,
run against sklearn_mtl through the adapters of ``_sklearn_adapter.py``.

Nothing is copied: the test functions are imported from the installed
``sklearn.linear_model.tests`` modules and run with the names they look up
swapped for the adapters.

How
---
A test function looks ``ElasticNet`` (or ``linear_model.Lasso``) up in its
module's globals when it runs. So each selected function is re-exported here,
wrapped in a function that sets the adapted names in the sklearn test module
for the duration of the call only (``pytest.MonkeyPatch.context()``):

* ``ElasticNet``, ``ElasticNetCV``, ``Lasso``, ``LassoCV``, ``enet_path`` and
  ``lasso_path`` where the module imported them by name;
* ``linear_model`` where the module writes ``linear_model.Lasso``: a module
  object that has the six adapted names and forwards every other name (e.g.
  ``lars_path``, ``LassoLars``) to ``sklearn.linear_model``.

The wrapper has the function's signature (``functools.wraps``: pytest sees
the same arguments and fixtures) and its marks, so pytest collects it as it
would collect the original. The values of ``pytest.mark.parametrize`` were
evaluated when sklearn's module was imported, so those marks are rebuilt:

* a value that is one of the six sklearn objects (class, estimator instance,
  path function) becomes the adapter (an instance becomes
  ``Adapter(**instance.get_params())``);
* in a parametrization that lists adapted objects, the parameter sets that
  list none (``MultiTaskLasso``, ``Ridge``, ``SGDRegressor`` ...) are dropped:
  they test scikit-learn, not us;
* parametrizations over ``precompute`` (``SAME_FOR_US``) keep the first value
  only: it chooses sklearn's solver, the adapters ignore it, and the other
  sets would repeat the same computation;
* parameter sets named in ``NOT_APPLICABLE`` (``test[arg=value]`` keys) are
  dropped.

Other marks (``filterwarnings`` ...) are kept as they are. The wrapped
functions are grouped in one class per sklearn module, as static methods:
``TestCoordinateDescent::test_lasso_toy``.

Which tests
-----------
* ``test_coordinate_descent.py`` and ``test_sparse_coordinate_descent.py``
  test ElasticNet/Lasso/their CV/paths (and the multi-task models and
  private helpers): every test function there is run or listed in
  ``NOT_APPLICABLE`` with its reason; ``test_every_sklearn_test_is_accounted_for``
  checks this against the installed scikit-learn.
* ``test_least_angle.py`` (LARS against ``Lasso``/``lasso_path``),
  ``test_sgd.py`` (SGD against ``ElasticNet``) and ``test_common.py``
  (properties of all linear models): the tests that use one of the adapted
  names, with the parameter sets that do.

Tests and parameter sets in ``NOT_APPLICABLE`` are not collected. Each reason
names the scikit-learn feature the test needs and our estimators do not
have, or the scikit-learn internal it checks. A test that fails for any
other reason stays in the run.

``global_random_seed`` is scikit-learn's fixture (sklearn's conftest is not
loaded here): 42, or ``SKLEARN_TESTS_GLOBAL_RANDOM_SEED`` (an int, ``a-b`` or
``all``) as in scikit-learn.
"""

import functools
import importlib
import os
import types
import warnings

import _sklearn_adapter as adapter
import pytest
import sklearn.linear_model
from sklearn.base import BaseEstimator

# sklearn test module -> whether every test function in it must be run or
# listed in NOT_APPLICABLE (True), or only the tests that use an adapted name
# are taken (False).
SOURCES = {
    "test_coordinate_descent": True,
    "test_sparse_coordinate_descent": True,
    "test_least_angle": False,
    "test_sgd": False,
    "test_common": False,
}

_MULTITASK = (
    "tests only the MultiTask* estimators (l2,1-penalised multi-task models), "
    "which sklearn_mtl's linear estimators do not implement"
)

_GRAM = (
    "passes a user-supplied Gram matrix (precompute=<array>), which sklearn "
    "uses as given; RegularizedGDRegressor takes no precomputed products (the "
    "adapter raises NotApplicable)"
)

#: "<sklearn test module>::<test function>" -> why it does not apply;
#: "...::<test function>[<argname>=<value>]" for the parameter sets of a
#: parametrized test whose ``argname`` has that value (compared as ``str``).
NOT_APPLICABLE = {
    # -- sklearn internals ------------------------------------------------
    "test_coordinate_descent::test_set_order_dense": (
        "tests the private helper sklearn.linear_model._coordinate_descent."
        "_set_order; no estimator involved"
    ),
    "test_coordinate_descent::test_set_order_sparse": (
        "tests the private helper sklearn.linear_model._coordinate_descent."
        "_set_order; no estimator involved"
    ),
    "test_coordinate_descent::test_cython_solver_equivalence": (
        "tests sklearn's private Cython solvers (sklearn.linear_model._cd_fast) "
        "against each other; no estimator involved"
    ),
    "test_coordinate_descent::test_lassoCV_does_not_set_precompute": (
        "monkeypatches sklearn.linear_model._coordinate_descent.Lasso to check "
        "the precompute value LassoCV passes to sklearn's internal refit; "
        "RegularizedGDRegressorCV has no precompute and refits with "
        "RegularizedGDRegressor"
    ),
    "test_coordinate_descent::test_check_input_false": (
        "checks fit(..., check_input=False), with which sklearn skips "
        "validation, so that C-ordered X must raise ValueError in its "
        "Fortran-only Cython solver; RegularizedGDRegressor.fit has no "
        "check_input, always validates, and takes any memory layout"
    ),
    "test_coordinate_descent::test_enet_copy_X_False_check_input_False": (
        "asserts that sklearn overwrites X in place with copy_X=False and "
        "check_input=False; RegularizedGDRegressor has neither parameter and "
        "never writes into X"
    ),
    "test_coordinate_descent::test_path_unknown_parameter": (
        "checks enet_path's **params catch-all (solver options arrive as "
        "**params, leftovers raise ValueError 'Unexpected parameters in "
        "params'); regularized_gd_path has an explicit signature (an unknown "
        "keyword is Python's TypeError) and has fit_intercept, the parameter "
        "the test passes as unexpected"
    ),
    "test_coordinate_descent::test_path_function_deprecated_n_alphas": (
        "checks scikit-learn 1.9's FutureWarnings deprecating n_alphas and "
        "alphas=None in enet_path/lasso_path; in regularized_gd_path both are "
        "regular, non-deprecated parameters"
    ),
    "test_coordinate_descent::test_enet_path_positive": (
        "its second half requires enet_path/lasso_path to reject positive=True "
        "with 2-D y, because there sklearn's path is the multi-task (l2,1) "
        "problem, which has no positive option; regularized_gd_path fits the "
        "targets of a 2-D y independently (ElasticNet's convention), where "
        "positive=True is defined"
    ),
    "test_coordinate_descent::test_enet_nonfinite_params": (
        "expects ValueError for X near the largest float; we rescale such data "
        "by powers of two and fit it correctly (asked for by issue #9), which "
        "tests/test_regularized.py checks"
    ),
    "test_coordinate_descent::test_warm_start": (
        "exact n_iter_ semantics: asserts that two warm-started fits of 5 "
        "sklearn coordinate-descent epochs equal one of 10; our max_iter counts "
        "working-set epochs and a warm start may take the exact solve on the "
        "support"
    ),
    "test_coordinate_descent::test_lasso_dual_gap": (
        "compares dual_gap_ with its formula at rtol=1e-7, while our converged "
        "gap is rounding noise (4e-15 on an objective of 0.2); the formula is "
        "checked on a gap far from rounding in tests/test_regularized.py"
    ),
    "test_coordinate_descent::test_1d_multioutput_enet_and_multitask_enet_cv": (
        "compares with sklearn's MultiTaskElasticNetCV, an estimator we do not "
        "have, to 7 decimals at default tol: ours is 1e-14 from the optimum, "
        "sklearn's multi-task fit 1e-4"
    ),
    "test_coordinate_descent::test_1d_multioutput_lasso_and_multitask_lasso_cv": (
        "compares with sklearn's MultiTaskLassoCV, an estimator we do not have, "
        "to 7 decimals at default tol: ours is 1e-14 from the optimum, "
        "sklearn's multi-task fit 1e-4"
    ),
    "test_least_angle::test_lasso_lars_vs_lasso_cd_ill_conditioned2": (
        "asserts that sklearn's LassoLars is at least as good as the "
        "coordinate-descent Lasso; ours finds a lower objective (21.87500 "
        "against LassoLars' 21.87619), which the test cannot tell from a worse one"
    ),
    "test_coordinate_descent::test_lasso_alpha_warning": (
        "checks sklearn's UserWarning that coordinate descent converges badly "
        "with alpha=0 (advising LinearRegression); with alpha=0 "
        "RegularizedGDRegressor runs no iterative solver but a direct "
        "least-squares solve (LSQR for large sparse X), so the warning's premise "
        "does not hold"
    ),
    # -- user-supplied Gram matrix --------------------------------------------
    "test_coordinate_descent::test_enet_toy": _GRAM + " (in the 4th of its 5 fits)",
    "test_coordinate_descent::test_elasticnet_precompute_incorrect_gram": (
        "checks the validation of a user-supplied Gram matrix "
        "(precompute=<array>), which RegularizedGDRegressor does not take"
    ),
    "test_coordinate_descent::test_elasticnet_precompute_gram_weighted_samples": _GRAM,
    "test_coordinate_descent::test_elasticnet_precompute_gram": _GRAM,
    "test_coordinate_descent::test_overridden_gram_matrix": (
        "checks the warning sklearn gives when it recomputes a user-supplied "
        "Gram matrix (precompute=<array>), which RegularizedGDRegressor does "
        "not take"
    ),
    "test_coordinate_descent::test_enet_float_precision": (
        _GRAM + " (precompute=X.T @ X in half of its fits)"
    ),
    # -- attributes we do not have ----------------------------------------------
    "test_sparse_coordinate_descent::test_sparse_coef": (
        "tests the sparse_coef_ property (coef_ as a scipy.sparse matrix), "
        "which RegularizedGDRegressor does not have"
    ),
    # -- multi-task estimators only -------------------------------------------
    "test_coordinate_descent::test_enet_ridge_consistency[n_targets=3]": (
        "with n_targets=3 the test fits sklearn's MultiTaskElasticNet (and "
        "Ridge) only: " + _MULTITASK
    ),
    "test_coordinate_descent::test_multi_task_lasso_vs_skglm": _MULTITASK,
    "test_coordinate_descent::test_multi_task_lasso_and_enet": _MULTITASK,
    "test_coordinate_descent::test_multi_task_lasso_readonly_data": _MULTITASK,
    "test_coordinate_descent::test_multitask_enet_and_lasso_cv": _MULTITASK,
    "test_coordinate_descent::test_warm_start_multitask_lasso": _MULTITASK,
    "test_coordinate_descent::test_convergence_warnings": _MULTITASK,
    "test_coordinate_descent::test_multi_task_lasso_cv_dtype": _MULTITASK,
}

#: Parametrized arguments that only steer sklearn's solver: the adapters
#: ignore them, so the parameter sets that differ only in their value would
#: repeat the same computation. Only the sets with the first value listed are
#: collected.
SAME_FOR_US = ("precompute",)


# --------------------------------------------------------------------------
# The swap
# --------------------------------------------------------------------------
class _AdaptedLinearModel(types.ModuleType):
    """``sklearn.linear_model`` with the adapted names replaced."""

    def __getattr__(self, name):
        return getattr(sklearn.linear_model, name)


_LINEAR_MODEL = _AdaptedLinearModel("sklearn.linear_model")
for _name, _adapted in adapter.ADAPTERS.items():
    setattr(_LINEAR_MODEL, _name, _adapted)

# id(sklearn object) -> adapter, for parametrize values.
_BY_SKLEARN_ID = {
    id(getattr(sklearn.linear_model, name)): adapted
    for name, adapted in adapter.ADAPTERS.items()
}
_ADAPTED_NAMES = frozenset(adapter.ADAPTERS)


def _patches(module):
    """``(name, replacement)`` for the sklearn names ``module`` looks up."""
    for name, adapted in adapter.ADAPTERS.items():
        if getattr(module, name, None) is getattr(sklearn.linear_model, name):
            yield name, adapted
    if getattr(module, "linear_model", None) is sklearn.linear_model:
        yield "linear_model", _LINEAR_MODEL


def _swap(value):
    """The adapter for one of the six sklearn objects, else ``value``."""
    adapted = _BY_SKLEARN_ID.get(id(value))
    if adapted is not None:
        return adapted
    if isinstance(value, BaseEstimator):
        adapted = _BY_SKLEARN_ID.get(id(type(value)))
        if adapted is not None:
            return adapted(**value.get_params(deep=False))
    return value


_PARAMETER_SET = type(pytest.param(None))


def _split_key(key):
    """``"module::test[arg=value]"`` -> ``("module::test", ("arg", "value"))``."""
    if not key.endswith("]"):
        return key, None
    test, _, condition = key[:-1].partition("[")
    argname, _, value = condition.partition("=")
    return test, (argname, value)


_NA_TESTS = {k for k in NOT_APPLICABLE if _split_key(k)[1] is None}
_NA_ITEMS = {}  # "module::test" -> [(NOT_APPLICABLE key, (argname, value))]
for _key in NOT_APPLICABLE:
    _test, _condition = _split_key(_key)
    if _condition is not None:
        _NA_ITEMS.setdefault(_test, []).append((_key, _condition))
_NA_ITEMS_MATCHED = set()  # the item-level keys that dropped a parameter set


def _swap_parametrize(mark, not_applicable=()):
    """The ``parametrize`` mark with adapted values, and whether any was.

    When some parameter sets hold an adapted object, the others are dropped,
    and so are those that ``not_applicable`` (``[(key, (argname, value))]``)
    names.
    """
    argnames, argvalues = mark.args
    kwargs = dict(mark.kwargs)
    names = argnames
    if isinstance(argnames, str):
        names = [n.strip() for n in argnames.split(",") if n.strip()]
    single = len(names) == 1
    rebuilt = []
    for value in argvalues:
        if isinstance(value, _PARAMETER_SET):
            values, marks, id_ = value.values, value.marks, value.id
        else:
            values, marks, id_ = ((value,) if single else tuple(value)), (), None
        swapped = tuple(_swap(v) for v in values)
        adapted = any(s is not v for s, v in zip(swapped, values))
        rebuilt.append((adapted, pytest.param(*swapped, marks=marks, id=id_)))
    any_adapted = any(adapted for adapted, _ in rebuilt)
    keep = [adapted or not any_adapted for adapted, _ in rebuilt]
    for name in SAME_FOR_US:
        if name in names:
            i = names.index(name)
            kept = [p.values[i] for (_, p), k in zip(rebuilt, keep) if k]
            keep = [
                k and type(p.values[i]) is type(kept[0]) and p.values[i] == kept[0]
                for (_, p), k in zip(rebuilt, keep)
            ]
    for key, (argname, value) in not_applicable:
        if argname in names:
            i = names.index(argname)
            drop = [str(p.values[i]) == value for _, p in rebuilt]
            if any(d and k for d, k in zip(drop, keep)):
                _NA_ITEMS_MATCHED.add(key)
            keep = [k and not d for k, d in zip(keep, drop)]
    ids = kwargs.get("ids")
    if ids is not None and not callable(ids):
        kwargs["ids"] = [i for i, k in zip(ids, keep) if k]
    params = [p for (_, p), k in zip(rebuilt, keep) if k]
    return pytest.mark.parametrize(argnames, params, **kwargs).mark, any_adapted


def _names_used(code):
    """Global and attribute names looked up by ``code`` and nested code."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names_used(const)
    return names


def _adapt(func, module, not_applicable=()):
    """The test function run with the adapters, or None if it uses none."""
    uses = bool(_names_used(func.__code__) & _ADAPTED_NAMES)
    marks = []
    for mark in getattr(func, "pytestmark", []):
        if mark.name == "parametrize":
            mark, adapted = _swap_parametrize(mark, not_applicable)
            uses = uses or adapted
        marks.append(mark)
    if not uses:
        return None

    @functools.wraps(func)
    def run(*args, **kwargs):
        with pytest.MonkeyPatch.context() as mp:
            for name, replacement in _patches(module):
                mp.setattr(module, name, replacement)
            return func(*args, **kwargs)

    run.pytestmark = marks
    return run


def _sklearn_tests(module):
    """``{name: function}`` of the test functions of a sklearn test module."""
    return {
        name: obj
        for name, obj in vars(module).items()
        if name.startswith("test_")
        and isinstance(obj, types.FunctionType)
        and obj.__module__ == module.__name__
    }


def _collect():
    modules, classes, selected = {}, {}, {}
    for short in SOURCES:
        with warnings.catch_warnings():
            # test_sgd marks a test with sklearn's own registered mark.
            warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
            module = importlib.import_module(f"sklearn.linear_model.tests.{short}")
        modules[short] = module
        members = {}
        for name, func in _sklearn_tests(module).items():
            if f"{short}::{name}" in _NA_TESTS:
                continue
            run = _adapt(func, module, _NA_ITEMS.get(f"{short}::{name}", ()))
            if run is not None:
                members[name] = staticmethod(run)
        selected[short] = set(members)
        class_name = "Test" + "".join(w.title() for w in short.split("_")[1:])
        classes[class_name] = type(class_name, (), members)
    return modules, classes, selected


_MODULES, _CLASSES, _SELECTED = _collect()
globals().update(_CLASSES)


def _random_seeds():
    value = os.environ.get("SKLEARN_TESTS_GLOBAL_RANDOM_SEED")
    if value is None:
        return [42]
    if value == "all":
        return list(range(100))
    if "-" in value:
        start, stop = value.split("-")
        return list(range(int(start), int(stop) + 1))
    return [int(value)]


def pytest_generate_tests(metafunc):
    """scikit-learn's ``global_random_seed`` (see the module docstring)."""
    if "global_random_seed" in metafunc.fixturenames:
        metafunc.parametrize("global_random_seed", _random_seeds())


def test_every_sklearn_test_is_accounted_for():
    """Every test function of the fully covered sklearn modules is run or
    listed in NOT_APPLICABLE, and every listed test exists (so that a
    scikit-learn upgrade that adds, renames or removes tests shows here)."""
    unmatched = {k for k in NOT_APPLICABLE if k not in _NA_TESTS} - _NA_ITEMS_MATCHED
    assert not unmatched, f"listed parameter sets that match nothing: {unmatched}"
    for short, every in SOURCES.items():
        names = set(_sklearn_tests(_MODULES[short]))
        listed = {k.split("::")[1] for k in _NA_TESTS if k.startswith(short + "::")}
        assert listed <= names, f"{short}: listed but not in sklearn: {listed - names}"
        assert not listed & _SELECTED[short]
        if every:
            missing = names - listed - _SELECTED[short]
            assert not missing, f"{short}: neither run nor listed: {sorted(missing)}"
