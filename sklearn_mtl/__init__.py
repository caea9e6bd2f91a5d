"""Regularised and multi-task linear models for scikit-learn."""

from ._regularized import RegularizedGDRegressor

__version__ = "0.1.0.dev0"

__all__ = [
    "RegularizedGDRegressor",
    "__version__",
]
