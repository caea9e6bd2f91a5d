"""
===========================================
Schools, each with its own pupils (School)
===========================================

The School data (:func:`~sklearn_mtl.datasets.load_school`) holds the exam
scores of 15,362 pupils of 139 London schools. Predicting a school's scores is
one task; every pupil belongs to one school, so each task is observed on its
own rows and the target matrix is 99.3% missing. Schools have 22 to 251 pupils:
few enough that fitting each school alone is noisy, different enough that one
model for all of them misses their differences.

:class:`~sklearn_mtl.MultiTaskSharedRepRegressorCV` learns the schools jointly
through a shared low-rank representation and chooses ``alpha`` and
``n_components`` by cross-validation. This example compares it, on the first
of the ten train/test splits of the literature, with the usual baselines, by
the explained variance of the pooled test pupils.
"""

# %%
# The data
# --------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold
from sklearn.preprocessing import OneHotEncoder

from sklearn_mtl import MultiTaskSharedRepRegressorCV
from sklearn_mtl.datasets import load_school

school = load_school()
X, Y, task = school.data, school.target, school.school
train, test = school.splits[0]
y = Y[np.arange(len(task)), task]  # each pupil's score, in its school's column
print(f"{X.shape[0]} pupils, {X.shape[1]} features, {Y.shape[1]} schools")
print(f"observed targets: {np.mean(~np.isnan(Y)):.1%}")


def explained_variance(prediction):
    """The School literature's metric: 1 - MSE / Var on the pooled test pupils."""
    return 1 - np.mean((y[test] - prediction) ** 2) / np.var(y[test])


# %%
# Baselines
# ---------
# One ridge regression per school, one for all pupils, and one for all pupils
# with a penalised intercept per school (one-hot columns).
results = {}

independent = np.empty(len(test))
for t in range(Y.shape[1]):
    rows, test_rows = train[task[train] == t], task[test] == t
    model = RidgeCV(alphas=np.logspace(-2, 4, 13)).fit(X[rows], y[rows])
    independent[test_rows] = model.predict(X[test][test_rows])
results["independent RidgeCV"] = explained_variance(independent)

pooled = RidgeCV(alphas=np.logspace(-2, 4, 13)).fit(X[train], y[train])
results["pooled RidgeCV"] = explained_variance(pooled.predict(X[test]))

one_hot = OneHotEncoder(sparse_output=False).fit(task.reshape(-1, 1))
X_school = np.hstack([X, one_hot.transform(task.reshape(-1, 1))])
with_intercepts = RidgeCV(alphas=np.logspace(-2, 4, 13)).fit(
    X_school[train], y[train]
)
results["pooled RidgeCV + school intercepts"] = explained_variance(
    with_intercepts.predict(X_school[test])
)

# %%
# The shared representation, tuned by cross-validation
# ----------------------------------------------------
# The folds must be shuffled: contiguous folds would take all the pupils of
# some schools away from a training part. Each fold prepares its per-task
# statistics once and warm-starts its path from alpha to alpha.
reg = MultiTaskSharedRepRegressorCV(
    n_alphas=9, n_components=[1, 2, 4, 8], cv=KFold(3, shuffle=True, random_state=0)
).fit(X[train], Y[train])
print(f"chosen alpha {reg.alpha_:.3g}, n_components {reg.n_components_}")
prediction = reg.predict(X[test])[np.arange(len(test)), task[test]]
results["MultiTaskSharedRepRegressorCV"] = explained_variance(prediction)

for name, value in results.items():
    print(f"{name:36s} {value:.1%}")

# %%
# The mean held-out score along each path: a single shared direction is
# enough here, and too little regularisation costs more than too much.
fig, ax = plt.subplots(figsize=(6, 4))
for k, scores in zip(reg.n_components_grid_, reg.score_path_.mean(axis=-1)):
    ax.semilogx(reg.alphas_, scores, marker="o", label=f"n_components={k}")
ax.axvline(reg.alpha_, color="grey", linestyle=":")
ax.set_xlabel("alpha")
ax.set_ylabel("mean per-school R$^2$ (held out)")
ax.legend()
fig.tight_layout()

# %%
# Explained variance on the test pupils of the first split.
fig, ax = plt.subplots(figsize=(6, 3))
names = list(results)
ax.barh(names, [100 * results[n] for n in names], color="tab:blue")
ax.set_xlim(30, 40)
ax.set_xlabel("explained variance of the test pupils (%)")
fig.tight_layout()
plt.show()

# %%
# ``benchmarks/bench_school.py`` repeats this on the ten splits, with each
# ``task_weight``.
