"""Cross-entropy of many classification heads read from one score matrix.

The estimator stacks the class columns of every task into one score matrix
``S`` of shape ``(n_samples, n_columns)``: task ``t`` owns the columns
``offsets[t]:offsets[t + 1]``. A task with one column is a binary (logistic)
head whose score is the log-odds of its second class; a task with ``m >= 2``
columns is a softmax head over ``m`` classes.

Labels are encoded per task as integers in ``[0, n_classes_t)`` in ``Y`` of
shape ``(n_samples, n_tasks)``, with ``-1`` marking a missing label.
``weights`` holds the weight of each observed label (sample weight times class
weight divided by ``n_samples``; its value for missing labels is ignored).

These kernels are plain ``@njit(cache=True)`` functions over arrays and scalars.
Scalar arithmetic is carried out in float64 and the gradient is written into an
output array of the score's dtype, so float32 and float64 scores both compile
without type-unification problems.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def _log1pexp(z):
    """``log(1 + exp(z))`` without overflow, for a float64 scalar ``z``."""
    if z > 0.0:
        return z + np.log1p(np.exp(-z))
    return np.log1p(np.exp(z))


@njit(cache=True)
def _row_logsumexp(S, i, start, m):
    """``log(sum(exp(S[i, start:start + m])))`` in float64, shifted by the max."""
    smax = np.float64(S[i, start])
    for j in range(1, m):
        smax = max(smax, np.float64(S[i, start + j]))
    acc = 0.0
    for j in range(m):
        acc += np.exp(np.float64(S[i, start + j]) - smax)
    return smax + np.log(acc)


@njit(cache=True)
def multitask_cross_entropy(S, Y, weights, offsets):
    """Weighted cross-entropy of all observed labels.

    Parameters
    ----------
    S : ndarray of shape (n_samples, n_columns), float32 or float64
        Scores of every task's head (linear predictor plus intercept).
    Y : ndarray of shape (n_samples, n_tasks), int
        Encoded labels, ``-1`` for a missing label.
    weights : ndarray of shape (n_samples, n_tasks), float64
        Weight of each observed label.
    offsets : ndarray of shape (n_tasks + 1,), int
        Task ``t`` owns the columns ``offsets[t]:offsets[t + 1]`` of ``S``.

    Returns
    -------
    loss : float
        ``sum_{(i, t) observed} weights[i, t] * cross_entropy_t(S[i], Y[i, t])``.
    """
    n_samples = S.shape[0]
    n_tasks = Y.shape[1]
    loss = 0.0
    for i in range(n_samples):
        for t in range(n_tasks):
            label = Y[i, t]
            if label < 0:
                continue
            w = weights[i, t]
            start = offsets[t]
            m = offsets[t + 1] - start
            if m == 1:
                s = np.float64(S[i, start])
                if label == 1:
                    loss += w * _log1pexp(-s)
                else:
                    loss += w * _log1pexp(s)
            else:
                lse = _row_logsumexp(S, i, start, m)
                loss += w * (lse - np.float64(S[i, start + label]))
    return loss


@njit(cache=True)
def multitask_cross_entropy_grad(S, Y, weights, offsets, dS):
    """Weighted cross-entropy and its gradient with respect to the scores.

    Parameters are those of :func:`multitask_cross_entropy`, plus

    dS : ndarray of shape (n_samples, n_columns), same dtype as ``S``
        Output: the gradient of the loss with respect to ``S``. Entries of
        samples whose label is missing for a task are set to zero.

    Returns
    -------
    loss : float
    """
    n_samples = S.shape[0]
    n_tasks = Y.shape[1]
    loss = 0.0
    for i in range(n_samples):
        for t in range(n_tasks):
            start = offsets[t]
            m = offsets[t + 1] - start
            label = Y[i, t]
            if label < 0:
                for j in range(m):
                    dS[i, start + j] = 0.0
                continue
            w = weights[i, t]
            if m == 1:
                s = np.float64(S[i, start])
                if s >= 0.0:
                    e = np.exp(-s)
                    p = 1.0 / (1.0 + e)
                else:
                    e = np.exp(s)
                    p = e / (1.0 + e)
                if label == 1:
                    loss += w * _log1pexp(-s)
                    dS[i, start] = w * (p - 1.0)
                else:
                    loss += w * _log1pexp(s)
                    dS[i, start] = w * p
            else:
                lse = _row_logsumexp(S, i, start, m)
                loss += w * (lse - np.float64(S[i, start + label]))
                for j in range(m):
                    p = np.exp(np.float64(S[i, start + j]) - lse)
                    if j == label:
                        p -= 1.0
                    dS[i, start + j] = w * p
    return loss


@njit(cache=True)
def multitask_cross_entropy_hessp(S, Y, weights, offsets, D, out):
    """Second derivative of the loss in the scores, applied to a direction.

    Writes into ``out`` (same shape and dtype as ``S``) the product of the
    Hessian of :func:`multitask_cross_entropy` with respect to ``S`` with the
    direction ``D``: per observed label, ``w p (1 - p) d`` for a logistic
    head and ``w (p * d - p (p . d))`` for a softmax head. Entries of missing
    labels are zero.
    """
    n_samples = S.shape[0]
    n_tasks = Y.shape[1]
    for i in range(n_samples):
        for t in range(n_tasks):
            start = offsets[t]
            m = offsets[t + 1] - start
            if Y[i, t] < 0:
                for j in range(m):
                    out[i, start + j] = 0.0
                continue
            w = weights[i, t]
            if m == 1:
                s = np.float64(S[i, start])
                if s >= 0.0:
                    p = 1.0 / (1.0 + np.exp(-s))
                else:
                    e = np.exp(s)
                    p = e / (1.0 + e)
                out[i, start] = w * p * (1.0 - p) * np.float64(D[i, start])
            else:
                lse = _row_logsumexp(S, i, start, m)
                pd = 0.0
                for j in range(m):
                    pd += np.exp(np.float64(S[i, start + j]) - lse) * np.float64(
                        D[i, start + j]
                    )
                for j in range(m):
                    p = np.exp(np.float64(S[i, start + j]) - lse)
                    out[i, start + j] = w * p * (np.float64(D[i, start + j]) - pd)
