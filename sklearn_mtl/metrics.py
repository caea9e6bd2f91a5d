"""Scorers that average a metric over tasks, each on its observed entries."""

import warnings

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.utils.validation import check_array

from ._validation import missing_mask

__all__ = ["make_task_scorer"]


def make_task_scorer(score_func, *, response_method="predict", **kwargs):
    """Make a scorer: the mean over tasks of ``score_func`` on observed entries.

    For multi-task models whose ``y`` has one column per task with missing
    entries (NaN, None or pandas' ``NA``): each task is scored on the rows
    where its target is observed, and the scores are averaged. Tasks whose
    observed entries cannot be scored (fewer than two rows, or a single class
    for a ranking metric such as the ROC AUC) are left out of the mean. Use
    it with :class:`~sklearn.model_selection.GridSearchCV` or the ``scoring``
    parameter of the CV estimators.

    Parameters
    ----------
    score_func : callable
        ``score_func(y_true, y_score, **kwargs)``, greater is better (e.g.
        :func:`~sklearn.metrics.roc_auc_score`,
        :func:`~sklearn.metrics.r2_score`).
    response_method : {"predict", "predict_proba", "decision_function"}, \
            default="predict"
        The estimator's method whose output is scored. With
        ``"predict_proba"``, a binary task passes the probability of its
        second class and a multiclass task all its columns (with
        ``labels=classes_``).
    **kwargs : dict
        Passed to ``score_func``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y) -> float``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.metrics import roc_auc_score
    >>> from sklearn_mtl import MultiTaskSharedRepClassifier
    >>> from sklearn_mtl.metrics import make_task_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.standard_normal((80, 4))
    >>> Y = np.column_stack([X[:, 0] > 0, X[:, 0] + X[:, 1] > 0]).astype(float)
    >>> Y[:20, 1] = np.nan
    >>> clf = MultiTaskSharedRepClassifier(n_components=1).fit(X, Y)
    >>> auc = make_task_scorer(roc_auc_score, response_method="predict_proba")
    >>> bool(auc(clf, X, Y) > 0.9)
    True
    """
    if response_method not in ("predict", "predict_proba", "decision_function"):
        raise ValueError(
            "response_method must be 'predict', 'predict_proba' or "
            f"'decision_function'; got {response_method!r}."
        )

    def scorer(estimator, X, y):
        y = check_array(y, ensure_2d=False, dtype=None, ensure_all_finite=False)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        outputs = getattr(estimator, response_method)(X)
        if Y.shape[1] == 1 and not isinstance(outputs, list):
            outputs = [outputs]
        elif not isinstance(outputs, list):
            outputs = [outputs[:, t] for t in range(Y.shape[1])]
        classes = getattr(estimator, "classes_", None)
        if classes is not None and not isinstance(classes, list):
            classes = [classes]
        scores = []
        for t in range(Y.shape[1]):
            observed = ~missing_mask(Y[:, t])
            if observed.sum() < 2:
                continue
            truth = Y[observed, t]
            output = np.asarray(outputs[t])[observed]
            extra = dict(kwargs)
            if response_method == "predict_proba":
                if output.ndim == 2 and output.shape[1] == 2:
                    output = output[:, 1]
                    truth = truth == classes[t][1]
                elif output.ndim == 2:
                    extra.setdefault("labels", classes[t])
            try:
                with warnings.catch_warnings():
                    # A single class among the task's rows: undefined for a
                    # ranking metric, which warns and gives NaN (or raises).
                    warnings.simplefilter("ignore", UndefinedMetricWarning)
                    value = score_func(truth, output, **extra)
            except ValueError:
                continue
            if np.isfinite(value):
                scores.append(value)
        return float(np.mean(scores)) if scores else float("nan")

    return scorer
