"""Speed and memory of MultiTaskSharedRepRegressor: the four targets of the
"tasks observed on their own samples" work.

(a) **School, one fit**: ``MultiTaskSharedRepRegressor(n_components=1,
    alpha=0.01)`` on the training rows of School split 1 (11472 pupils x 27
    attributes, 139 tasks, each row observed in the column of its school
    only) against a pooled sklearn ``Ridge(alpha=1.0)`` on the same rows (one
    target, the school ignored). Target: at most 20x Ridge's time.
(b) **Missing targets, large dense problem**: ``n x p = 100000 x 200``, 50
    tasks of rank 5 (:func:`sklearn_mtl.datasets.make_low_rank_tasks`), fit
    with ``n_components=5`` once with 20 % of the targets hidden (NaN,
    independently at random) and once fully observed. Target: the masked fit
    at most 2x the fully observed one. The ratio to a multi-output sklearn
    ``Ridge(alpha=1.0)`` on the full data is a yardstick. ``alpha=0.01`` is
    the headline; 0.1 and 0.001 show how the ratio moves with the number of
    iterations. A profile of one masked fit (own time per function) says
    where the time goes.
(c) **Memory of the masked fit**: the peak of the memory numpy reports to
    ``tracemalloc`` during ``fit``, minus what is allocated before it, as a
    fraction of ``X.nbytes`` (target: at most 0.3); also the peak resident
    set size in a fresh subprocess (``VmHWM`` after resetting it through
    ``/proc/self/clear_refs``, minus ``VmRSS`` before ``fit``: it also sees
    BLAS buffers and anything not reported to ``tracemalloc``).
(d) **Tuning on School**: ``MultiTaskSharedRepRegressorCV`` over 9 alphas x
    ``n_components`` in ``[1, 2, 4, 8]`` with ``KFold(3, shuffle=True,
    random_state=0)`` on the training rows of split 1 (target: at most 5 s),
    against ``GridSearchCV(MultiTaskSharedRepRegressor(), same grid, same
    folds)``. Both score with the estimator's ``score`` (the mean over tasks
    of each task's R^2 on its observed held-out entries; ``scoring=None`` in
    both, which is also what ``make_task_scorer(r2_score)`` computes -- the
    script checks it). Reported: both times and whether they pick the same
    pair, or else whether the two picks differ by more than the fold noise.

Timings: BLAS on one thread (``threadpoolctl``); CPU time of the process
(steadier than wall-clock on a shared machine) and wall-clock time, median of
repeats, the contenders interleaved so that both see the same load. Every
ratio is between medians measured in the same run.

Run::

    python benchmarks/bench_multitask_speed.py           # about 6 min
    python benchmarks/bench_multitask_speed.py --quick   # smoke run, < 1 min

Writes ``benchmarks/results/multitask_speed.md`` and ``multitask_speed.json``.
"""

import argparse
import cProfile
import json
import platform
import pstats
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold
from threadpoolctl import threadpool_limits

from sklearn_mtl import MultiTaskSharedRepRegressor, MultiTaskSharedRepRegressorCV
from sklearn_mtl.datasets import load_school, make_low_rank_tasks
from sklearn_mtl.metrics import make_task_scorer

RESULTS = Path(__file__).parent / "results"
TUNE_ALPHAS = np.logspace(-3, 1, 9)
TUNE_COMPONENTS = [1, 2, 4, 8]
TARGETS = {"a": 20.0, "b": 2.0, "c": 0.3, "d": 5.0}
# Rows of the warm-up fits: enough to take the form of the measured fits.
WARM_UP_ROWS = 10000


def cpu_wall(func, *args):
    """``(cpu_seconds, wall_seconds, result)`` of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = func(*args)
    return time.process_time() - cpu, time.perf_counter() - wall, result


def interleaved(contenders, repeat):
    """Median ``(cpu, wall)`` of each contender, run in turn ``repeat`` times.

    ``contenders`` maps a name to a function of no argument. Interleaving
    makes a change of the machine's load hit every contender alike.
    """
    times = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, func in contenders.items():
            cpu, wall, _ = cpu_wall(func)
            times[name].append((cpu, wall))
    return {name: tuple(np.median(np.array(t), axis=0)) for name, t in times.items()}


def school_rows():
    """``X``, ``Y`` (NaN off each school's rows) and ``y`` of split 1's training rows."""
    data = load_school()
    train, _ = data.splits[0]
    X, Y = data.data[train], data.target[train]
    y = Y[np.arange(len(train)), data.school[train]]
    return X, Y, y


# ---------------------------------------------------------------- (a)
def school_fit(repeat):
    """(a) One School fit of ours against a pooled ``Ridge`` on the same rows."""
    X, Y, y = school_rows()
    ours = MultiTaskSharedRepRegressor(n_components=1, alpha=0.01)
    ours.fit(X, Y)  # warm-up: Numba's kernels load on the first call
    Ridge(alpha=1.0).fit(X, y)
    times = interleaved(
        {"ours": lambda: ours.fit(X, Y), "ridge": lambda: Ridge(alpha=1.0).fit(X, y)},
        repeat,
    )
    return {
        "shape": list(X.shape), "n_tasks": Y.shape[1], "n_iter": ours.n_iter_,
        "ours": times["ours"], "ridge": times["ridge"],
        "ratio_cpu": times["ours"][0] / times["ridge"][0],
        "ratio_wall": times["ours"][1] / times["ridge"][1],
    }


# ---------------------------------------------------------------- (b), (c)
def large_problem(n_samples, n_features, n_tasks, rank, missing, seed=0):
    """``X``, fully observed ``Y`` and ``Y`` with a ``missing`` share hidden."""
    X, _, Y, _ = make_low_rank_tasks(
        n_samples, n_features, n_tasks, rank, noise=0.5, n_test_samples=1,
        random_state=seed,
    )
    rng = np.random.default_rng(seed + 1)
    Y_masked = Y.copy()
    Y_masked[rng.random(Y.shape) < missing] = np.nan
    return X, Y, Y_masked


def masked_vs_full(X, Y, Y_masked, rank, alphas, repeat):
    """(b) Median times of the masked, fully observed and Ridge fits."""
    rows = []
    ridge = None
    for alpha in alphas:
        models = {
            "full": MultiTaskSharedRepRegressor(n_components=rank, alpha=alpha),
            "masked": MultiTaskSharedRepRegressor(n_components=rank, alpha=alpha),
        }
        contenders = {
            "full": lambda models=models: models["full"].fit(X, Y),
            "masked": lambda models=models: models["masked"].fit(X, Y_masked),
        }
        if ridge is None:  # the yardstick once, interleaved with the first alpha
            contenders["ridge"] = lambda: Ridge(alpha=1.0).fit(X, Y)
        times = interleaved(contenders, repeat)
        ridge = times.get("ridge", ridge)
        rows.append({
            "alpha": alpha,
            "full": times["full"], "masked": times["masked"],
            "n_iter_full": models["full"].n_iter_,
            "n_iter_masked": models["masked"].n_iter_,
            "ratio_cpu": times["masked"][0] / times["full"][0],
            "ratio_wall": times["masked"][1] / times["full"][1],
        })
        print(f"  alpha {alpha:g}: masked {times['masked'][0]:.2f} s CPU "
              f"({models['masked'].n_iter_} it.), full {times['full'][0]:.2f} s "
              f"({models['full'].n_iter_} it.): {rows[-1]['ratio_cpu']:.1f}x", flush=True)
    return rows, ridge


def profile_fit(model, X, Y, top=8):
    """Own time of the ``top`` functions of one fit, as shares of the total."""
    profiler = cProfile.Profile()
    profiler.enable()
    model.fit(X, Y)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    total = sum(entry[2] for entry in stats.values())
    ranked = sorted(stats.items(), key=lambda item: -item[1][2])[:top]
    return [
        {
            "function": f"{Path(file).name}:{line}({name})" if file != "~" else name,
            "calls": entry[1],
            "own_s": entry[2],
            "share": entry[2] / total,
        }
        for (file, line, name), entry in ranked
    ]


def traced_peak(fit):
    """Peak memory reported to ``tracemalloc`` during ``fit()``, beyond before."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fit()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


_CHILD = r"""
import json, sys
import numpy as np
from threadpoolctl import threadpool_limits
from sklearn.linear_model import Ridge
from sklearn_mtl import MultiTaskSharedRepRegressor

def status():
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, value = line.split(":", 1)
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) * 1024
    return fields

X = np.load(sys.argv[1])
Y = np.load(sys.argv[2])
kind, rank, alpha = sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
warm_up = int(sys.argv[6])
with threadpool_limits(limits=1, user_api="blas"):
    # Warm-up outside the measure (Numba loads its kernels), on enough rows
    # that the fit takes the same form of the loss as the measured one.
    MultiTaskSharedRepRegressor(n_components=2).fit(X[:warm_up], Y[:warm_up])
    if kind == "ridge":
        model = Ridge(alpha=1.0)
    else:
        model = MultiTaskSharedRepRegressor(n_components=rank, alpha=alpha)
    before = status()["VmRSS"]
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current VmRSS
    model.fit(X, Y)
    print(json.dumps({"extra": status()["VmHWM"] - before}))
"""


def rss_peak(X, Y, kind, rank, alpha):
    """Peak RSS of ``fit`` beyond the RSS before it, in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        x_path, y_path = Path(tmp) / "X.npy", Path(tmp) / "Y.npy"
        np.save(x_path, X)
        np.save(y_path, Y)
        result = subprocess.run(
            [sys.executable, "-c", _CHILD, str(x_path), str(y_path), kind,
             str(rank), str(alpha), str(WARM_UP_ROWS)],
            capture_output=True, text=True,
        )
    if result.returncode != 0:
        print(result.stderr[-2000:])
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])["extra"]


def memory(X, Y, Y_masked, rank, alpha):
    """(c) Extra memory of the masked and fully observed fits, and of Ridge."""
    out = {"x_bytes": X.nbytes}
    for name, targets, make in [
        ("masked", Y_masked, lambda: MultiTaskSharedRepRegressor(n_components=rank, alpha=alpha)),
        ("full", Y, lambda: MultiTaskSharedRepRegressor(n_components=rank, alpha=alpha)),
        ("ridge", Y, lambda: Ridge(alpha=1.0)),
    ]:
        traced = traced_peak(lambda make=make, targets=targets: make().fit(X, targets))
        rss = rss_peak(X, targets, "ridge" if name == "ridge" else "ours", rank, alpha)
        out[name] = {
            "traced": traced, "traced_ratio": traced / X.nbytes,
            "rss": rss, "rss_ratio": None if rss is None else rss / X.nbytes,
        }
        rss_text = "n/a" if rss is None else f"{rss / X.nbytes:.2f}"
        print(f"  {name}: tracemalloc {traced / X.nbytes:.2f} x X, RSS {rss_text} x X",
              flush=True)
    return out


# ---------------------------------------------------------------- (d)
def _grid_table(search):
    """GridSearchCV's mean and per-fold scores as ``(n_k, n_alphas[, folds])``."""
    results = search.cv_results_
    n_splits = search.n_splits_
    mean = np.full((len(TUNE_COMPONENTS), len(TUNE_ALPHAS)), np.nan)
    folds = np.full(mean.shape + (n_splits,), np.nan)
    for i, (alpha, k) in enumerate(zip(results["param_alpha"], results["param_n_components"])):
        a = int(np.argmin(np.abs(np.log(TUNE_ALPHAS / alpha))))
        j = TUNE_COMPONENTS.index(k)
        mean[j, a] = results["mean_test_score"][i]
        folds[j, a] = [results[f"split{s}_test_score"][i] for s in range(n_splits)]
    return mean, folds


def _index(alpha, k):
    return TUNE_COMPONENTS.index(k), int(np.argmin(np.abs(np.log(TUNE_ALPHAS / alpha))))


def tuning(repeat):
    """(d) ``MultiTaskSharedRepRegressorCV`` against ``GridSearchCV`` on School."""
    X, Y, _ = school_rows()
    cv = KFold(3, shuffle=True, random_state=0)

    def ours():
        return MultiTaskSharedRepRegressorCV(
            alphas=TUNE_ALPHAS, n_components=TUNE_COMPONENTS, cv=cv, random_state=0
        ).fit(X, Y)

    def grid():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return GridSearchCV(
                MultiTaskSharedRepRegressor(random_state=0),
                {"alpha": TUNE_ALPHAS, "n_components": TUNE_COMPONENTS},
                cv=cv,
            ).fit(X, Y)

    results = {}
    times = interleaved({"cv": lambda: results.__setitem__("cv", ours()),
                         "grid": lambda: results.__setitem__("grid", grid())}, repeat)
    model, search = results["cv"], results["grid"]
    # The default score is the estimator's score(): check it is also what
    # make_task_scorer(r2_score) computes, on the held-out rows of fold 1.
    train, test = next(cv.split(X))
    fold_model = MultiTaskSharedRepRegressor(n_components=1, alpha=0.01).fit(X[train], Y[train])
    same_score = abs(
        make_task_scorer(r2_score)(fold_model, X[test], Y[test])
        - fold_model.score(X[test], Y[test])
    )
    ours_mean = model.score_path_.mean(axis=-1)
    grid_mean, grid_folds = _grid_table(search)
    pick_ours = (model.alpha_, model.n_components_)
    best = search.best_params_
    pick_grid = (float(best["alpha"]), int(best["n_components"]))
    # Ours stores alphas decreasing; GridSearchCV's table is built increasing.
    ours_mean_inc = ours_mean[:, ::-1]
    ours_folds_inc = model.score_path_[:, ::-1, :]
    i_o, i_g = _index(*pick_ours), _index(*pick_grid)

    def paired(folds):
        diff = folds[i_g] - folds[i_o]
        return float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(diff.size))

    return {
        "shape": list(X.shape),
        "cv": times["cv"], "grid": times["grid"],
        "speedup_cpu": times["grid"][0] / times["cv"][0],
        "pick_ours": pick_ours, "pick_grid": pick_grid,
        "same_pick": pick_ours == pick_grid,
        # Each search's own scores: the gap between the two picks and its
        # standard error over the paired folds.
        "gap_in_grid": paired(grid_folds),
        "gap_in_ours": paired(ours_folds_inc),
        "max_table_diff": float(np.nanmax(np.abs(grid_mean - ours_mean_inc))),
        "score_check": same_score,
        "n_fits_grid": len(search.cv_results_["params"]) * search.n_splits_ + 1,
    }


# ------------------------------------------------------------------ report
def _pass(value, target):
    return "**met**" if value <= target else "**missed**"


def write_report(args, res, path):
    a, (rows, ridge), mem, d, prof = res["a"], res["b"], res["c"], res["d"], res["profile"]
    head = rows[0]
    n, p, T, rank = args.shape
    command = "python benchmarks/bench_multitask_speed.py" + (" --quick" if args.quick else "")
    lines = [
        "# Multi-task speed and memory: the targets",
        "",
        f"Produced by `{command}` in {res['elapsed']:.0f} s.",
        f"Python {platform.python_version()}, numpy {np.__version__}, scikit-learn "
        f"{sklearn.__version__}, {platform.machine()}, a shared 2-core machine; "
        "BLAS on one thread.",
        "",
        "Times: CPU time of the process (steady under load) / wall-clock time, "
        "median of the repeats, contenders interleaved; every ratio is of CPU "
        "medians from the same run (wall-clock ratio in brackets).",
        "",
        "## Summary",
        "",
        "| target | measured | goal | |",
        "|---|---|---|---|",
        f"| (a) School fit / pooled Ridge | {a['ratio_cpu']:.1f}x "
        f"({a['ratio_wall']:.1f}x) | <= {TARGETS['a']:g}x "
        f"| {_pass(a['ratio_cpu'], TARGETS['a'])} |",
        f"| (b) masked fit / fully observed fit ({n} x {p}, {T} tasks, alpha "
        f"{head['alpha']:g}) | {head['ratio_cpu']:.1f}x ({head['ratio_wall']:.1f}x) "
        f"| <= {TARGETS['b']:g}x | {_pass(head['ratio_cpu'], TARGETS['b'])} |",
        f"| (c) extra memory of the masked fit / X.nbytes (tracemalloc) "
        f"| {mem['masked']['traced_ratio']:.2f} | <= {TARGETS['c']:g} "
        f"| {_pass(mem['masked']['traced_ratio'], TARGETS['c'])} |",
        f"| (d) tuning on School, 9 alphas x 4 k x 3 folds (CPU / wall s) "
        f"| {d['cv'][0]:.2f} / {d['cv'][1]:.2f} s | <= {TARGETS['d']:g} s "
        f"| {_pass(d['cv'][0], TARGETS['d'])} (CPU), {_pass(d['cv'][1], TARGETS['d'])} (wall) |",
        f"| (d) same pick as GridSearchCV | {'yes' if d['same_pick'] else 'no'} | "
        "same up to noise | |",
        "",
        f"## (a) School: one fit against a pooled Ridge ({args.repeat_a} repeats)",
        "",
        f"Training rows of split 1: {a['shape'][0]} x {a['shape'][1]}, "
        f"{a['n_tasks']} tasks, each row observed in one task. Ours: "
        f"`MultiTaskSharedRepRegressor(n_components=1, alpha=0.01)` ({a['n_iter']} "
        "iterations); Ridge: `Ridge(alpha=1.0)` on the observed score of each row.",
        "",
        "| model | CPU (ms) | wall (ms) |",
        "|---|---|---|",
        f"| ours | {1e3 * a['ours'][0]:.2f} | {1e3 * a['ours'][1]:.2f} |",
        f"| Ridge | {1e3 * a['ridge'][0]:.2f} | {1e3 * a['ridge'][1]:.2f} |",
        f"| ratio | {a['ratio_cpu']:.1f}x | {a['ratio_wall']:.1f}x |",
        "",
        f"## (b) {n} x {p}, {T} tasks of rank {rank}: 20 % of targets missing "
        f"({args.repeat_b} repeats)",
        "",
        f"`make_low_rank_tasks({n}, {p}, {T}, {rank}, noise=0.5)`; 20 % of the "
        f"entries of Y set to NaN independently at random. "
        f"`MultiTaskSharedRepRegressor(n_components={rank}, alpha=...)`, masked "
        "and fully observed fits interleaved. Yardstick: sklearn "
        f"`Ridge(alpha=1.0).fit(X, Y)` on the full data, {ridge[0]:.2f} s CPU "
        f"({ridge[1]:.2f} s wall).",
        "",
        "| alpha | masked (s) | iterations | full (s) | iterations | masked / full "
        "| masked / Ridge | full / Ridge |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['alpha']:g} | {row['masked'][0]:.2f} / {row['masked'][1]:.2f} "
            f"| {row['n_iter_masked']} | {row['full'][0]:.2f} / {row['full'][1]:.2f} "
            f"| {row['n_iter_full']} | **{row['ratio_cpu']:.1f}x** ({row['ratio_wall']:.1f}x) "
            f"| {row['masked'][0] / ridge[0]:.1f}x | {row['full'][0] / ridge[0]:.1f}x |"
        )
    lines += [
        "",
        f"Where the masked fit's time goes (alpha {head['alpha']:g}, one fit under "
        "`cProfile`, own time of each function):",
        "",
        "| function | calls | own time (s) | share |",
        "|---|---|---|---|",
    ]
    for entry in prof:
        lines.append(
            f"| `{entry['function']}` | {entry['calls']} | {entry['own_s']:.2f} "
            f"| {100 * entry['share']:.0f} % |"
        )
    lines += [
        "",
        "## (c) Extra memory during fit, as a fraction of X's bytes",
        "",
        f"X is {n} x {p} float64 ({mem['x_bytes'] / 1e6:.0f} MB). "
        "*tracemalloc*: peak of numpy's traced allocations during `fit` minus "
        "the traced memory before it (same process). *RSS*: a fresh process "
        "loads X and Y, fits its first rows to load the kernels, resets its peak "
        "RSS (`/proc/self/clear_refs`), fits, and reports `VmHWM - VmRSS before`.",
        "",
        "| fit | tracemalloc | RSS |",
        "|---|---|---|",
    ]
    for name, label in [("masked", "ours, 20 % missing"), ("full", "ours, fully observed"),
                        ("ridge", "sklearn Ridge, full")]:
        m = mem[name]
        rss = "n/a" if m["rss_ratio"] is None else f"{m['rss_ratio']:.2f}"
        lines.append(f"| {label} | {m['traced_ratio']:.2f} | {rss} |")
    lines += [
        "",
        f"## (d) Tuning on School ({args.repeat_d} repeats)",
        "",
        f"Training rows of split 1 ({d['shape'][0]} x {d['shape'][1]}, 139 tasks); "
        "alphas `logspace(-3, 1, 9)`, n_components [1, 2, 4, 8], "
        "`KFold(3, shuffle=True, random_state=0)`, score: the estimator's "
        "`score` (mean per-task R^2 on observed entries) for both; "
        f"`make_task_scorer(r2_score)` gives the same value (difference "
        f"{d['score_check']:.1e} on fold 1).",
        "",
        "| search | CPU (s) | wall (s) | picks (alpha, n_components) |",
        "|---|---|---|---|",
        f"| `MultiTaskSharedRepRegressorCV` | {d['cv'][0]:.2f} | {d['cv'][1]:.2f} "
        f"| ({d['pick_ours'][0]:g}, {d['pick_ours'][1]}) |",
        f"| `GridSearchCV` ({d['n_fits_grid']} fits) | {d['grid'][0]:.2f} "
        f"| {d['grid'][1]:.2f} | ({d['pick_grid'][0]:g}, {d['pick_grid'][1]}) |",
        "",
        f"GridSearchCV / CV estimator: {d['speedup_cpu']:.1f}x CPU time. Largest "
        "difference between the two mean-score tables over the 36 candidates "
        f"(warm-started path against cold fits): {d['max_table_diff']:.4f}.",
    ]
    if not d["same_pick"]:
        g_mean, g_se = d["gap_in_grid"]
        o_mean, o_se = d["gap_in_ours"]
        lines.append(
            "The picks differ; GridSearchCV's pick minus ours, paired over the "
            f"folds: {g_mean:+.4f} ± {g_se:.4f} (s.e.) on GridSearchCV's scores, "
            f"{o_mean:+.4f} ± {o_se:.4f} on ours."
        )
    path.write_text("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 20000 x 200 problem, fewer repeats")
    parser.add_argument("--output", type=Path, default=RESULTS / "multitask_speed.md")
    args = parser.parse_args()
    args.shape = (20000, 200, 50, 5) if args.quick else (100000, 200, 50, 5)
    args.repeat_a = 10 if args.quick else 50
    args.repeat_b = 1 if args.quick else 3
    args.repeat_d = 1 if args.quick else 3
    alphas = [0.01] if args.quick else [0.01, 0.1, 0.001]
    start = time.perf_counter()
    res = {}
    with threadpool_limits(limits=1, user_api="blas"):
        print("(a) School fit against Ridge")
        res["a"] = school_fit(args.repeat_a)
        print(f"  {res['a']['ratio_cpu']:.1f}x Ridge")
        n, p, T, rank = args.shape
        print(f"(b) {n} x {p}, {T} tasks, 20% missing")
        X, Y, Y_masked = large_problem(n, p, T, rank, 0.2)
        warm_up = slice(WARM_UP_ROWS)  # Numba loads the kernels of the same form
        MultiTaskSharedRepRegressor(n_components=2).fit(X[warm_up], Y_masked[warm_up])
        res["b"] = masked_vs_full(X, Y, Y_masked, rank, alphas, args.repeat_b)
        res["profile"] = profile_fit(
            MultiTaskSharedRepRegressor(n_components=rank, alpha=alphas[0]), X, Y_masked
        )
        print("(c) memory")
        res["c"] = memory(X, Y, Y_masked, rank, alphas[0])
        del X, Y, Y_masked
        print("(d) tuning on School")
        res["d"] = tuning(args.repeat_d)
        print(f"  CV {res['d']['cv'][0]:.2f} s CPU, GridSearchCV {res['d']['grid'][0]:.2f} s")
    res["elapsed"] = time.perf_counter() - start
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_report(args, res, args.output)
    args.output.with_suffix(".json").write_text(json.dumps(res, indent=1, default=float))
    print(args.output.read_text())


if __name__ == "__main__":
    main()
