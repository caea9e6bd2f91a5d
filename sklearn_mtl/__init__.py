"""Regularised and multi-task linear models for scikit-learn."""

from ._path import RegularizedGDRegressorCV, regularized_gd_path
from ._regularized import RegularizedGDRegressor
from ._shared_rep import MultiTaskSharedRepRegressor
from ._shared_rep_classifier import MultiTaskSharedRepClassifier

__version__ = "0.1.0.dev0"

__all__ = [
    "MultiTaskSharedRepClassifier",
    "MultiTaskSharedRepRegressor",
    "RegularizedGDRegressor",
    "RegularizedGDRegressorCV",
    "__version__",
    "regularized_gd_path",
]
