"""
=================================================
Multi-task vs independent models: learning curves
=================================================

When many related tasks each have only a few samples, fitting them together
through a shared representation recovers much of what independent models lose.
This example draws learning curves: the test :math:`R^2`, averaged over 30
tasks, of :class:`~sklearn_mtl.MultiTaskSharedRepRegressor` and of independent
per-task ridge regressions (:class:`~sklearn.linear_model.RidgeCV` with one
``alpha`` per task), as the number of samples per task grows.

Two settings are compared: **related tasks**, whose coefficient vectors lie in
a 3-dimensional subspace of the 50 features, and **unrelated tasks**, whose
coefficients are in general position (full rank). Both models are tuned by
cross-validation on the training data only.
"""

# %%
# Data and models
# ---------------
# :func:`~sklearn_mtl.datasets.make_low_rank_tasks` draws standard normal
# features and tasks whose coefficient vectors have unit norm, so each task's
# signal has unit variance; with noise of standard deviation 0.5 the best
# achievable test :math:`R^2` is :math:`1 / (1 + 0.5^2) = 0.8`.
#
# The multi-task model keeps the default ``n_components=None`` (as many
# components as tasks), so it solves the convex trace-norm problem and
# ``alpha`` alone selects the rank; ``alpha`` is tuned by
# :class:`~sklearn.model_selection.GridSearchCV`, whose default score for this
# estimator is the mean :math:`R^2` over tasks.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import GridSearchCV

from sklearn_mtl import MultiTaskSharedRepRegressor
from sklearn_mtl.datasets import make_low_rank_tasks

n_features, n_tasks, noise = 50, 30, 0.5
sample_sizes = [15, 25, 40, 80, 160, 320]
settings = {"related tasks (rank 3)": 3, "unrelated tasks (full rank)": n_tasks}
seeds = [0, 1]

multitask = GridSearchCV(
    MultiTaskSharedRepRegressor(),
    {"alpha": np.geomspace(1e-3, 10, 9)},
    cv=3,
)
independent = RidgeCV(alphas=np.geomspace(1e-3, 1e3, 13), alpha_per_target=True)

# %%
# Learning curves
# ---------------
# For every setting and number of samples per task we draw fresh training data
# (two draws, averaged) and score both models on 1000 test samples.
scores = {name: {"multi-task": [], "independent": []} for name in settings}
for name, rank in settings.items():
    for n_samples in sample_sizes:
        mt, ind = [], []
        for seed in seeds:
            X, X_test, Y, Y_test = make_low_rank_tasks(
                n_samples, n_features, n_tasks, rank, noise=noise,
                random_state=1000 * seed + n_samples,
            )
            mt.append(multitask.fit(X, Y).score(X_test, Y_test))
            ind.append(independent.fit(X, Y).score(X_test, Y_test))
        scores[name]["multi-task"].append(np.mean(mt))
        scores[name]["independent"].append(np.mean(ind))
    print(name)
    for n_samples, a, b in zip(
        sample_sizes, scores[name]["multi-task"], scores[name]["independent"]
    ):
        print(f"  n={n_samples:4d}  multi-task R2={a:.3f}  independent R2={b:.3f}")

# %%
# With related tasks, the shared model reaches a given accuracy with far fewer
# samples per task: around and below ``n = p`` (the dotted line), independent
# models must shrink hard, while the shared model pools the 30 tasks to estimate
# the 3-dimensional subspace and each task only needs a few samples for its 3
# head coefficients. As samples grow, both approach the noise ceiling and the
# gap closes. With unrelated tasks there is no subspace to share and the gain
# mostly disappears; the best ``alpha`` then lets the model be nearly
# independent ridge fits.
#
# Here all tasks are observed on the *same* samples, so with very few samples
# no model can learn the directions of feature space that the samples do not
# span. When tasks are observed on different samples, the shared model also
# pools those directions: see
# :ref:`sphx_glr_auto_examples_plot_missing_targets.py`.
fig, axes = plt.subplots(1, 2, figsize=(11, 4.3), sharey=True)
for ax, name in zip(axes, settings):
    ax.plot(sample_sizes, scores[name]["multi-task"], "o-", linewidth=2,
            label="MultiTaskSharedRepRegressor")
    ax.plot(sample_sizes, scores[name]["independent"], "s--", linewidth=2,
            label="independent RidgeCV per task")
    ax.axhline(1 / (1 + noise**2), color="0.5", linestyle=":", label="noise ceiling")
    ax.axvline(n_features, color="0.8", linestyle=":")
    ax.text(n_features * 1.05, 0.77, "n = p", color="0.5", va="top")
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(sample_sizes, [str(n) for n in sample_sizes])
    ax.set_xlabel("training samples per task")
    ax.set_title(name)
axes[0].set_ylabel(f"mean test $R^2$ over {n_tasks} tasks")
axes[0].set_ylim(-0.05, 0.85)
axes[0].legend(loc="lower right")
fig.tight_layout()
