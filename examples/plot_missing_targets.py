"""
===================================
Tasks observed on different samples
===================================

In many multi-task problems, each sample is labelled for only some of the
tasks: outcomes recorded for some patients and not others, ratings of some
items by some users. :class:`~sklearn_mtl.MultiTaskSharedRepRegressor` takes a
target matrix with ``NaN`` where a target was not observed and fits the shared
representation on all observed entries at once.

This example hides a growing fraction of the training targets and compares
the shared model with the usual alternatives: one ridge regression per task on
the rows where that task is observed, and ridge regressions on targets
imputed by each task's mean.
"""

# %%
# Which targets are observed
# --------------------------
# :func:`~sklearn_mtl.datasets.make_low_rank_tasks` hides each training target
# independently with probability ``missing_fraction``; the test targets are
# complete. With 30 tasks, almost no sample has all its targets.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV

from sklearn_mtl import MultiTaskSharedRepRegressor
from sklearn_mtl.datasets import make_low_rank_tasks

# sphinx_gallery_thumbnail_number = 2

n_samples, n_features, n_tasks, rank = 150, 40, 30, 3


def make_data(missing_fraction, seed):
    return make_low_rank_tasks(
        n_samples, n_features, n_tasks, rank, noise=0.5,
        missing_fraction=missing_fraction, random_state=seed,
    )


X, X_test, Y, Y_test = make_data(0.7, seed=0)
observed = ~np.isnan(Y)
print(f"observed targets: {observed.mean():.0%}")
print(f"observed targets per task: {observed.sum(axis=0).min()} to "
      f"{observed.sum(axis=0).max()}")
print(f"samples with every target observed: {observed.all(axis=1).sum()}")

fig, ax = plt.subplots(figsize=(9, 3))
ax.imshow(observed[:60].T, cmap="Greys", aspect="auto", interpolation="nearest")
ax.set_xlabel("training sample (first 60)")
ax.set_ylabel("task")
ax.set_title("Observed targets (black) with 70% missing")
fig.tight_layout()

# %%
# Three ways to fit
# -----------------
# * the shared model, fit on the matrix with its ``NaN`` entries as they are,
#   ``alpha`` tuned by :class:`~sklearn.model_selection.GridSearchCV`;
# * one :class:`~sklearn.linear_model.RidgeCV` per task, fit on the rows where
#   that task is observed;
# * a multi-output :class:`~sklearn.linear_model.RidgeCV` on targets where
#   each missing entry is replaced by its task's observed mean.
#
# The estimator's own ``score`` (the mean over tasks of each task's
# :math:`R^2` on its observed entries) skips missing entries, so
# ``GridSearchCV`` works out of the box. But when most targets are missing, a
# validation fold holds only a handful of targets per task and a per-task
# :math:`R^2` on five points is very noisy. A steadier criterion is the squared
# error averaged over all observed entries of the fold, which is easy to pass as
# a scorer:
from sklearn.metrics import make_scorer


def observed_mse(Y_true, Y_pred):
    """Mean squared error over the observed (non-NaN) entries."""
    observed = ~np.isnan(Y_true)
    return np.mean((Y_true[observed] - Y_pred[observed]) ** 2)


shared = GridSearchCV(
    MultiTaskSharedRepRegressor(),
    {"alpha": np.geomspace(1e-2, 3, 8)},
    scoring=make_scorer(observed_mse, greater_is_better=False),
    cv=3,
)
ridge_alphas = np.geomspace(1e-2, 1e3, 11)


def per_task_ridge(X, Y, X_test):
    predictions = np.empty((X_test.shape[0], Y.shape[1]))
    for t in range(Y.shape[1]):
        rows = ~np.isnan(Y[:, t])
        model = RidgeCV(alphas=ridge_alphas).fit(X[rows], Y[rows, t])
        predictions[:, t] = model.predict(X_test)
    return predictions


def imputed_ridge(X, Y, X_test):
    Y_filled = np.where(np.isnan(Y), np.nanmean(Y, axis=0), Y)
    model = RidgeCV(alphas=ridge_alphas, alpha_per_target=True).fit(X, Y_filled)
    return model.predict(X_test)


def mean_r2(Y_true, Y_pred):
    return np.mean([r2_score(Y_true[:, t], Y_pred[:, t]) for t in range(n_tasks)])


# %%
# Accuracy as targets go missing
# ------------------------------
missing_fractions = [0.0, 0.3, 0.5, 0.7, 0.8, 0.9]
results = {"shared model (NaN = missing)": [], "RidgeCV per task, observed rows": [],
           "RidgeCV on mean-imputed targets": []}
for fraction in missing_fractions:
    X, X_test, Y, Y_test = make_data(fraction, seed=1)
    shared.fit(X, Y)
    scores = [
        shared.best_estimator_.score(X_test, Y_test),
        mean_r2(Y_test, per_task_ridge(X, Y, X_test)),
        mean_r2(Y_test, imputed_ridge(X, Y, X_test)),
    ]
    for name, score in zip(results, scores):
        results[name].append(score)
    print(f"missing {fraction:.0%}: " + ", ".join(f"{s:.3f}" for s in scores))

# %%
# The shared model loses little as targets disappear: all tasks together still
# observe many samples, and each task only needs enough of its own for the few
# coefficients of its head. Per-task models see only their own rows and degrade
# quickly; imputing by the mean pulls the fit towards a constant.
fig, ax = plt.subplots(figsize=(7, 4.3))
for (name, scores), style in zip(results.items(), ["o-", "s--", "^:"]):
    ax.plot(np.array(missing_fractions) * 100, scores, style, linewidth=2, label=name)
ax.axhline(1 / (1 + 0.5**2), color="0.6", linestyle=":", label="noise ceiling")
ax.set_xlabel("training targets missing (%)")
ax.set_ylabel(f"mean test $R^2$ over {n_tasks} tasks")
ax.set_title(f"{n_samples} samples, {n_features} features, {n_tasks} tasks of rank {rank}")
ax.legend(loc="lower left")
fig.tight_layout()
