"""Multi-task regression: generalisation and speed of MultiTaskSharedRepRegressor.

Three experiments on tasks drawn by :func:`sklearn_mtl.datasets.make_low_rank_tasks`
(standard normal features, rank-``r`` coefficient matrix with unit-norm task
vectors, Gaussian noise; test targets never missing):

1. **Few samples, many features** (``n < p``): test R^2 of our estimator tuned
   by ``GridSearchCV`` over ``alpha`` and ``n_components``, against
   ``RidgeCV(alpha_per_target=True)``, ``MultiTaskLassoCV``, ``PLSRegression``
   tuned over ``n_components`` and a linear-bottleneck ``MLPRegressor``
   (identity activation) tuned over its width and ``alpha``. Averaged over
   several draws.
2. **Half of the targets missing**: ours (tuned the same way, NaN targets kept
   as missing) against a per-task ``RidgeCV`` fit on each task's observed rows.
3. **Speed** on ``n=20000, p=500, T=100``, rank 8: one fit of ours
   (``n_components=8``, a fixed ``alpha`` not tuned on the test set) against
   sklearn ``Ridge``, ``PLSRegression(n_components=8)`` and
   ``MLPRegressor(hidden_layer_sizes=(8,), activation="identity")``: time and
   test R^2, with time ratios to Ridge.

Timings run with BLAS limited to one thread, for every model: the CPU time of
the process is reported first (on a shared machine it is far steadier than
wall-clock time, and it is what the wall-clock time would be on an idle
machine), the wall-clock time beside it.

Run::

    python benchmarks/bench_multitask_regression.py          # a few minutes
    python benchmarks/bench_multitask_regression.py --quick  # smaller, faster

Writes ``benchmarks/results/multitask_regression.md`` and
``benchmarks/results/multitask_regression.png``.
"""

import argparse
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.cross_decomposition import PLSRegression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import MultiTaskLassoCV, Ridge, RidgeCV
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neural_network import MLPRegressor
from threadpoolctl import threadpool_limits

from sklearn_mtl import MultiTaskSharedRepRegressor
from sklearn_mtl.datasets import make_low_rank_tasks

RESULTS = Path(__file__).parent / "results"
ALPHAS_OURS = np.logspace(-3, 1, 9)
ALPHAS_RIDGE = np.logspace(-2, 4, 25)


def mean_r2(Y_true, Y_pred):
    """Mean over tasks of the per-task R^2 (the score of every model here)."""
    return r2_score(Y_true, Y_pred, multioutput="uniform_average")


# ------------------------------------------------------------------ models
def tuned_ours(rank_grid, cv):
    return GridSearchCV(
        MultiTaskSharedRepRegressor(max_iter=500, random_state=0),
        {"alpha": ALPHAS_OURS, "n_components": rank_grid},
        cv=cv,
    )


def tuned_pls(max_components, cv):
    return GridSearchCV(
        PLSRegression(scale=False),
        {"n_components": list(range(1, max_components + 1))},
        cv=cv,
    )


def tuned_mlp(widths, cv):
    return GridSearchCV(
        MLPRegressor(
            activation="identity", solver="lbfgs", max_iter=1000, random_state=0
        ),
        {
            "hidden_layer_sizes": [(w,) for w in widths],
            "alpha": [1e-2, 1.0, 10.0, 100.0],
        },
        cv=cv,
    )


def per_task_ridge_predict(X, Y, X_test):
    """RidgeCV fit on each task's observed rows, predicting every test row."""
    Y_pred = np.empty((X_test.shape[0], Y.shape[1]))
    for t in range(Y.shape[1]):
        observed = ~np.isnan(Y[:, t])
        model = RidgeCV(alphas=ALPHAS_RIDGE).fit(X[observed], Y[observed, t])
        Y_pred[:, t] = model.predict(X_test)
    return Y_pred


# ------------------------------------------------------------- experiments
def generalisation(n_samples, n_features, n_tasks, rank, seeds, quick):
    """Experiment 1: fully observed, n < p."""
    cv = KFold(3, shuffle=True, random_state=0)
    # None: no rank constraint, the trace-norm problem
    rank_grid = [1, 2, 4, 8, None]
    names = [
        "MultiTaskSharedRepRegressor (GridSearchCV: alpha, n_components)",
        "RidgeCV(alpha_per_target=True)",
        "MultiTaskLassoCV",
        "PLSRegression (GridSearchCV: n_components)",
        "MLPRegressor, linear bottleneck (GridSearchCV: width, alpha)",
    ]
    scores = {name: [] for name in names}
    for seed in seeds:
        X, X_test, Y, Y_test = make_low_rank_tasks(
            n_samples, n_features, n_tasks, rank, noise=0.5,
            n_test_samples=2000, random_state=seed,
        )
        models = [
            tuned_ours(rank_grid, cv),
            RidgeCV(alphas=ALPHAS_RIDGE, alpha_per_target=True),
            MultiTaskLassoCV(cv=cv, alphas=10 if quick else 30, max_iter=2000),
            tuned_pls(10, cv),
            tuned_mlp([2, 4, 8], cv),
        ]
        for name, model in zip(names, models):
            start = time.perf_counter()
            model.fit(X, Y)
            scores[name].append(mean_r2(Y_test, model.predict(X_test)))
            print(f"  seed {seed} {name}: R2 {scores[name][-1]:.4f} "
                  f"({time.perf_counter() - start:.1f} s)", flush=True)
    return scores


def missing_targets(n_samples, n_features, n_tasks, rank, seeds):
    """Experiment 2: half of the training targets missing."""
    cv = KFold(3, shuffle=True, random_state=0)
    names = [
        "MultiTaskSharedRepRegressor (GridSearchCV, NaN = missing)",
        "RidgeCV per task on its observed rows",
    ]
    scores = {name: [] for name in names}
    for seed in seeds:
        X, X_test, Y, Y_test = make_low_rank_tasks(
            n_samples, n_features, n_tasks, rank, noise=0.5,
            missing_fraction=0.5, n_test_samples=2000, random_state=seed,
        )
        ours = tuned_ours([1, 2, 4, 8], cv).fit(X, Y)
        scores[names[0]].append(mean_r2(Y_test, ours.predict(X_test)))
        scores[names[1]].append(mean_r2(Y_test, per_task_ridge_predict(X, Y, X_test)))
        print(f"  seed {seed}: " + ", ".join(
            f"{name}: {scores[name][-1]:.4f}" for name in names), flush=True)
    return scores


def timed(make, X, Y, repeat):
    """Best CPU time and best wall-clock time of a fit, BLAS on one thread."""
    cpu, wall = np.inf, np.inf
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(repeat):
            model = make()
            start_cpu, start_wall = time.process_time(), time.perf_counter()
            model.fit(X, Y)
            cpu = min(cpu, time.process_time() - start_cpu)
            wall = min(wall, time.perf_counter() - start_wall)
    return model, cpu, wall


def speed(n_samples, n_features, n_tasks, rank, alpha, repeat):
    """Experiment 3: one fit each on a large fully observed problem."""
    X, X_test, Y, Y_test = make_low_rank_tasks(
        n_samples, n_features, n_tasks, rank, noise=0.5, n_test_samples=5000,
        random_state=0,
    )
    # compile the kernels (cached on disk after the first run)
    MultiTaskSharedRepRegressor(n_components=2).fit(X[:50], Y[:50])
    models = {
        f"MultiTaskSharedRepRegressor(n_components={rank}, alpha={alpha})": (
            lambda: MultiTaskSharedRepRegressor(n_components=rank, alpha=alpha),
            repeat,
        ),
        "Ridge(alpha=1.0)": (lambda: Ridge(alpha=1.0), repeat),
        f"PLSRegression(n_components={rank})": (
            lambda: PLSRegression(n_components=rank, scale=False),
            1,
        ),
        f"MLPRegressor(hidden_layer_sizes=({rank},), activation='identity')": (
            lambda: MLPRegressor(
                hidden_layer_sizes=(rank,), activation="identity", random_state=0
            ),
            1,
        ),
    }
    rows = {}
    for name, (make, n_repeat) in models.items():
        model, cpu, wall = timed(make, X, Y, n_repeat)
        rows[name] = (cpu, wall, mean_r2(Y_test, model.predict(X_test)))
        print(f"  {name}: cpu {cpu:.3f} s, wall {wall:.3f} s, "
              f"R2 {rows[name][2]:.4f}", flush=True)
    return rows


# ----------------------------------------------------------------- report
def summary(values):
    values = np.asarray(values)
    return f"{values.mean():.4f} ± {values.std():.4f}"


def write_report(args, setup1, scores1, setup2, scores2, setup3, rows3, path):
    ridge_cpu, ridge_wall, _ = rows3["Ridge(alpha=1.0)"]
    lines = [
        "# Multi-task regression benchmark",
        "",
        "Produced by `python benchmarks/bench_multitask_regression.py"
        + (" --quick" if args.quick else "") + "`.",
        f"Python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, {platform.machine()}.",
        "Data: `make_low_rank_tasks` (standard normal features, rank-r task "
        "coefficients with unit-norm rows, noise 0.5, so the best possible "
        "test R^2 is 0.8). Score: mean over tasks of the test R^2.",
        "",
        f"## 1. Few samples, many features ({setup1}), "
        f"mean ± std over {len(args.seeds)} draws",
        "",
        "| model | test R^2 |",
        "|---|---|",
    ]
    lines += [f"| {name} | {summary(v)} |" for name, v in scores1.items()]
    lines += [
        "",
        f"## 2. Half of the training targets missing ({setup2}), "
        f"mean ± std over {len(args.seeds)} draws",
        "",
        "| model | test R^2 |",
        "|---|---|",
    ]
    lines += [f"| {name} | {summary(v)} |" for name, v in scores2.items()]
    lines += [
        "",
        f"## 3. Speed ({setup3})",
        "",
        "Every model runs with BLAS on one thread. CPU time (steady on this "
        "shared 2-core machine) and wall-clock time (noisier), best of "
        f"{args.repeat} fits for ours and Ridge, one fit for PLS and MLP; "
        "ratios are to sklearn `Ridge`.",
        "",
        "| model | CPU time (s) | ratio to Ridge | wall time (s) | ratio to Ridge "
        "| test R^2 |",
        "|---|---|---|---|---|---|",
    ]
    for name, (cpu, wall, r2) in rows3.items():
        lines.append(
            f"| {name} | {cpu:.3f} | {cpu / ridge_cpu:.2f} | {wall:.3f} "
            f"| {wall / ridge_wall:.2f} | {r2:.4f} |"
        )
    ours = next(name for name in rows3 if name.startswith("MultiTask"))
    mlp = next(name for name in rows3 if name.startswith("MLP"))
    lines += [
        "",
        f"Ours reaches test R^2 {rows3[ours][2]:.4f} (MLP: {rows3[mlp][2]:.4f}) "
        f"in {rows3[ours][0] / ridge_cpu:.2f}x the CPU time of Ridge "
        f"({rows3[ours][1] / ridge_wall:.2f}x its wall-clock time); the MLP "
        f"needs {rows3[mlp][0] / rows3[ours][0]:.1f}x our CPU time.",
    ]
    path.write_text("\n".join(lines) + "\n")


def plot(scores1, scores2, rows3, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    for ax, scores, title in [
        (axes[0], scores1, "n < p, fully observed"),
        (axes[1], scores2, "half of the targets missing"),
    ]:
        names = list(scores)
        means = [np.mean(scores[n]) for n in names]
        stds = [np.std(scores[n]) for n in names]
        ax.barh(range(len(names)), means, xerr=stds, color="C0")
        ax.set_yticks(range(len(names)), [n.split(" (")[0] for n in names])
        ax.invert_yaxis()
        ax.set_xlabel("mean test R^2 over tasks")
        ax.set_title(title)
    names = list(rows3)
    ax = axes[2]
    ax.barh(range(len(names)), [rows3[n][0] for n in names], color="C1")
    ax.set_yticks(
        range(len(names)),
        [f"{n.split('(')[0]}\nR^2 = {rows3[n][2]:.4f}" for n in names],
    )
    ax.invert_yaxis()
    ax.set_xscale("log")
    # Labelled ticks at 1-2-5 steps: a log axis over one decade otherwise
    # shows a single label.
    ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("CPU time of one fit (s, one BLAS thread)")
    ax.set_title("speed, n=20000, p=500, T=100")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller problems")
    args = parser.parse_args()
    args.seeds = [0, 1] if args.quick else [0, 1, 2]
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    RESULTS.mkdir(exist_ok=True)

    n1, p1, T1, r1 = (60, 120, 30, 3) if args.quick else (100, 200, 50, 4)
    setup1 = f"n={n1}, p={p1}, T={T1}, rank {r1}"
    print(f"1. generalisation, {setup1}")
    scores1 = generalisation(n1, p1, T1, r1, args.seeds, args.quick)

    setup2 = f"n={n1}, p={p1}, T={T1}, rank {r1}, 50% of targets missing"
    print(f"2. missing targets, {setup2}")
    scores2 = missing_targets(n1, p1, T1, r1, args.seeds)

    n3, p3, T3, r3 = (5000, 200, 50, 8) if args.quick else (20000, 500, 100, 8)
    setup3 = f"n={n3}, p={p3}, T={T3}, rank {r3}"
    print(f"3. speed, {setup3}")
    args.repeat = 3
    rows3 = speed(n3, p3, T3, r3, alpha=0.01, repeat=args.repeat)

    write_report(
        args, setup1, scores1, setup2, scores2, setup3, rows3,
        RESULTS / "multitask_regression.md",
    )
    plot(scores1, scores2, rows3, RESULTS / "multitask_regression.png")
    print((RESULTS / "multitask_regression.md").read_text())


if __name__ == "__main__":
    main()
