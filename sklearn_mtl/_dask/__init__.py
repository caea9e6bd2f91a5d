"""Scaling out with Dask: out-of-core fits and distributed searches.

Public helpers (see the user guide, "Scaling out with Dask"):

- :class:`WarmKernels`: a ``distributed`` worker plugin that loads (or
  compiles, once) the package's Numba kernels when a worker starts, so that
  no task of a search pays for them;
- :func:`warm_kernels`: the same in the current process;
- :func:`kernel_compilations`: which kernels this process compiled or loaded
  from the on-disk cache, per signature (``client.run(kernel_compilations)``
  asks every worker).

The estimators delegate here when ``fit``, ``predict``, ``transform`` or
``score`` receives a Dask collection (:func:`fit`, :func:`predict`,
:func:`transform`, :func:`score`); the data then stay on the workers.

Nothing in this package imports Dask before it is needed: the core estimators
work without the ``dask`` extra.
"""

__all__ = ["WarmKernels", "kernel_compilations", "warm_kernels"]


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


def warm_kernels():
    """Load or compile the package's Numba kernels in this process.

    Runs a few tiny fits that use every kernel with the dtypes and layouts
    the estimators pass them (float32 and float64, dense and sparse). A
    kernel found in Numba's on-disk cache is loaded, not compiled. Returns
    :func:`kernel_compilations` afterwards.
    """
    from ._warm import warm_kernels as _warm

    return _warm()


def kernel_compilations():
    """The kernels this process compiled or loaded, per signature.

    Returns
    -------
    counts : dict
        ``{kernel name: {signature: {"compiled": int, "loaded": int}}}`` for
        every Numba kernel of the package that has been imported: how many
        times each signature was compiled (a miss of the on-disk cache) and
        loaded from the cache. Gather it from every worker with
        ``client.run(kernel_compilations)``.
    """
    from ._warm import kernel_compilations as _counts

    return _counts()


def __getattr__(name):
    if name == "WarmKernels":
        from ._plugin import WarmKernels

        return WarmKernels
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {"WarmKernels"})
