"""Generators of related tasks that share a low-rank linear structure."""

import numpy as np
from sklearn.utils import check_random_state


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
        Training features, standard normal.
    X_test : ndarray of shape (n_test_samples, n_features)
        Test features, an independent draw from the same distribution.
    Y_train : ndarray of shape (n_samples, n_tasks)
        Training targets; NaN marks a target that was not observed (only
        where ``missing_fraction > 0``).
    Y_test : ndarray of shape (n_test_samples, n_tasks)
        Test targets, all observed.
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


def _hide_labels(Y, missing_fraction, rng):
    """Set a ``missing_fraction`` of the labels of ``Y`` to NaN, per task.

    Each task keeps at least one observed label of two different classes
    whenever its complete column holds two classes, so that it can be fit.
    """
    if missing_fraction == 0.0:
        return Y
    Y = Y.copy()
    n_samples, n_tasks = Y.shape
    for t in range(n_tasks):
        column = Y[:, t].copy()
        hidden = rng.random(n_samples) < missing_fraction
        kept_classes = np.unique(column[~hidden])
        all_classes = np.unique(column)
        if len(kept_classes) < min(2, len(all_classes)):
            for c in all_classes[:2]:
                hidden[rng.choice(np.flatnonzero(column == c))] = False
        column[hidden] = np.nan
        Y[:, t] = column
    return Y


def make_low_rank_classification_tasks(
    n_samples=100,
    n_features=50,
    n_tasks=20,
    rank=3,
    *,
    n_classes=2,
    temperature=0.5,
    missing_fraction=0.0,
    n_test_samples=1000,
    return_coef=False,
    random_state=None,
):
    """Generate classification tasks whose class scores share a low-rank structure.

    Features are standard normal. Task ``t`` has ``n_classes[t]`` classes and
    coefficients ``coef[t]`` of shape ``(n_classes[t], n_features)``: every
    class's coefficient vector lies in one shared ``rank``-dimensional
    subspace of the features, so the stacked coefficients of all tasks have
    rank at most ``rank``. Within a task the class vectors are centred (only
    their differences matter) and have unit root-mean-square norm. A label is
    drawn from the softmax of the scores divided by ``temperature``::

        P(y_t = c | x) = softmax((x @ coef[t].T + intercept[t]) / temperature)[c]

    so a lower temperature gives less label noise, and ``temperature=0``
    gives the noiseless labels ``argmax_c`` of the scores.

    Parameters
    ----------
    n_samples : int, default=100
        Number of training samples (shared by all tasks).
    n_features : int, default=50
        Number of features.
    n_tasks : int, default=20
        Number of tasks (columns of ``Y``).
    rank : int, default=3
        Dimension of the subspace shared by the class coefficient vectors;
        at most ``n_features``.
    n_classes : int or array-like of int, default=2
        Number of classes of every task (int), or of each task (array-like
        of length ``n_tasks``). Each must be at least 2.
    temperature : float, default=0.5
        Label noise: the softmax temperature. Non-negative.
    missing_fraction : float, default=0.0
        Fraction of training labels replaced by NaN, drawn independently per
        task, so that tasks are observed on different samples. Every task
        keeps observed labels of at least two classes whenever its training
        draw contains two. The test labels are never missing.
    n_test_samples : int, default=1000
        Number of test samples drawn from the same distribution.
    return_coef : bool, default=False
        If True, also return the true coefficients and intercepts.
    random_state : int, RandomState instance or None, default=None
        Seed of the generator.

    Returns
    -------
    X_train : ndarray of shape (n_samples, n_features)
        Training features.
    X_test : ndarray of shape (n_test_samples, n_features)
        Test features.
    Y_train : ndarray of shape (n_samples, n_tasks)
        Float labels in ``0, ..., n_classes[t] - 1``; NaN where a label is
        missing (``missing_fraction > 0``).
    Y_test : ndarray of shape (n_test_samples, n_tasks)
        Test labels, never missing.
    coef : list of ndarray of shape (n_classes[t], n_features)
        Only if ``return_coef`` is True.
    intercept : list of ndarray of shape (n_classes[t],)
        Only if ``return_coef`` is True.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.datasets import make_low_rank_classification_tasks
    >>> X, X_test, Y, Y_test = make_low_rank_classification_tasks(
    ...     n_samples=40, n_features=10, n_tasks=4, rank=2, n_classes=[2, 2, 3, 3],
    ...     missing_fraction=0.25, random_state=0)
    >>> X.shape, Y.shape, Y_test.shape
    ((40, 10), (40, 4), (1000, 4))
    >>> [np.unique(Y_test[:, t]).tolist() for t in range(4)]
    [[0.0, 1.0], [0.0, 1.0], [0.0, 1.0, 2.0], [0.0, 1.0, 2.0]]
    >>> bool(np.isnan(Y).any()), bool(np.isnan(Y_test).any())
    (True, False)
    """
    for name, value in [
        ("n_samples", n_samples),
        ("n_features", n_features),
        ("n_tasks", n_tasks),
        ("rank", rank),
    ]:
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    if rank > n_features:
        raise ValueError(f"rank={rank} cannot exceed n_features={n_features}.")
    n_classes = np.broadcast_to(np.asarray(n_classes), (n_tasks,))
    if n_classes.dtype.kind not in "iu" or np.any(n_classes < 2):
        raise ValueError(
            "n_classes must be an integer >= 2 or one such integer per task, got "
            f"{n_classes.tolist()!r}."
        )
    if not temperature >= 0:
        raise ValueError(f"temperature must be non-negative, got {temperature!r}.")
    if not 0.0 <= missing_fraction < 1.0:
        raise ValueError(
            f"missing_fraction must be in [0, 1), got {missing_fraction!r}."
        )
    rng = check_random_state(random_state)
    basis = np.linalg.qr(rng.standard_normal((n_features, rank)))[0]
    coef, intercept = [], []
    for n_class in n_classes:
        heads = rng.standard_normal((rank, n_class))
        heads -= heads.mean(axis=1, keepdims=True)
        heads /= np.sqrt(np.mean(np.sum(heads**2, axis=0)))
        coef.append((basis @ heads).T)
        offset = 0.5 * rng.standard_normal(n_class)
        intercept.append(offset - offset.mean())

    def draw(n):
        X = rng.standard_normal((n, n_features))
        Y = np.empty((n, n_tasks))
        for t in range(n_tasks):
            scores = X @ coef[t].T + intercept[t]
            if temperature > 0:
                scores = scores / temperature + rng.gumbel(size=scores.shape)
            Y[:, t] = np.argmax(scores, axis=1)
        return X, Y

    X_train, Y_train = draw(n_samples)
    X_test, Y_test = draw(n_test_samples)
    Y_train = _hide_labels(Y_train, missing_fraction, rng)
    if return_coef:
        return X_train, X_test, Y_train, Y_test, coef, intercept
    return X_train, X_test, Y_train, Y_test
