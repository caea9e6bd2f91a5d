"""
=====================
Scaling out with Dask
=====================

The estimators run on a `Dask <https://docs.dask.org>`_ cluster in two ways
(see :ref:`dask`): a search spreads its fits over the workers, and ``fit`` on
dask arrays reads the data block by block where they are, never gathering
them on one machine. Here the cluster is a ``LocalCluster`` inside this
process; on a real cluster only the first line changes::

    client = Client("tcp://scheduler:8786")

Needs the ``dask`` extra: ``pip install "sklearn_mtl[dask]"``.
"""

# %%
# A cluster
# ---------
# Two workers, and the plugin that loads the package's compiled kernels on
# every worker when it starts, so that no task waits for them.
import time

import dask.array as da
import joblib
import matplotlib.pyplot as plt
import numpy as np
from distributed import Client, LocalCluster
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_mtl import MultiTaskSharedRepRegressor, RegularizedGDRegressor
from sklearn_mtl.dask import WarmKernels
from sklearn_mtl.datasets import make_low_rank_tasks

cluster = LocalCluster(
    n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
)
client = Client(cluster)
client.register_plugin(WarmKernels())
print(client)

# %%
# A search on the cluster
# -----------------------
# Under joblib's Dask backend, ``GridSearchCV`` sends its fits to the workers.
# The fits are deterministic: the scores are exactly those of ``n_jobs=1``.
X, X_test, Y, Y_test = make_low_rank_tasks(
    n_samples=300, n_features=30, n_tasks=10, rank=3, noise=0.5,
    missing_fraction=0.3, random_state=0,
)
grid = {"alpha": [0.01, 0.03, 0.1, 0.3], "n_components": [2, 3, 5]}
search = GridSearchCV(MultiTaskSharedRepRegressor(), grid, cv=KFold(3), n_jobs=1)
start = time.perf_counter()
search.fit(X, Y)
print(f"n_jobs=1: {time.perf_counter() - start:.1f} s, best {search.best_params_}")

with joblib.parallel_config(backend="dask"):
    on_cluster = GridSearchCV(
        MultiTaskSharedRepRegressor(), grid, cv=KFold(3), n_jobs=-1
    )
    start = time.perf_counter()
    on_cluster.fit(X, Y)
print(f"on the cluster: {time.perf_counter() - start:.1f} s, "
      f"best {on_cluster.best_params_}")
same = np.array_equal(
    search.cv_results_["mean_test_score"], on_cluster.cv_results_["mean_test_score"]
)
print(f"identical scores: {same}")

# %%
# An out-of-core fit
# ------------------
# A dask array generated block by block from a seed per block: nothing is
# computed until a fit asks for it, and then each worker makes and reads its
# own blocks. (On real data: ``da.from_zarr``, ``da.from_array`` on an HDF5
# dataset, a Dask DataFrame's ``to_dask_array``.)
n_blocks, block_rows, n_features = 6, 25_000, 40
beta = np.random.default_rng(0).standard_normal(n_features)
beta[n_features // 2 :] = 0.0  # half the features do not matter


def make_block(ids):
    rng = np.random.default_rng([0, int(ids[0])])
    X_block = rng.standard_normal((block_rows, n_features)) + 100.0  # large means
    y_block = (X_block - 100.0) @ beta + 2.0 + rng.standard_normal(block_rows)
    return np.column_stack([X_block, y_block])


XY = da.arange(n_blocks, chunks=1).map_blocks(
    make_block, chunks=((block_rows,) * n_blocks, (n_features + 1,)), new_axis=1,
    dtype=np.float64, meta=np.empty((0, 0)),
)
X_big, y_big = XY[:, :n_features], XY[:, n_features]
print(X_big)

# %%
# ``fit`` takes one pass over the blocks: each is summarised by its means and
# centred second moments, merged on the workers, and the client solves the
# lasso from these ``40 x 40`` statistics. ``predict`` stays lazy.
start = time.perf_counter()
lasso = RegularizedGDRegressor(penalty="l1", alpha=0.05).fit(X_big, y_big)
print(f"out-of-core fit: {time.perf_counter() - start:.2f} s, "
      f"{np.count_nonzero(lasso.coef_)} non-zero coefficients")
y_pred = lasso.predict(X_big)
print(f"predict returns {type(y_pred).__name__} with chunks {y_pred.chunks[0][:2]}...")

# %%
# The same fit in memory (these data fit here) lands on the same model.
X_memory, y_memory = X_big.compute(), y_big.compute()
in_memory = RegularizedGDRegressor(penalty="l1", alpha=0.05).fit(X_memory, y_memory)
print(f"largest coefficient difference: "
      f"{np.abs(in_memory.coef_ - lasso.coef_).max():.1e}")

fig, ax = plt.subplots(figsize=(5, 4))
ax.plot(beta, "o", mfc="none", label="true coefficients")
ax.plot(in_memory.coef_, "x", ms=8, label="fit in memory")
ax.plot(lasso.coef_, ".", label="fit out of core")
ax.set_xlabel("feature")
ax.set_ylabel("coefficient")
ax.legend()
fig.tight_layout()
plt.show()

client.close()
cluster.close()
