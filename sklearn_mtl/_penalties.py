"""Elastic-net penalty: its value, proximal operator and duality gap.

Everything here works on the problem scaled by ``n_samples``, as scikit-learn's
coordinate descent does::

    P(w) = 1/2 ||y - X w||^2 + l1_reg ||w||_1 + l2_reg / 2 ||w||^2

with ``l1_reg = n * alpha * l1_ratio`` and ``l2_reg = n * alpha * (1 - l1_ratio)``.
Dividing ``P`` by ``n`` gives sklearn ``ElasticNet``'s objective.
"""

import numpy as np
from numba import njit


def penalty_strengths(alpha, l1_ratio, n_samples):
    """Return ``(l1_reg, l2_reg)`` of the n-scaled problem."""
    return n_samples * alpha * l1_ratio, n_samples * alpha * (1.0 - l1_ratio)


@njit(cache=True)
def enet_penalty_value(w, l1_reg, l2_reg):
    """``l1_reg ||w||_1 + l2_reg / 2 ||w||^2``."""
    l1 = 0.0
    l2 = 0.0
    for j in range(w.shape[0]):
        l1 += abs(w[j])
        l2 += w[j] * w[j]
    return l1_reg * l1 + 0.5 * l2_reg * l2


@njit(cache=True)
def enet_prox_coordinate(value, l1_threshold, l2_shrink, positive):
    """Prox of ``step * penalty`` at one coordinate.

    Soft-thresholding by ``l1_threshold = step * l1_reg`` for the L1 part, then
    shrinkage by ``1 / (1 + l2_shrink)`` with ``l2_shrink = step * l2_reg`` for
    the L2 part (weight decay). ``positive`` projects onto ``w >= 0``.
    """
    if positive:
        if value <= l1_threshold:
            return 0.0
        return (value - l1_threshold) / (1.0 + l2_shrink)
    if value > l1_threshold:
        return (value - l1_threshold) / (1.0 + l2_shrink)
    if value < -l1_threshold:
        return (value + l1_threshold) / (1.0 + l2_shrink)
    return 0.0


@njit(cache=True)
def enet_duality_gap(w, residual, y, Xt_residual, l1_reg, l2_reg, positive, lipschitz):
    """Duality gap of the n-scaled elastic net at ``w``.

    ``residual = y - X w`` and ``Xt_residual = X.T @ residual``.

    With an L2 part the dual is smooth and ``theta = residual`` is feasible::

        D(theta) = theta.y - ||theta||^2 / 2 - ||S(X.T theta)||^2 / (2 l2_reg)

    where ``S`` soft-thresholds at ``l1_reg`` (or keeps the part above ``l1_reg``
    when ``positive``). For the pure Lasso the residual is rescaled into the dual
    feasible set ``||X.T theta||_inf <= l1_reg`` as sklearn does. Without any
    penalty there is no dual; the returned measure is then ``||X.T r||^2 / (2 L)``,
    the decrease that one gradient step of size ``1 / L`` guarantees, which is
    zero exactly at an optimum.
    """
    r_norm2 = 0.0
    r_dot_y = 0.0
    for i in range(residual.shape[0]):
        r_norm2 += residual[i] * residual[i]
        r_dot_y += residual[i] * y[i]
    return enet_duality_gap_products(
        w, r_norm2, r_dot_y, Xt_residual, l1_reg, l2_reg, positive, lipschitz
    )


@njit(cache=True)
def enet_duality_gap_products(
    w, r_norm2, r_dot_y, Xt_residual, l1_reg, l2_reg, positive, lipschitz
):
    """:func:`enet_duality_gap` from ``||r||^2``, ``r.y`` and ``X.T r`` only.

    This is what a solver working on the Gram matrix ``X.T X`` has.
    """
    n_features = w.shape[0]
    primal = 0.5 * r_norm2 + enet_penalty_value(w, l1_reg, l2_reg)

    if l2_reg > 0.0:
        excess_norm2 = 0.0
        for j in range(n_features):
            z = Xt_residual[j]
            if positive:
                excess = max(z - l1_reg, 0.0)
            else:
                excess = max(abs(z) - l1_reg, 0.0)
            excess_norm2 += excess * excess
        dual = r_dot_y - 0.5 * r_norm2 - 0.5 * excess_norm2 / l2_reg
        return primal - dual

    if l1_reg > 0.0:
        dual_norm = 0.0
        for j in range(n_features):
            z = Xt_residual[j] if positive else abs(Xt_residual[j])
            if z > dual_norm:
                dual_norm = z
        scale = 1.0
        if dual_norm > l1_reg:
            scale = l1_reg / dual_norm
        dual = scale * r_dot_y - 0.5 * scale * scale * r_norm2
        return primal - dual

    grad_norm2 = 0.0
    for j in range(n_features):
        grad_norm2 += Xt_residual[j] * Xt_residual[j]
    return 0.5 * grad_norm2 / lipschitz


def enet_objective(X, y, coef, intercept, alpha, l1_ratio, sample_weight=None):
    """sklearn ``ElasticNet``'s objective at ``(coef, intercept)`` (float64).

    Sample weights are rescaled to sum to ``n_samples``.
    """
    n_samples = X.shape[0]
    residual = np.asarray(y, dtype=np.float64) - (
        np.asarray(X @ np.asarray(coef, dtype=np.float64)).ravel() + intercept
    )
    if sample_weight is None:
        sample_weight = np.ones(n_samples)
    sample_weight = np.asarray(sample_weight, dtype=np.float64)
    sample_weight = sample_weight * (n_samples / sample_weight.sum())
    coef = np.asarray(coef, dtype=np.float64)
    return (
        0.5 * np.dot(sample_weight, residual**2) / n_samples
        + alpha * l1_ratio * np.abs(coef).sum()
        + 0.5 * alpha * (1.0 - l1_ratio) * np.dot(coef, coef)
    )
