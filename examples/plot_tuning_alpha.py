"""
==================================
Choosing alpha by cross-validation
==================================

``alpha`` sets how strongly the coefficients are pulled towards zero, and the
training error cannot choose it: it always prefers the smallest ``alpha``.
Cross-validation can. This example tunes the Lasso (``penalty="l1"``) two
ways: with :class:`~sklearn.model_selection.GridSearchCV` around
:class:`~sklearn_mtl.RegularizedGDRegressor`, which refits from scratch for
every ``alpha`` and fold, and with :class:`~sklearn_mtl.RegularizedGDRegressorCV`,
which follows a warm-started regularisation path on each fold, like
scikit-learn's :class:`~sklearn.linear_model.LassoCV`.
"""

# %%
# A sparse regression problem
# ---------------------------
# 200 samples, 300 standard normal features, of which 15 carry signal.
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_regression
from sklearn.linear_model import LassoCV
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_mtl import RegularizedGDRegressor, RegularizedGDRegressorCV

X, y, true_coef = make_regression(
    n_samples=200, n_features=300, n_informative=15, noise=20.0, coef=True,
    random_state=0,
)
n_samples = X.shape[0]

# %%
# The same grid and folds for every method: 30 values of ``alpha`` from
# ``alpha_max`` (where every coefficient is zero) down to ``alpha_max / 1000``,
# and 5 shuffled folds.
alpha_max = np.max(np.abs(X.T @ (y - y.mean()))) / n_samples
alphas = np.geomspace(alpha_max, alpha_max / 1000, 30)
cv = KFold(n_splits=5, shuffle=True, random_state=0)

# %%
# With ``GridSearchCV``
# ---------------------
# Any scikit-learn estimator can be tuned this way, and so can a
# :class:`~sklearn.pipeline.Pipeline` around it (put a scaler in the pipeline
# when the features are not on the same scale; these already are).
#
# The first fit in a fresh process loads the compiled solver from Numba's
# cache (or compiles it, the very first time); do it once before timing.
RegularizedGDRegressor(penalty="l1").fit(X, y)
RegularizedGDRegressorCV(penalty="l1", alphas=alphas[:2], cv=2).fit(X, y)

search = GridSearchCV(
    RegularizedGDRegressor(penalty="l1"),
    {"alpha": alphas},
    cv=cv,
    scoring="neg_mean_squared_error",
)
start = time.perf_counter()
search.fit(X, y)
time_grid = time.perf_counter() - start
print(f"GridSearchCV:             alpha = {search.best_params_['alpha']:.4g} "
      f"({time_grid:.2f} s)")

# %%
# With ``RegularizedGDRegressorCV``
# ---------------------------------
# On each fold it fits the whole path, from ``alpha_max`` down, each fit
# starting from the previous solution, then refits the best ``alpha`` on all
# the data. scikit-learn's :class:`~sklearn.linear_model.LassoCV` does the same
# by coordinate descent; it is timed on the same grid and folds.
start = time.perf_counter()
reg_cv = RegularizedGDRegressorCV(penalty="l1", alphas=alphas, cv=cv).fit(X, y)
time_path = time.perf_counter() - start
print(f"RegularizedGDRegressorCV: alpha = {reg_cv.alpha_:.4g} ({time_path:.2f} s)")

start = time.perf_counter()
lasso_cv = LassoCV(alphas=alphas, cv=cv).fit(X, y)
time_sklearn = time.perf_counter() - start
print(f"LassoCV (scikit-learn):   alpha = {lasso_cv.alpha_:.4g} ({time_sklearn:.2f} s)")

# %%
# The cross-validation curves
# ---------------------------
# Both methods see the same curve: the mean squared error on the held-out
# folds, high at ``alpha_max`` (no coefficients), lowest around the chosen
# ``alpha`` and rising again as smaller ``alpha`` lets in noise features (the
# noise variance, 400, is the floor). The thin lines are the individual folds
# of the path estimator.
grid_mse = -search.cv_results_["mean_test_score"]
path_mse = reg_cv.mse_path_

fig, ax = plt.subplots(figsize=(7.5, 4.5))
ax.semilogx(reg_cv.alphas_, path_mse, color="0.8", linewidth=1)
ax.semilogx(reg_cv.alphas_, path_mse.mean(axis=1), "k-", linewidth=2.5,
            label="RegularizedGDRegressorCV (mean over folds)")
ax.semilogx(alphas, grid_mse, "o", color="C1", markersize=5,
            label="GridSearchCV")
ax.axvline(reg_cv.alpha_, color="k", linestyle="--", label="chosen alpha")
ax.invert_xaxis()
ax.set_xlabel("alpha")
ax.set_ylabel("cross-validated mean squared error")
ax.set_yscale("log")
ax.legend()
fig.tight_layout()

# %%
# Time per method
# ---------------
# The path shares work between neighbouring values of ``alpha``, so tuning by
# the path estimator costs a fraction of the grid search.
fig, ax = plt.subplots(figsize=(6, 2.6))
names = ["GridSearchCV", "RegularizedGDRegressorCV", "sklearn LassoCV"]
times = [time_grid, time_path, time_sklearn]
ax.barh(names, times, color=["C1", "k", "C0"])
for i, t in enumerate(times):
    ax.text(t, i, f" {t:.3f} s", va="center")
ax.set_xlabel("time to tune alpha (s), 30 alphas x 5 folds")
ax.set_xlim(0, 1.25 * max(times))
fig.tight_layout()

# %%
# Tuning ``l1_ratio`` too
# -----------------------
# With ``penalty="elasticnet"`` and a list of ``l1_ratio`` values, the path
# estimator also picks the mix of L1 and L2, each ``l1_ratio`` on its own
# automatic grid from its ``alpha_max`` (``alphas=30`` values, the same grids
# as :class:`~sklearn.linear_model.ElasticNetCV`'s). On this sparse problem with
# large coefficients, the shrinkage of the L2 part costs much accuracy even at
# the smallest ``alpha`` of each grid, and the Lasso wins clearly.
enet_cv = RegularizedGDRegressorCV(
    penalty="elasticnet", l1_ratio=[0.2, 0.5, 0.8, 1.0], alphas=30, cv=cv
).fit(X, y)
print(f"chosen l1_ratio = {enet_cv.l1_ratio_}, alpha = {enet_cv.alpha_:.4g}")

fig, ax = plt.subplots(figsize=(7.5, 4.5))
for k, l1_ratio in enumerate(enet_cv.l1_ratio):
    ax.loglog(enet_cv.alphas_[k], enet_cv.mse_path_[k].mean(axis=1),
              linewidth=2, label=f"l1_ratio = {l1_ratio}")
ax.plot(enet_cv.alpha_, enet_cv.mse_path_.mean(axis=2).min(), "k*",
        markersize=14, label="chosen")
ax.invert_xaxis()
ax.set_xlabel("alpha")
ax.set_ylabel("cross-validated mean squared error")
ax.legend()
fig.tight_layout()

# %%
# The tuned model
# ---------------
# The refit model keeps a small fraction of the 300 features, and the 15 that
# carry signal are among them: cross-validation tunes ``alpha`` for prediction,
# which lets in some noise features with small coefficients.
selected = np.flatnonzero(reg_cv.coef_)
informative = np.flatnonzero(true_coef)
print(f"{selected.size} features selected, "
      f"{np.intersect1d(selected, informative).size} of the {informative.size} "
      "informative ones")
