"""One pass over the rows: a function on every block, its results reduced.

A pass maps ``func(X_b, Y_b, S_b, params)`` over the blocks of rows (``X``
with one chunk along its columns, ``Y`` and the weights ``S`` with the same
row chunks; ``Y`` and ``S`` may be None) in a single Dask graph, so that
inputs computed from a common source (``X`` and ``y`` generated together,
say) are computed once. ``params`` is shipped once per pass as one key of
the graph, not copied into every task.

The results are reduced on the workers, in a fixed tree (the grouping depends
on the block order only, never on which worker finished first), so a fit is
reproducible to the last bit: only the small reduced result reaches the
client.
"""

import functools
import uuid

import numpy as np

from ._input import import_dask

# Partial results merged per task of the reduction tree.
SPLIT_EVERY = 8


class _Boxed:
    """Wrap a block function's result (any object) in a 1 x 1 object array,
    the block of an object-dtype dask array."""

    def __init__(self, func):
        self.func = func

    def __call__(self, *args):
        out = np.empty((1, 1), dtype=object)
        out[0, 0] = self.func(*args)
        return out


class _Row:
    """Wrap a block function returning a flat float64 vector as a 1-row block."""

    def __init__(self, func):
        self.func = func

    def __call__(self, *args):
        return np.asarray(self.func(*args), dtype=np.float64).reshape(1, -1)


def _blockwise(wrapper, out_dtype, width, X, Y, S, params):
    dask, da = import_dask()
    # The layer's name shows in the dashboard and in error reports.
    name = f"sklearn_mtl-{wrapper.func.__name__.strip('_')}-{uuid.uuid4().hex}"
    shipped = None if params is None else dask.delayed(params)
    args = [X, "ij"]
    for extra, index in ((Y, "it"), (S, "is")):
        args += [extra, index] if extra is not None else [None, None]
    args += [shipped, None]
    return da.blockwise(
        wrapper,
        "ik",
        *args,
        name=name,
        new_axes={"k": width},
        adjust_chunks={"i": 1},
        dtype=out_dtype,
        meta=np.empty((0, 0), dtype=out_dtype),
        concatenate=True,
    )


def reduce_pass(func, merge, X, Y=None, S=None, params=None):
    """Run ``func`` on every block of rows; merge the results (any objects)
    pairwise with ``merge(a, b)``, on the workers; return the merged result."""
    dask, _ = import_dask()
    boxes = _blockwise(_Boxed(func), object, 1, X, Y, S, params)
    level = list(boxes.to_delayed().ravel())
    combine = functools.partial(_merge_all, merge)
    if len(level) == 1:
        level = [dask.delayed(combine)(level[0])]
    while len(level) > 1:
        level = [
            dask.delayed(combine)(*level[i : i + SPLIT_EVERY])
            for i in range(0, len(level), SPLIT_EVERY)
        ]
    return dask.compute(level[0])[0]


def sum_pass(func, width, X, Y=None, S=None, params=None):
    """Run ``func`` (returning a float64 vector of length ``width``) on every
    block of rows and return the sum of the vectors (one pass)."""
    rows = _blockwise(_Row(func), np.float64, width, X, Y, S, params)
    return rows.sum(axis=0, split_every=SPLIT_EVERY).compute()


def _unbox(item):
    if isinstance(item, np.ndarray) and item.dtype == object and item.shape == (1, 1):
        return item[0, 0]
    return item


def _merge_all(merge, *items):
    return functools.reduce(merge, [_unbox(item) for item in items])
