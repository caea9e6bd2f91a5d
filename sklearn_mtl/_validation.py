"""Input checks shared by every estimator: weights, missing entries, sizes."""

import numpy as np
from sklearn.utils.validation import _check_sample_weight


def rescaled_sample_weight(sample_weight, X):
    """Validated non-negative sample weights in float64, rescaled to sum to n.

    Rescaling makes integer weights equivalent to repeated rows in objectives
    that average over ``n_samples``, as scikit-learn does. The weights are
    divided by their largest value first, so that huge (1e307) or subnormal
    (1e-320) weights neither overflow nor lose their ratios in the sum.
    """
    n_samples = X.shape[0]
    sw = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight must be finite (no NaN or infinity).")
    largest = sw.max() if sw.size else 0.0
    if not largest > 0:
        raise ValueError("sample_weight must have a positive sum.")
    sw = sw / largest
    return sw * (n_samples / sw.sum())


def check_n_components(n_components, upper, what):
    """The number of shared components, checked before anything is allocated.

    ``upper`` is the largest useful rank and ``what`` says what bounds it (for
    the error message). ``None`` means ``upper``.
    """
    if n_components is None:
        return int(upper)
    if not 1 <= n_components <= upper:
        raise ValueError(
            f"n_components={n_components} must be between 1 and {what}={upper}."
        )
    return int(n_components)


def missing_mask(values):
    """Boolean mask of the entries that mark "not observed".

    NaN in a float array; None, NaN or pandas' ``NA`` (and ``NaT``) in an
    object array. Works on arrays of any shape.
    """
    values = np.asarray(values)
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind != "O":
        return np.zeros(values.shape, dtype=bool)
    flat = values.ravel()
    mask = np.fromiter((_is_missing(v) for v in flat), dtype=bool, count=flat.size)
    return mask.reshape(values.shape)


def _is_missing(value):
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return bool(np.isnan(value))
    # pandas.NA and NaT: compared with anything they give NA or False, and
    # are not equal to themselves; avoid importing pandas for the check.
    kind = type(value).__name__
    return kind in ("NAType", "NaTType")


def as_float_targets(y):
    """Numeric targets with every missing marker (None, ``pd.NA``) as NaN.

    Object or pandas-extension arrays of numbers with missing entries become
    float64 arrays; anything else is returned as it is for the usual checks.
    """
    if hasattr(y, "to_numpy") and hasattr(y, "dtype"):  # pandas Series/DataFrame
        try:
            y = y.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            y = y.to_numpy()
    if y is None:
        return y
    y = np.asarray(y) if not hasattr(y, "shape") else y
    if getattr(y, "dtype", None) is not None and y.dtype.kind == "O" and y.ndim:
        mask = missing_mask(y)
        if mask.any():
            filled = np.where(mask, np.nan, y)
            try:
                return filled.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    "y must be numeric: it holds values that are neither numbers "
                    "nor missing markers."
                ) from None
    return y


# A cast that changes values by more than this (relative to the largest) has
# lost them to overflow, underflow or subnormal precision, not rounding.
_CAST_TOLERANCE = 2.0**-10


def in_data_dtype(values, dtype, name, floor=0.0):
    """``values`` (float64) in the data's ``dtype``, or a clear error.

    Fitted attributes take the dtype of ``X``, as scikit-learn's do. When the
    solution does not fit in it (float32 data whose model is below 1e-38 or
    above 3e38, say from targets of that size), the cast would return zeros
    or infinities without a word: raise instead, naming the way out.
    Changes are measured against the largest value, or ``floor`` when that
    is larger: the size below which the caller's model does not notice.
    """
    values = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"The fitted {name} overflows float64: the features are too small "
            "next to the targets for the solution to be represented. Scale X "
            "(or y)."
        )
    with np.errstate(over="ignore", invalid="ignore"):
        cast = values.astype(dtype)
        if np.dtype(dtype) == np.float64:
            return cast
        largest = np.abs(values).max(initial=0.0)
        if largest == 0.0:
            return cast
        error = np.abs(cast.astype(np.float64) - values).max() / max(largest, floor)
    if not error <= _CAST_TOLERANCE:
        info = np.finfo(dtype)
        raise ValueError(
            f"The fitted {name} (largest magnitude {largest:.3g}) cannot be "
            f"stored in {np.dtype(dtype).name}, the dtype of X (magnitudes "
            f"{info.smallest_normal:.3g} to {info.max:.3g}): fit on "
            "X.astype(np.float64), or rescale y."
        )
    return cast
