"""
=================================================
Regularisation paths: L1 sparsity vs L2 shrinkage
=================================================

An L1 penalty sets coefficients exactly to zero; an L2 penalty shrinks them all
towards zero without ever reaching it. This example shows why, with the two
proximal operators that :class:`~sklearn_mtl.RegularizedGDRegressor` applies at
each step, and how, with the coefficients of the diabetes data set as
``alpha`` decreases.
"""

# %%
# The two proximal operators
# --------------------------
# After each gradient step, the solver applies the proximal operator of the
# penalty. For L1 it is *soft-thresholding*: every coefficient moves towards zero
# by the same amount, and those closer than that land exactly on zero. For L2 it
# is *shrinkage*: every coefficient is divided by the same factor (weight
# decay), so none becomes zero.
import matplotlib.pyplot as plt
import numpy as np

# sphinx_gallery_thumbnail_number = 2

z = np.linspace(-3, 3, 601)
threshold = 1.0
soft_threshold = np.sign(z) * np.maximum(np.abs(z) - threshold, 0.0)
shrinkage = z / (1.0 + threshold)

fig, ax = plt.subplots(figsize=(5.5, 4.5))
ax.plot(z, z, color="0.7", linestyle=":", label="identity (no penalty)")
ax.plot(z, soft_threshold, linewidth=2.5, label="L1: soft-thresholding")
ax.plot(z, shrinkage, linewidth=2.5, label="L2: shrinkage $z / (1 + \\tau\\mu)$")
ax.axvspan(-threshold, threshold, color="C0", alpha=0.08)
ax.annotate(
    "exactly zero",
    xy=(0, 0),
    xytext=(0.3, -1.6),
    arrowprops={"arrowstyle": "->"},
)
ax.set_xlabel("input $z$ (after the gradient step)")
ax.set_ylabel("output of the proximal operator")
ax.set_title("Proximal operators, step $\\tau$ = 1, strength 1")
ax.legend(loc="upper left")
ax.set_aspect("equal")
fig.tight_layout()

# %%
# Data
# ----
# The diabetes data set: 442 patients, 10 standardised features, and a measure
# of disease progression one year later.
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

data = load_diabetes()
X = StandardScaler().fit_transform(data.data)
y = data.target
n_samples = X.shape[0]

# %%
# Following the path
# ------------------
# With an L1 part, all coefficients are zero once ``alpha`` exceeds
# ``alpha_max = max_j |x_j^T (y - mean(y))| / n_samples``. We fit the L1 and the
# L2 models along the same decreasing grid, from above ``alpha_max`` down to
# where both reach the unpenalised least-squares solution.
# :func:`~sklearn_mtl.regularized_gd_path` fits the whole grid, each fit
# starting from the previous solution (a warm start), so that each needs only a
# few iterations; it returns the coefficients as ``(n_features, n_alphas)``.
from sklearn_mtl import RegularizedGDRegressor, regularized_gd_path

alpha_max = np.max(np.abs(X.T @ (y - y.mean()))) / n_samples
alphas = np.geomspace(alpha_max * 3, alpha_max * 1e-6, 100)

coefs = {}
for penalty in ["l1", "l2"]:
    _, path, _ = regularized_gd_path(X, y, penalty=penalty, alphas=alphas, tol=1e-8)
    coefs[penalty] = path.T  # (n_alphas, n_features)

# The same path, one estimator fit at a time with ``warm_start=True``:
model = RegularizedGDRegressor(penalty="l1", warm_start=True, tol=1e-8)
loop = np.array([model.set_params(alpha=a).fit(X, y).coef_ for a in alphas])
difference = np.abs(loop - coefs["l1"]).max()
print(f"path vs warm-started loop: max difference {difference:.1e}")

print(f"alpha_max = {alpha_max:.2f}")
print("non-zero coefficients at alpha_max / 10:")
k = np.argmin(np.abs(alphas - alpha_max / 10))
for penalty in ["l1", "l2"]:
    print(f"  {penalty}: {np.count_nonzero(coefs[penalty][k])} of {X.shape[1]}")

# %%
# The paths
# ---------
# The L1 coefficients enter the model one at a time and are exactly zero before
# they do: a sparse model at every ``alpha``. The L2 coefficients are all
# non-zero at every ``alpha`` and shrink smoothly and together. At small
# ``alpha`` both reach the least-squares solution.
fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
titles = {
    "l1": 'penalty="l1" (Lasso): soft-thresholding',
    "l2": 'penalty="l2" (Ridge): shrinkage',
}
for ax, penalty in zip(axes, ["l1", "l2"]):
    for j, name in enumerate(data.feature_names):
        ax.semilogx(alphas, coefs[penalty][:, j], label=name)
    ax.axvline(alpha_max, color="0.5", linestyle="--", linewidth=1)
    ax.set_title(titles[penalty])
    ax.set_xlabel("alpha")
    ax.invert_xaxis()
axes[0].text(alpha_max, axes[0].get_ylim()[1], " alpha_max", va="top", color="0.4")
axes[0].set_ylabel("coefficient")
axes[1].legend(title="feature", loc="center left", bbox_to_anchor=(1.02, 0.5))
fig.tight_layout()

# %%
# Sparsity along the path
# -----------------------
# Counting the non-zero coefficients makes the difference plain.
fig, ax = plt.subplots(figsize=(6, 3.5))
for penalty in ["l1", "l2"]:
    ax.semilogx(
        alphas,
        np.count_nonzero(coefs[penalty], axis=1),
        drawstyle="steps-post",
        label=penalty,
        linewidth=2,
    )
ax.invert_xaxis()
ax.set_xlabel("alpha")
ax.set_ylabel("non-zero coefficients")
ax.legend()
fig.tight_layout()

# %%
# The same optimum as scikit-learn
# --------------------------------
# :class:`~sklearn_mtl.RegularizedGDRegressor` solves
# :class:`~sklearn.linear_model.ElasticNet`'s objective, so the L1 fit matches
# :class:`~sklearn.linear_model.Lasso` with the same ``alpha``, and the L2 fit
# matches :class:`~sklearn.linear_model.Ridge` with ``alpha * n_samples``.
from sklearn.linear_model import Lasso, Ridge

alpha = alpha_max / 20
ours_l1 = RegularizedGDRegressor(penalty="l1", alpha=alpha, tol=1e-10).fit(X, y)
lasso = Lasso(alpha=alpha, tol=1e-10, max_iter=100_000).fit(X, y)
ours_l2 = RegularizedGDRegressor(penalty="l2", alpha=alpha, tol=1e-12).fit(X, y)
ridge = Ridge(alpha=alpha * n_samples).fit(X, y)
print(f"max |ours - Lasso| = {np.max(np.abs(ours_l1.coef_ - lasso.coef_)):.1e}")
print(f"max |ours - Ridge| = {np.max(np.abs(ours_l2.coef_ - ridge.coef_)):.1e}")
