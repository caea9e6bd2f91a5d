"""Numba kernels on workers: load (or compile) them once per process, count it.

The kernels are ``@njit(cache=True)``: the first process that needs a
signature compiles it and writes the machine code to Numba's on-disk cache
(``__pycache__`` beside the package, or ``NUMBA_CACHE_DIR``); every later
process, on any worker of the same machine type that sees the same cache,
loads it in milliseconds instead. Within a process a signature is loaded or
compiled at most once: the tasks of a search that a worker runs reuse it.
:func:`warm_kernels` pays that once per worker before any task runs.
"""

import importlib
import os
import sys
import warnings

import numpy as np

# The modules holding the package's Numba kernels.
KERNEL_MODULES = (
    "sklearn_mtl._kernels._coordinate_descent",
    "sklearn_mtl._kernels._cross_entropy",
    "sklearn_mtl._kernels._moments",
    "sklearn_mtl._kernels._prox",
)


def _dispatchers():
    """``(name, dispatcher)`` of every kernel of the imported kernel modules."""
    from numba.core.registry import CPUDispatcher

    for module_name in KERNEL_MODULES:
        module = sys.modules.get(module_name)
        if module is None:
            continue
        short = module_name.rsplit(".", 1)[1].lstrip("_")
        for attr, obj in sorted(vars(module).items()):
            if isinstance(obj, CPUDispatcher) and obj.__module__ == module_name:
                yield f"{short}.{attr}", obj


def kernel_compilations():
    """See :func:`sklearn_mtl.dask.kernel_compilations`."""
    counts = {}
    for name, dispatcher in _dispatchers():
        stats = dispatcher.stats
        signatures = set(stats.cache_hits) | set(stats.cache_misses)
        signatures |= {tuple(sig) for sig in dispatcher.signatures}
        if not signatures:
            continue
        counts[name] = {
            ", ".join(str(t) for t in sig): {
                "compiled": int(stats.cache_misses.get(sig, 0)),
                "loaded": int(stats.cache_hits.get(sig, 0)),
            }
            for sig in sorted(signatures, key=str)
        }
    return counts


def use_cache_dir(path):
    """Point Numba's on-disk cache at ``path`` for the kernels not yet imported.

    A kernel module fixes its cache location when it is imported; in a
    process that already imported one, set ``NUMBA_CACHE_DIR`` in the
    environment that starts the workers instead.
    """
    from numba.core import config

    loaded = [name for name in KERNEL_MODULES if name in sys.modules]
    if loaded:
        warnings.warn(
            f"cache_dir={path!r} cannot apply to kernel modules already imported in "
            f"this process ({', '.join(loaded)}); set NUMBA_CACHE_DIR in the "
            "workers' environment instead.",
            RuntimeWarning,
            stacklevel=2,
        )
    os.environ["NUMBA_CACHE_DIR"] = os.fspath(path)
    config.reload_config()


def warm_kernels():
    """See :func:`sklearn_mtl.dask.warm_kernels`."""
    import scipy.sparse as sp

    from .. import (
        MultiTaskSharedRepClassifier,
        MultiTaskSharedRepRegressor,
        RegularizedGDRegressor,
        regularized_gd_path,
    )

    for name in KERNEL_MODULES:
        importlib.import_module(name)
    rng = np.random.RandomState(0)
    X = rng.standard_normal((60, 6))
    y = X @ rng.standard_normal(6) + 0.1 * rng.standard_normal(60)
    Y_missing = np.column_stack([y, X[:, 0] - X[:, 1], X[:, 2]])
    Y_missing[::7, 1] = np.nan
    labels = np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0]).astype(float)
    classes3 = np.digitize(X[:, 3], [-0.5, 0.5])
    weights = rng.uniform(0.5, 1.5, 60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dtype in (np.float64, np.float32):
            Xd = X.astype(dtype)
            # Dense data in any order is copied to Fortran order, or read as
            # it is when Fortran-ordered and unweighted; sparse data as CSC.
            for data in (Xd, np.asfortranarray(Xd), sp.csc_matrix(Xd)):
                RegularizedGDRegressor("l1", alpha=0.01).fit(data, y)
                RegularizedGDRegressor("l1", alpha=0.01).fit(data, y, weights)
                regularized_gd_path(data, y, n_alphas=3)
                MultiTaskSharedRepRegressor(alpha=0.1, l1_ratio=0.5).fit(data, Y_missing)
            MultiTaskSharedRepClassifier(alpha=0.05).fit(Xd, labels)
            MultiTaskSharedRepClassifier(alpha=0.05).fit(Xd, classes3)
            MultiTaskSharedRepClassifier(
                alpha=0.05, l1_ratio=0.3, solver="fista"
            ).fit(Xd, labels)
    return kernel_compilations()
