"""
===========================================
Speed against scikit-learn, skglm and celer
===========================================

How fast does :class:`~sklearn_mtl.RegularizedGDRegressor` reach the optimum
compared with its peers, scikit-learn's coordinate descent
(:class:`~sklearn.linear_model.Lasso`, :class:`~sklearn.linear_model.ElasticNet`),
skglm and celer? The benchmark in ``benchmarks/bench_enet_speed.py`` answers
this on three problem shapes (dense with many samples, dense with many
features, sparse) at two values of ``alpha``: it runs every solver at a ladder
of tolerances, computes every solution's objective with one shared formula, and
records the time each needs to land within :math:`10^{-7}` (relative) of the
best objective found.

The benchmark takes minutes and needs skglm and celer, so it is not re-run
when the documentation is built: this page shows the figures and tables it
saved in ``benchmarks/results/``. Reproduce them with::

    pip install -e ".[bench]"
    python benchmarks/bench_enet_speed.py

Each panel plots the relative suboptimality reached against the time taken;
each dot is one tolerance. Lower and further left is better, and the dashed
line is the :math:`10^{-7}` target.
"""

# %%
# Loading the saved results
# -------------------------
# The figures are read from ``benchmarks/results/``. If a benchmark has not
# been run in this checkout, its figure is replaced by a note saying how to
# make it.
from pathlib import Path

import matplotlib.pyplot as plt

try:
    HERE = Path(__file__).resolve().parent
except NameError:  # run interactively from the examples directory
    HERE = Path.cwd()
RESULTS = HERE.parent / "benchmarks" / "results"


def show(png, title, command):
    """Display a saved benchmark figure at its own aspect ratio."""
    path = RESULTS / png
    if not path.exists():
        fig, ax = plt.subplots(figsize=(8, 1.5))
        ax.text(0.5, 0.5, f"{png} not found: run\n{command}",
                ha="center", va="center", family="monospace")
        ax.set_axis_off()
        print(f"{path} not found; run: {command}")
        return
    image = plt.imread(path)
    height, width = image.shape[:2]
    # One figure pixel per image pixel, no margins: the saved figure as it is.
    dpi = 100
    fig = plt.figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(image, interpolation="none")
    ax.set_axis_off()
    print(f"{png}: {title}")


def print_report(md):
    """Print a benchmark's markdown report, if it was saved."""
    path = RESULTS / md
    print(path.read_text() if path.exists() else f"{path} not found.")


SPEED = "python benchmarks/bench_enet_speed.py"

# %%
# Lasso (``penalty="l1"``)
# ------------------------
show("enet_speed_lasso.png", "Lasso: relative suboptimality vs time", SPEED)

# %%
# Elastic net (``penalty="elasticnet"``, ``l1_ratio=0.5``)
# --------------------------------------------------------
show("enet_speed_enet.png", "Elastic net: relative suboptimality vs time", SPEED)

# %%
# The table
# ---------
# Time to reach :math:`10^{-7}` relative suboptimality for every solver, and the
# ratio of ours to the fastest peer (below 1 means ours is faster).
print_report("enet_speed.md")


# %%
# The ratios at a glance: time of ours divided by the time of the fastest peer,
# for every problem of the table.
def read_table(md):
    """Rows of the first markdown table of a report, as dicts."""
    path = RESULTS / md
    if not path.exists():
        return []
    lines = [line for line in path.read_text().splitlines() if line.startswith("|")]
    if len(lines) < 3:
        return []
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [
        dict(zip(header, (cell.strip() for cell in line.strip("|").split("|"))))
        for line in lines[2:]
    ]


rows = [row for row in read_table("enet_speed.md") if row.get("ratio", "n/a") != "n/a"]
if rows:
    labels = [f"{r['problem']}, {r['penalty']}, {r['alpha']}" for r in rows]
    ratios = [float(r["ratio"]) for r in rows]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.2))
    colors = ["C2" if ratio < 1 else "C3" for ratio in ratios]
    ax.barh(labels, ratios, color=colors)
    for i, ratio in enumerate(ratios):
        ax.text(ratio, i, f" {ratio:.2f}", va="center")
    ax.set_xlim(0, 1.15 * max(ratios + [1.0]))
    ax.axvline(1.0, color="k", linestyle="--", linewidth=1)
    ax.invert_yaxis()
    ax.set_xlabel("time of ours / time of the fastest peer (below 1: ours is faster)")
    ax.set_title("Time to 1e-7 relative suboptimality")
    fig.tight_layout()

# %%
# Cross-validated path against ``ElasticNetCV``
# ---------------------------------------------
# ``benchmarks/bench_enet_cv.py`` times :class:`~sklearn_mtl.RegularizedGDRegressorCV`
# against :class:`~sklearn.linear_model.ElasticNetCV` on the same grid and
# folds, and checks that both pick the same ``alpha``.
print_report("enet_cv.md")

# %%
# Multi-task regression against its peers
# ---------------------------------------
# ``benchmarks/bench_multitask_regression.py`` compares the accuracy of
# :class:`~sklearn_mtl.MultiTaskSharedRepRegressor` (tuned by ``GridSearchCV``)
# with per-task ridge, :class:`~sklearn.linear_model.MultiTaskLassoCV`,
# :class:`~sklearn.cross_decomposition.PLSRegression` and a linear-bottleneck
# :class:`~sklearn.neural_network.MLPRegressor`, with and without missing
# targets, and the time of one fit on a large problem against
# :class:`~sklearn.linear_model.Ridge`.
show("multitask_regression.png", "Multi-task regression: accuracy and speed",
     "python benchmarks/bench_multitask_regression.py")

# %%
# Multi-task classification against its peers
# --------------------------------------------
# ``benchmarks/bench_multitask_classification.py`` compares
# :class:`~sklearn_mtl.MultiTaskSharedRepClassifier` with per-task
# :class:`~sklearn.linear_model.LogisticRegressionCV` and a tuned
# :class:`~sklearn.neural_network.MLPClassifier`, accuracy and fit time.
print_report("multitask_classification.md")
