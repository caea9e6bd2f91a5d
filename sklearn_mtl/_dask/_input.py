"""Dask inputs: the in-memory checks, mirrored, and the rows cut into blocks.

Shapes, dtypes and lengths are checked at once, from the collections'
metadata; values (NaN, infinity, negative weights) are checked lazily, by the
block functions during the first pass over the data, which raise the same
``ValueError`` as the in-memory estimators (the scheduler re-raises it in the
client). Nothing here computes anything.
"""

import numpy as np

# The error message of a missing extra.
_EXTRA = (
    "Fitting on Dask collections needs dask[array] and distributed: "
    'pip install "sklearn_mtl[dask]".'
)


def import_dask():
    """``(dask, dask.array)``, or an ImportError that names the extra."""
    try:
        import dask
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - the extra is installed in CI
        raise ImportError(_EXTRA) from exc
    return dask, da


def is_dask_collection(obj):
    """The test the estimators' hooks use: a Dask collection, without importing Dask."""
    return type(obj).__module__.startswith("dask.")


def _estimator_name(estimator):
    return type(estimator).__name__


def check_X(estimator, X, *, reset):
    """A 2-D float32 or float64 dask array with one chunk along the columns.

    Mirrors ``validate_data(..., dtype=[np.float64, np.float32])``: other
    numeric dtypes become float64 (lazily), the number of features (and the
    feature names of a Dask DataFrame) is recorded (``reset``) or checked.
    """
    _, da = import_dask()
    names_source = None
    if hasattr(X, "to_dask_array") and hasattr(X, "columns"):
        # A Dask DataFrame: its empty pandas "meta" carries the column names.
        names_source = getattr(X, "_meta", None)
        X = X.to_dask_array(lengths=True)
    elif not isinstance(X, da.Array):
        raise TypeError(
            f"{_estimator_name(estimator)} accepts dask arrays and Dask "
            f"DataFrames; got {type(X).__module__}.{type(X).__name__}."
        )
    if X.ndim != 2:
        raise ValueError(
            f"Expected 2D array, got {X.ndim}D array instead: reshape your data "
            "(X.reshape(-1, 1) for a single feature, X.reshape(1, -1) for a "
            "single sample)."
        )
    if any(np.isnan(size) for size in X.shape):
        raise ValueError(
            "X has unknown chunk sizes (e.g. after boolean indexing); call "
            "X.compute_chunk_sizes() first."
        )
    n_samples, n_features = X.shape
    context = f" by {_estimator_name(estimator)}"
    if n_samples < 1:
        raise ValueError(
            f"Found array with {n_samples} sample(s) (shape={X.shape}) while a "
            f"minimum of 1 is required{context}."
        )
    if n_features < 1:
        raise ValueError(
            f"Found array with {n_features} feature(s) (shape={X.shape}) while a "
            f"minimum of 1 is required{context}."
        )
    kind = X.dtype.kind
    if kind == "c":
        raise ValueError("Complex data not supported.")
    if kind in "USV":
        raise ValueError(
            "X must be numeric: strings and bytes cannot be converted to float."
        )
    if X.dtype not in (np.float64, np.float32):
        X = X.astype(np.float64)
    # The same bookkeeping as validate_data, on an empty array of X's width
    # (or the DataFrame's empty meta, which has its column names).
    from sklearn.utils.validation import _check_feature_names, _check_n_features

    stand_in = names_source if names_source is not None else np.empty((0, n_features))
    _check_feature_names(estimator, stand_in, reset=reset)
    _check_n_features(estimator, np.empty((0, n_features)), reset=reset)
    return X.rechunk({1: -1}) if X.numblocks[1] > 1 else X


def _as_rows(values, X, name):
    """``values`` (numpy or dask) as a dask array with ``X``'s row chunks."""
    _, da = import_dask()
    if hasattr(values, "to_dask_array"):  # Dask Series / DataFrame
        values = values.to_dask_array(lengths=True)
    if not isinstance(values, da.Array):
        values = np.asarray(values)
    if values.ndim == 0 or values.ndim > 2:
        raise ValueError(
            f"{name} must be 1-D or 2-D; got an array of shape {values.shape}."
        )
    if any(np.isnan(size) for size in values.shape):
        raise ValueError(
            f"{name} has unknown chunk sizes; call compute_chunk_sizes() first."
        )
    if values.shape[0] != X.shape[0]:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"[{X.shape[0]}, {values.shape[0]}]"
        )
    chunks = (X.chunks[0],) + ((values.shape[1],) if values.ndim == 2 else ())
    if isinstance(values, da.Array):
        return values.rechunk(chunks)
    return da.from_array(values, chunks=chunks)


def check_targets(y, X, *, numeric=True):
    """Targets as a 2-D dask array ``(n_samples, n_targets)`` with ``X``'s
    row chunks, and the number of dimensions the user gave (1 or 2).

    ``numeric``: converted to float64 (regression); otherwise kept as they are
    (class labels, with NaN or None as missing markers).
    """
    Y = _as_rows(y, X, "y")
    ndim = Y.ndim
    if ndim == 1:
        Y = Y[:, None]
    if numeric:
        if Y.dtype.kind in "USVc":
            raise ValueError(
                f"y must be numeric for a regressor; got dtype {Y.dtype}."
            )
        if Y.dtype != np.float64:
            Y = Y.astype(np.float64)
    if Y.shape[1] < 1:
        raise ValueError("y has no target (0 columns).")
    return Y, ndim


def check_sample_weight(sample_weight, X):
    """None, or the weights as an ``(n_samples, 1)`` float64 dask array.

    A number means equal weights (None). Values are checked in the pass.
    """
    if sample_weight is None:
        return None
    if np.ndim(sample_weight) == 0 and not hasattr(sample_weight, "chunks"):
        value = float(sample_weight)
        if not np.isfinite(value):
            raise ValueError("sample_weight must be finite (no NaN or infinity).")
        if value < 0:
            raise ValueError("Negative values in data passed to `sample_weight`")
        if value == 0:
            raise ValueError("sample_weight must have a positive sum.")
        return None
    _, da = import_dask()
    if not isinstance(sample_weight, da.Array) and not hasattr(
        sample_weight, "to_dask_array"
    ):
        sample_weight = np.asarray(sample_weight)
    if sample_weight.ndim != 1:
        raise ValueError("Sample weights must be 1D array or scalar")
    if sample_weight.shape[0] != X.shape[0]:
        raise ValueError(
            f"sample_weight.shape == {tuple(sample_weight.shape)}, expected "
            f"{(X.shape[0],)}!"
        )
    s = _as_rows(sample_weight, X, "sample_weight")
    if s.dtype != np.float64:
        s = s.astype(np.float64)
    return s[:, None]


def check_weight_block(sb):
    """Raise the in-memory errors for a block of weights; return its largest."""
    lo, hi = float(sb.min(initial=np.inf)), float(sb.max(initial=-np.inf))
    if sb.size and not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError("sample_weight must be finite (no NaN or infinity).")
    if sb.size and lo < 0:
        raise ValueError("Negative values in data passed to `sample_weight`")
    return max(hi, 0.0)


def check_finite_block(block, name, allow_nan=False):
    """Raise sklearn's error when a block holds NaN (unless allowed) or infinity.

    Two reductions without temporaries (``max`` propagates NaN); the slow
    search for which value it was runs only when one is found.
    """
    if block.size == 0:
        return
    if allow_nan:
        top = np.fmax.reduce(block, axis=None)
        bottom = np.fmin.reduce(block, axis=None)
        if np.isinf(top) or np.isinf(bottom):
            raise ValueError(
                f"Input {name} contains infinity or a value too large for "
                f"{block.dtype!r}."
            )
        return
    if np.isfinite(block.max()) and np.isfinite(block.min()):
        return
    if np.isnan(block).any():
        raise ValueError(f"Input {name} contains NaN.")
    raise ValueError(
        f"Input {name} contains infinity or a value too large for {block.dtype!r}."
    )
