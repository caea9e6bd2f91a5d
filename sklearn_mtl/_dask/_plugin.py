"""The worker plugin that warms the kernels when a worker starts.

``distributed`` is imported only when :class:`WarmKernels` is first used
(``sklearn_mtl._dask.WarmKernels``), so that importing this module, e.g.
while collecting doctests, costs nothing and works without the extra.
"""

import asyncio

from ._input import _EXTRA


def _make_class():
    try:
        from distributed.diagnostics.plugin import WorkerPlugin
    except ImportError as exc:  # pragma: no cover - the extra is installed in CI
        raise ImportError(_EXTRA) from exc

    class WarmKernels(WorkerPlugin):
        """Load or compile sklearn_mtl's Numba kernels once, when a worker starts.

        Register it once per cluster with ``client.register_plugin(
        WarmKernels())``: every current and future worker then runs
        :func:`~sklearn_mtl._dask.warm_kernels` before its first task, so that
        the tasks of a search (``GridSearchCV`` or the CV estimators under
        ``joblib.parallel_config(backend="dask")``) never wait for a kernel.
        A worker that finds a kernel in Numba's on-disk cache loads it (a few
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
            It applies when the worker has not yet imported the kernels,
            which is the case at start-up.
        """

        name = "sklearn_mtl-warm-kernels"

        def __init__(self, cache_dir=None):
            self.cache_dir = cache_dir

        async def setup(self, worker):
            from . import _warm

            if self.cache_dir is not None:
                _warm.use_cache_dir(self.cache_dir)
            # In a thread: the worker keeps answering the scheduler meanwhile.
            await asyncio.get_running_loop().run_in_executor(None, _warm.warm_kernels)

    WarmKernels.__module__ = __name__
    WarmKernels.__qualname__ = "WarmKernels"
    return WarmKernels


_CLASS = None


def __getattr__(name):
    global _CLASS
    if name == "WarmKernels":
        if _CLASS is None:
            _CLASS = _make_class()
        return _CLASS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
