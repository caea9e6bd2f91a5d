"""
========================================
Inside the learned shared representation
========================================

:class:`~sklearn_mtl.MultiTaskSharedRepRegressor` fits task coefficients
``W = U V`` through a shared factor ``U``. Its penalty
``alpha/2 (||U||_F^2 + ||V||_F^2)`` equals the trace norm ``alpha ||W||_*``, the
sum of the singular values of ``W``, so it acts on singular values as the L1
norm acts on coefficients: it sets the small ones exactly to zero. This example
looks at what the model learns: the singular values of ``W`` (how the penalty
picks the rank), and the shared representation ``Z = X U`` itself.
"""

# %%
# Data with a known shared structure
# ----------------------------------
# 20 tasks on 30 features whose true coefficients have rank 2, 150 samples.
import matplotlib.pyplot as plt
import numpy as np
from scipy.linalg import subspace_angles
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import GridSearchCV

from sklearn_mtl import MultiTaskSharedRepRegressor
from sklearn_mtl.datasets import make_low_rank_tasks

# sphinx_gallery_thumbnail_number = 3

X, X_test, Y, Y_test, true_coef, _ = make_low_rank_tasks(
    n_samples=150, n_features=30, n_tasks=20, rank=2, noise=0.5,
    return_coef=True, random_state=0,
)

# %%
# Fit the shared model (``alpha`` by cross-validation, as many components as
# tasks so that ``alpha`` alone chooses the rank) and, for comparison,
# independent ridge regressions.
search = GridSearchCV(
    MultiTaskSharedRepRegressor(), {"alpha": np.geomspace(1e-3, 3, 12)}, cv=5
).fit(X, Y)
shared = search.best_estimator_
ridge = RidgeCV(alphas=np.geomspace(1e-3, 1e3, 13), alpha_per_target=True).fit(X, Y)
print(f"alpha chosen by cross-validation: {search.best_params_['alpha']:.3g}")
print(f"test R2, shared model:    {shared.score(X_test, Y_test):.3f}")
print(f"test R2, independent:     {ridge.score(X_test, Y_test):.3f}")


def singular_values(coef):
    return np.linalg.svd(coef, compute_uv=False)


# %%
# Singular values of ``W``
# ------------------------
# The independent fits spread the noise over all directions: every singular
# value of their ``W`` is clearly non-zero. The trace norm soft-thresholds the
# singular values: the shared model keeps the two true directions (shrunk a
# little), shrinks the noise directions much harder and sets the smallest ones
# exactly to zero.
fig, ax = plt.subplots(figsize=(7, 4))
index = np.arange(1, 21)
ax.plot(index, singular_values(true_coef), "k*", markersize=11, label="truth")
ax.plot(index, singular_values(ridge.coef_), "s--", label="independent RidgeCV")
ax.plot(index, singular_values(shared.coef_), "o-", linewidth=2,
        label="MultiTaskSharedRepRegressor")
ax.set_xticks(index)
ax.set_xlabel("index $j$")
ax.set_ylabel("singular value $\\sigma_j(W)$")
ax.set_title("The trace norm selects the rank")
ax.legend()
fig.tight_layout()

# %%
# ``alpha`` picks the rank
# ------------------------
# Along a grid of ``alpha``, the singular values of the fitted ``W`` shrink and
# vanish one after another, like Lasso coefficients along a regularisation
# path: for large ``alpha`` only the two true directions survive, then only one,
# then none.
alphas = np.geomspace(6, 1e-3, 25)
spectra = np.array(
    [singular_values(MultiTaskSharedRepRegressor(alpha=a).fit(X, Y).coef_)
     for a in alphas]
)

fig, ax = plt.subplots(figsize=(7, 4))
ax.semilogx(alphas, spectra[:, :6], linewidth=2)
ax.semilogx(alphas, spectra[:, 6:], color="0.7", linewidth=1)
ax.axvline(search.best_params_["alpha"], color="k", linestyle=":",
           label="alpha chosen by CV")
ax.invert_xaxis()
ax.set_xlabel("alpha")
ax.set_ylabel("singular values of $W$")
ax.set_title("Spectral regularisation path")
ax.legend()
fig.tight_layout()

# %%
# The shared representation ``Z = X U``
# -------------------------------------
# With ``n_components=2`` the representation is 2-D and can be drawn.
# ``transform`` maps samples to ``Z = X U``; every task predicts with a linear
# function of ``Z``, its head ``v_t`` (a row of ``heads_``). Colouring the test
# samples by the target of three tasks shows each task's target increasing
# along its own direction, the arrow, in the *same* shared plane.
two = MultiTaskSharedRepRegressor(
    n_components=2, alpha=search.best_params_["alpha"]
).fit(X, Y)
Z = two.transform(X_test)

fig, axes = plt.subplots(1, 3, figsize=(13, 4.3), sharex=True, sharey=True)
for ax, task in zip(axes, [0, 1, 2]):
    points = ax.scatter(Z[:, 0], Z[:, 1], c=Y_test[:, task], s=8, cmap="coolwarm")
    head = two.heads_[task]
    scale = 2.5 / np.linalg.norm(head)
    ax.annotate(
        "", xy=(scale * head[0], scale * head[1]), xytext=(0, 0),
        arrowprops={"arrowstyle": "->", "linewidth": 2.5, "color": "k"},
    )
    ax.set_title(f"task {task}: target on the test set")
    ax.set_xlabel("$z_1$")
    ax.set_aspect("equal")
    fig.colorbar(points, ax=ax, shrink=0.8)
axes[0].set_ylabel("$z_2$")
fig.tight_layout()

# %%
# The components are only defined up to a rotation of the plane (the product
# ``W = U V`` is what is unique), so compare subspaces rather than individual
# components: the principal angles between the learned and the true
# 2-dimensional subspaces of feature space are small.
angles = np.degrees(subspace_angles(two.components_.T, true_coef.T))
print("principal angles to the true subspace (degrees):", np.round(angles, 1))
