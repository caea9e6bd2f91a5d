"""Tools for running the estimators on a Dask cluster.

The estimators themselves need nothing from this module: under joblib's Dask
backend their searches run on the cluster, and ``fit``, ``predict``,
``transform`` and ``score`` accept dask arrays (see the user guide, "Scaling
out with Dask"). What it holds prepares the workers:

- :class:`WarmKernels`: a ``distributed`` worker plugin that loads (or
  compiles, once) the package's Numba kernels when a worker starts, so that
  no task of a search waits for them;
- :func:`warm_kernels`: the same in the current process;
- :func:`kernel_compilations`: which kernels this process compiled or loaded
  from the on-disk cache (``client.run(kernel_compilations)`` asks every
  worker).

Importing this module needs the ``dask`` extra (``pip install
"sklearn_mtl[dask]"``); ``import sklearn_mtl`` never imports Dask.
"""

import asyncio

try:
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError as exc:  # pragma: no cover - the extra is installed in CI
    raise ImportError(
        "sklearn_mtl.dask needs dask and distributed: "
        'pip install "sklearn_mtl[dask]".'
    ) from exc

from ._dask import _warm

__all__ = ["WarmKernels", "kernel_compilations", "warm_kernels"]


class WarmKernels(WorkerPlugin):
    """Load or compile sklearn_mtl's Numba kernels once, when a worker starts.

    Register it once per cluster with ``client.register_plugin(
    WarmKernels())``: every current and future worker then runs
    :func:`warm_kernels` before its first task, so that the tasks of a search
    (``GridSearchCV`` or the CV estimators under
    ``joblib.parallel_config(backend="dask")``) never wait for a kernel. A
    worker that finds a kernel in Numba's on-disk cache loads it (a few
    milliseconds); one that does not compiles it once and writes it there
    for the others.

    Parameters
    ----------
    cache_dir : str or path-like, default=None
        Directory of Numba's on-disk cache on the workers (for instance a
        shared file system, or a directory baked into the workers' image):
        compiled once for the cluster, not once per machine. None keeps
        Numba's choice (``__pycache__`` beside the installed package when
        writable, else ``NUMBA_CACHE_DIR`` or the user's cache directory).
        It applies when the worker has not yet imported the kernels, which
        is the case at start-up.

    See Also
    --------
    kernel_compilations : Which kernels a process compiled or loaded.

    Examples
    --------
    >>> from distributed import Client  # doctest: +SKIP
    >>> from sklearn_mtl.dask import WarmKernels
    >>> client = Client("tcp://scheduler:8786")  # doctest: +SKIP
    >>> client.register_plugin(WarmKernels())  # doctest: +SKIP
    """

    name = "sklearn_mtl-warm-kernels"

    def __init__(self, cache_dir=None):
        self.cache_dir = cache_dir

    async def setup(self, worker):
        if self.cache_dir is not None:
            _warm.use_cache_dir(self.cache_dir)
        # In a thread: the worker keeps answering the scheduler meanwhile.
        await asyncio.get_running_loop().run_in_executor(None, _warm.warm_kernels)


def warm_kernels():
    """Load or compile the package's Numba kernels in this process.

    Runs a few tiny fits that use every kernel with the dtypes and layouts
    the estimators pass them (float32 and float64, dense and sparse). A
    kernel found in Numba's on-disk cache is loaded, not compiled.

    Returns
    -------
    counts : dict
        :func:`kernel_compilations` afterwards.
    """
    return _warm.warm_kernels()


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
    return _warm.kernel_compilations()
