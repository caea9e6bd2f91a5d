"""
=========================
Multi-task classification
=========================

:class:`~sklearn_mtl.MultiTaskSharedRepClassifier` fits many classification
tasks, binary and multiclass mixed, through one shared representation
``Z = X U``; each task has its own logistic (two classes) or softmax (more
classes) head on top of it. This example compares it with independent
per-task logistic regressions as the number of labelled samples grows, looks at
the accuracy of every task, and shows the per-task outputs.
"""

# %%
# Data: 20 tasks sharing a 3-dimensional subspace
# ------------------------------------------------
# :func:`~sklearn_mtl.datasets.make_low_rank_classification_tasks` draws tasks
# whose class scores all depend on the features through one shared
# 3-dimensional subspace; labels are drawn from the softmax of the scores, so
# they are noisy. Ten tasks are binary and ten have three classes.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.multioutput import MultiOutputClassifier

from sklearn_mtl import MultiTaskSharedRepClassifier
from sklearn_mtl.datasets import make_low_rank_classification_tasks

n_features, n_tasks, rank = 30, 20, 3
n_classes = [2] * 10 + [3] * 10


def make_data(n_samples, seed):
    return make_low_rank_classification_tasks(
        n_samples, n_features, n_tasks, rank, n_classes=n_classes,
        random_state=seed,
    )


# %%
# The two models
# --------------
# The shared classifier's ``alpha`` is tuned by
# :class:`~sklearn.model_selection.GridSearchCV`; its ``score`` is the mean
# over tasks of each task's accuracy. The independent baseline is one
# :class:`~sklearn.linear_model.LogisticRegression` per task with its own ``C``
# tuned by cross-validation, wrapped in
# :class:`~sklearn.multioutput.MultiOutputClassifier`.
shared = GridSearchCV(
    MultiTaskSharedRepClassifier(random_state=0),
    {"alpha": [0.1, 0.3, 1.0]},
    cv=3,
)
independent = MultiOutputClassifier(
    GridSearchCV(
        LogisticRegression(solver="newton-cholesky"),
        {"C": np.geomspace(1e-3, 1e2, 6)},
        cv=3,
    )
)


def task_accuracies(Y_true, Y_pred):
    return np.mean(Y_true == Y_pred, axis=0)


# %%
# Accuracy as labelled samples grow
# ---------------------------------
sample_sizes = [25, 50, 100]
curves = {"MultiTaskSharedRepClassifier": [], "LogisticRegression per task (tuned C)": []}
per_task = {}
with warnings.catch_warnings():
    # With few samples some class has fewer members than folds: that is the
    # point of the experiment, so do not warn about it.
    warnings.filterwarnings("ignore", message="The least populated class")
    for n_samples in sample_sizes:
        X, X_test, Y, Y_test = make_data(n_samples, seed=n_samples)
        acc_shared = task_accuracies(Y_test, shared.fit(X, Y).predict(X_test))
        acc_indep = task_accuracies(Y_test, independent.fit(X, Y).predict(X_test))
        curves["MultiTaskSharedRepClassifier"].append(acc_shared.mean())
        curves["LogisticRegression per task (tuned C)"].append(acc_indep.mean())
        per_task[n_samples] = (acc_shared, acc_indep)
        print(f"n={n_samples:3d}: shared {acc_shared.mean():.3f}, "
              f"independent {acc_indep.mean():.3f}, "
              f"alpha={shared.best_params_['alpha']:.3g}")

# %%
# From 50 samples on, the shared model is clearly more accurate: each task alone
# must learn 30 (binary) or 60 (3-class) coefficients, while through the shared
# subspace it only needs 3 or 6 head coefficients, the subspace being learned
# from all tasks' labels together. With 25 samples, fewer than the 30
# features, and all tasks labelled on the same samples, there is too little
# to learn the subspace from and both models are weak (see the user guide on
# when multi-task learning helps). On the right, every task at 50 samples:
# points above the diagonal are tasks where the shared model is more accurate.
fig, axes = plt.subplots(1, 2, figsize=(11, 4.3))
ax = axes[0]
for (name, curve), style in zip(curves.items(), ["o-", "s--"]):
    ax.plot(sample_sizes, curve, style, linewidth=2, label=name)
ax.set_xscale("log")
ax.minorticks_off()
ax.set_xticks(sample_sizes, [str(n) for n in sample_sizes])
ax.set_xlabel("labelled training samples per task")
ax.set_ylabel(f"mean test accuracy over {n_tasks} tasks")
ax.set_title("Learning curves")
ax.legend(loc="lower right")

ax = axes[1]
acc_shared, acc_indep = per_task[50]
binary = np.array(n_classes) == 2
ax.scatter(acc_indep[binary], acc_shared[binary], s=50, label="binary task")
ax.scatter(acc_indep[~binary], acc_shared[~binary], s=50, marker="^",
           label="3-class task")
low = min(acc_indep.min(), acc_shared.min()) - 0.03
high = max(acc_indep.max(), acc_shared.max()) + 0.03
ax.plot([low, high], [low, high], color="0.5", linestyle=":")
ax.set_xlim(low, high)
ax.set_ylim(low, high)
ax.set_aspect("equal")
ax.set_xlabel("accuracy, LogisticRegression per task")
ax.set_ylabel("accuracy, shared model")
ax.set_title("Per task, 50 samples")
ax.legend(loc="lower right")
fig.tight_layout()

# %%
# Per-task outputs
# ----------------
# With several tasks the fitted classifier follows
# :class:`~sklearn.multioutput.MultiOutputClassifier`: ``classes_`` has one
# array of labels per task, ``predict`` returns one column per task and
# ``predict_proba`` a list with one ``(n_samples, n_classes_t)`` array per task.
# Labels may also be missing (``NaN``) in training, as for the regressor.
X, X_test, Y, Y_test = make_data(50, seed=50)
Y[::3, 0] = np.nan  # task 0 is not observed on a third of the samples
clf = MultiTaskSharedRepClassifier(alpha=shared.best_params_["alpha"]).fit(X, Y)
proba = clf.predict_proba(X_test[:3])
print("classes of tasks 0 and 19:", clf.classes_[0], clf.classes_[19])
print("predictions, first 3 samples, first 5 tasks:\n", clf.predict(X_test[:3])[:, :5])
print("probabilities of task 19 (3 classes):\n", np.round(proba[19], 3))
print("shared representation:", clf.transform(X_test).shape)
