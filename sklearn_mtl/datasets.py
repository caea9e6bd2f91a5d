"""Generators of related tasks that share a low-rank linear structure."""

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["make_low_rank_tasks"]


def _check_generator_params(n_samples, n_features, n_tasks, rank, missing_fraction):
    for name, value in [
        ("n_samples", n_samples),
        ("n_features", n_features),
        ("n_tasks", n_tasks),
        ("rank", rank),
    ]:
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    if rank > min(n_features, n_tasks):
        raise ValueError(
            f"rank={rank} cannot exceed min(n_features, n_tasks)="
            f"{min(n_features, n_tasks)}."
        )
    if not 0.0 <= missing_fraction < 1.0:
        raise ValueError(
            f"missing_fraction must be in [0, 1), got {missing_fraction!r}."
        )


def _low_rank_coef(n_features, n_tasks, rank, rng):
    """Task coefficients ``W`` of shape (n_tasks, n_features) and rank ``rank``.

    Every task's coefficient vector has unit norm, so with standard normal
    features each task's signal has unit variance.
    """
    basis = np.linalg.qr(rng.standard_normal((n_features, rank)))[0]
    heads = rng.standard_normal((rank, n_tasks))
    coef = (basis @ heads).T
    coef /= np.linalg.norm(coef, axis=1, keepdims=True)
    return coef


def _hide_entries(Y, missing_fraction, rng):
    """Set a ``missing_fraction`` of the entries of ``Y`` to NaN.

    Each task keeps at least two observed samples so that it can be fit.
    """
    if missing_fraction == 0.0:
        return Y
    Y = Y.copy()
    n_samples, n_tasks = Y.shape
    for t in range(n_tasks):
        hidden = rng.random(n_samples) < missing_fraction
        if n_samples - hidden.sum() < 2:
            keep = rng.choice(n_samples, size=min(2, n_samples), replace=False)
            hidden[keep] = False
        Y[hidden, t] = np.nan
    return Y


def make_low_rank_tasks(
    n_samples=100,
    n_features=50,
    n_tasks=20,
    rank=3,
    *,
    noise=0.5,
    missing_fraction=0.0,
    n_test_samples=1000,
    return_coef=False,
    random_state=None,
):
    """Generate regression tasks whose coefficients share a low-rank structure.

    Features are standard normal. The coefficient matrix ``W`` of shape
    ``(n_tasks, n_features)`` has rank ``rank`` and unit-norm rows, so each
    task's noiseless signal has unit variance; task ``t`` reads
    ``Y[:, t] = X @ W[t] + intercept[t] + noise * eps``.

    Parameters
    ----------
    n_samples : int, default=100
        Number of training samples.
    n_features : int, default=50
        Number of features.
    n_tasks : int, default=20
        Number of tasks (columns of ``Y``).
    rank : int, default=3
        Rank of the shared coefficient matrix.
    noise : float, default=0.5
        Standard deviation of the Gaussian noise added to the targets.
    missing_fraction : float, default=0.0
        Fraction of training targets replaced by NaN, drawn independently per
        task, so that tasks are observed on different samples. Every task keeps
        at least two observed targets. The test targets are never missing.
    n_test_samples : int, default=1000
        Number of test samples drawn from the same distribution.
    return_coef : bool, default=False
        If True, also return the true coefficients and intercepts.
    random_state : int, RandomState instance or None, default=None
        Seed of the generator.

    Returns
    -------
    X_train : ndarray of shape (n_samples, n_features)
    X_test : ndarray of shape (n_test_samples, n_features)
    Y_train : ndarray of shape (n_samples, n_tasks)
        May hold NaN where ``missing_fraction > 0``.
    Y_test : ndarray of shape (n_test_samples, n_tasks)
    coef : ndarray of shape (n_tasks, n_features)
        Only if ``return_coef`` is True.
    intercept : ndarray of shape (n_tasks,)
        Only if ``return_coef`` is True.

    Examples
    --------
    >>> from sklearn_mtl.datasets import make_low_rank_tasks
    >>> X, X_test, Y, Y_test = make_low_rank_tasks(
    ...     n_samples=30, n_features=10, n_tasks=5, rank=2, random_state=0)
    >>> X.shape, Y.shape, Y_test.shape
    ((30, 10), (30, 5), (1000, 5))
    """
    _check_generator_params(n_samples, n_features, n_tasks, rank, missing_fraction)
    if noise < 0:
        raise ValueError(f"noise must be non-negative, got {noise!r}.")
    rng = check_random_state(random_state)
    coef = _low_rank_coef(n_features, n_tasks, rank, rng)
    intercept = rng.standard_normal(n_tasks)

    def draw(n):
        X = rng.standard_normal((n, n_features))
        Y = X @ coef.T + intercept + noise * rng.standard_normal((n, n_tasks))
        return X, Y

    X_train, Y_train = draw(n_samples)
    X_test, Y_test = draw(n_test_samples)
    Y_train = _hide_entries(Y_train, missing_fraction, rng)
    if return_coef:
        return X_train, X_test, Y_train, Y_test, coef, intercept
    return X_train, X_test, Y_train, Y_test
