"""Regularised and multi-task linear models for scikit-learn.

Public names are loaded on first access (PEP 562): importing the package stays
cheap, and a process that only fits ``RegularizedGDRegressor`` never imports
the multi-task modules.
"""

import importlib

__version__ = "0.1.0.dev0"

# Public name -> the private module that defines it.
_PUBLIC_MODULES = {
    "RegularizedGDRegressor": "._linear._regressor",
    "RegularizedGDRegressorCV": "._linear._cv",
    "regularized_gd_path": "._linear._path",
    "MultiTaskSharedRepRegressor": "._multitask._regressor",
    "MultiTaskSharedRepRegressorCV": "._multitask._cv",
    "MultiTaskSharedRepClassifier": "._multitask._classifier",
    "MultiTaskSharedRepClassifierCV": "._multitask._cv",
}

__all__ = sorted(_PUBLIC_MODULES) + ["__version__"]


def __getattr__(name):
    if name in _PUBLIC_MODULES:
        value = getattr(importlib.import_module(_PUBLIC_MODULES[name], __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    if name in ("datasets", "metrics"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC_MODULES) | {"datasets", "metrics"})
