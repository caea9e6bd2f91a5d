"""Input checks shared by the estimators."""

import numpy as np
from sklearn.utils.validation import _check_sample_weight


def rescaled_sample_weight(sample_weight, X):
    """Validated non-negative sample weights in float64, rescaled to sum to n.

    Rescaling makes integer weights equivalent to repeated rows in objectives
    that average over ``n_samples``, as scikit-learn does.
    """
    n_samples = X.shape[0]
    sw = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    total = sw.sum()
    if not total > 0:
        raise ValueError("sample_weight must have a positive sum.")
    return sw * (n_samples / total)
