"""Proximal operator of the elastic net, for one coordinate and for an array.

Every soft-thresholding in the package is this one function: the coordinate
solvers call the scalar form in their loops, and the factor models apply the
array form to ``U``.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def enet_prox_scalar(value, l1_threshold, l2_shrink, positive):
    """Prox of ``step * (l1 |w| + l2 / 2 w^2)`` at ``value``.

    Soft-thresholding by ``l1_threshold = step * l1`` for the L1 part, then
    shrinkage by ``1 / (1 + l2_shrink)`` with ``l2_shrink = step * l2`` for the
    L2 part (weight decay). ``positive`` projects onto ``w >= 0``.
    """
    if value > l1_threshold:
        return (value - l1_threshold) / (1.0 + l2_shrink)
    if value < -l1_threshold and not positive:
        return (value + l1_threshold) / (1.0 + l2_shrink)
    return 0.0


@njit(cache=True)
def enet_prox_array(values, l1_threshold, l2_shrink, positive):
    """:func:`enet_prox_scalar` applied to every entry of a C-contiguous array."""
    out = np.empty_like(values)
    flat_in = values.ravel()
    flat_out = out.ravel()
    for i in range(flat_in.shape[0]):
        flat_out[i] = enet_prox_scalar(flat_in[i], l1_threshold, l2_shrink, positive)
    return out
