"""Penalties: their value, proximal operator and optimality measure.

Elastic net on ``w`` (the linear model), on the problem scaled by
``n_samples`` as scikit-learn's coordinate descent does::

    P(w) = 1/2 ||y - A w||^2 + l1_reg ||w||_1 + l2_reg / 2 ||w||^2

with ``l1_reg = n * alpha * l1_ratio`` and ``l2_reg = n * alpha * (1 - l1_ratio)``
(``P / n`` is sklearn ``ElasticNet``'s objective). Factor penalty on ``(U, V)``
(the multi-task models)::

    alpha2 / 2 (||U||_F^2 + ||V||_F^2) + alpha1 ||U||_1

The prox of both is :func:`enet_prox` (soft-thresholding then shrinkage).
"""

import numpy as np

from ._kernels._prox import enet_prox_array, enet_prox_scalar

__all__ = [
    "enet_duality_gap",
    "enet_objective",
    "enet_penalty_value",
    "enet_prox",
    "enet_prox_scalar",
    "factor_penalty_value",
    "factor_pseudo_gradient",
    "factor_stationarity",
    "penalty_strengths",
]


def penalty_strengths(alpha, l1_ratio, n_samples):
    """Return ``(l1_reg, l2_reg)`` of the n-scaled problem."""
    return n_samples * alpha * l1_ratio, n_samples * alpha * (1.0 - l1_ratio)


def enet_penalty_value(w, l1_reg, l2_reg):
    """``l1_reg ||w||_1 + l2_reg / 2 ||w||^2``."""
    value = 0.0
    if l1_reg:
        value += l1_reg * np.abs(w).sum()
    if l2_reg:
        value += 0.5 * l2_reg * float(w @ w)
    return value


def enet_prox(values, l1_threshold, l2_shrink=0.0, positive=False):
    """Prox of ``step * penalty`` entry-wise (``l1_threshold = step * l1``).

    Soft-thresholding, then shrinkage by ``1 / (1 + l2_shrink)``; projection
    onto ``w >= 0`` when ``positive``. Returns a new float64 array.
    """
    values = np.ascontiguousarray(values, dtype=np.float64)
    return enet_prox_array(
        values, float(l1_threshold), float(l2_shrink), bool(positive)
    )


def enet_duality_gap(w, r_norm2, r_dot_y, grad, l1_reg, l2_reg, positive, penalty=None):
    """Duality gap of the n-scaled elastic net at ``w``.

    Needs only ``||r||^2``, ``r.y`` and ``grad = A.T r`` for ``r = y - A w``.
    With an L2 part the dual is smooth and ``theta = r`` is feasible::

        D(theta) = theta.y - ||theta||^2 / 2 - ||S(A.T theta)||^2 / (2 l2_reg)

    where ``S`` soft-thresholds at ``l1_reg`` (keeps the part above it when
    ``positive``). With the L1 part alone, ``r`` is rescaled into the dual
    feasible set ``||A.T theta||_inf <= l1_reg`` as scikit-learn does. The gap
    bounds the suboptimality ``P(w) - min P``. Without any penalty there is no
    bounded dual: use :mod:`sklearn_mtl._solvers.quadratic` instead.
    ``penalty``, when given, is ``enet_penalty_value(w, l1_reg, l2_reg)``.
    """
    if penalty is None:
        penalty = enet_penalty_value(w, l1_reg, l2_reg)
    primal = 0.5 * r_norm2 + penalty
    correlation = np.maximum(grad, 0.0) if positive else np.abs(grad)
    if l2_reg > 0:
        excess = np.maximum(correlation - l1_reg, 0.0)
        dual = r_dot_y - 0.5 * r_norm2 - 0.5 * float(excess @ excess) / l2_reg
    else:
        dual_norm = correlation.max(initial=0.0)
        scale = 1.0 if dual_norm <= l1_reg else l1_reg / dual_norm
        dual = scale * r_dot_y - 0.5 * scale * scale * r_norm2
    return primal - dual


def enet_objective(X, y, coef, intercept, alpha, l1_ratio, sample_weight=None):
    """sklearn ``ElasticNet``'s objective at ``(coef, intercept)`` (float64).

    Sample weights are rescaled to sum to ``n_samples``. A reference for tests
    and benchmarks: it does not use the solvers' internal scaling.
    """
    n_samples = X.shape[0]
    coef = np.asarray(coef, dtype=np.float64)
    residual = np.asarray(y, dtype=np.float64) - (
        np.asarray(X @ coef).ravel() + intercept
    )
    if sample_weight is None:
        sample_weight = np.ones(n_samples)
    sample_weight = np.asarray(sample_weight, dtype=np.float64)
    sample_weight = sample_weight * (n_samples / sample_weight.sum())
    return (
        0.5 * np.dot(sample_weight, residual**2) / n_samples
        + alpha * l1_ratio * np.abs(coef).sum()
        + 0.5 * alpha * (1.0 - l1_ratio) * np.dot(coef, coef)
    )


def factor_penalty_value(U, V, alpha1, alpha2):
    """``alpha2 / 2 (||U||^2 + ||V||^2) + alpha1 ||U||_1``."""
    value = 0.5 * alpha2 * (np.vdot(U, U) + np.vdot(V, V))
    if alpha1 > 0:
        value += alpha1 * np.abs(U).sum()
    return float(value)


def factor_pseudo_gradient(grad, U, alpha1):
    """Minimum-norm subgradient of ``f(U) + alpha1 ||U||_1`` given ``grad`` of f."""
    if alpha1 == 0:
        return grad
    shrunk = enet_prox(grad, alpha1).reshape(grad.shape)
    return np.where(U != 0, grad + alpha1 * np.sign(U), shrunk)


def factor_stationarity(grad_loss, U, alpha1, alpha2):
    """``||d_U F|| / max(||grad_U loss||, ||d_U penalty||)``, scale free.

    ``d_U F`` is the minimum-norm subgradient of the objective in ``U`` (at
    the exact heads the gradient in ``V`` is zero) and ``d_U penalty`` the
    penalty's part of it. Zero exactly at a stationary point.
    """
    g = factor_pseudo_gradient(grad_loss + alpha2 * U, U, alpha1)
    pen = alpha2 * U + alpha1 * np.sign(U)
    den = max(np.linalg.norm(grad_loss), np.linalg.norm(pen))
    if den == 0.0:
        return 0.0
    return float(np.linalg.norm(g) / den)
