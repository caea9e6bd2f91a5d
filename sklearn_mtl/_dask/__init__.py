"""Out-of-core fits and lazy outputs on Dask collections.

The estimators delegate here when ``fit``, ``predict``, ``transform`` or
``score`` receives a Dask collection (:func:`fit`, :func:`predict`,
:func:`transform`, :func:`score`); the data then stay on the workers. The
public tools that prepare the workers are in :mod:`sklearn_mtl.dask`.

Nothing in this package imports Dask before it is needed: the core estimators
work without the ``dask`` extra.
"""


def _kind(estimator):
    """Which out-of-core implementation serves ``estimator``."""
    from .._linear._regressor import RegularizedGDRegressor

    if isinstance(estimator, RegularizedGDRegressor):
        return "linear"
    from .._multitask._classifier import MultiTaskSharedRepClassifier
    from .._multitask._regressor import MultiTaskSharedRepRegressor

    if isinstance(estimator, MultiTaskSharedRepRegressor):
        return "shared_regressor"
    if isinstance(estimator, MultiTaskSharedRepClassifier):
        return "shared_classifier"
    raise TypeError(
        f"{type(estimator).__name__} has no out-of-core implementation for Dask "
        "collections."
    )


def fit(estimator, X, y, sample_weight=None):
    """Fit ``estimator`` on dask arrays without gathering them; returns it."""
    kind = _kind(estimator)
    if kind == "linear":
        from ._linear import fit_regularized

        return fit_regularized(estimator, X, y, sample_weight)
    if kind == "shared_regressor":
        from ._multitask import fit_shared_regressor

        return fit_shared_regressor(estimator, X, y, sample_weight)
    from ._classifier import fit_shared_classifier

    return fit_shared_classifier(estimator, X, y, sample_weight)


def predict(estimator, X):
    """``estimator.predict`` block by block: a lazy dask array."""
    from ._predict import predict as _predict

    return _predict(estimator, X)


def transform(estimator, X):
    """``estimator.transform`` block by block: a lazy dask array."""
    from ._predict import transform as _transform

    return _transform(estimator, X)


def score(estimator, X, y, sample_weight=None):
    """``estimator.score`` from one pass of per-block sums: a float."""
    from ._predict import score as _score

    return _score(estimator, X, y, sample_weight)
