"""Compile and start-up time of a fresh process that imports a library and fits.

Three parts.

``compile``: the first-fit compile time of every public estimator, in the
configurations that compile different kernels or specialisations
(``RegularizedGDRegressor`` for each penalty on dense C, dense Fortran and
sparse data, ``RegularizedGDRegressorCV``, ``regularized_gd_path``, the
multi-task regressor with and without missing targets and with an L1 part,
the multi-task classifier with binary and multiclass heads and both solvers,
and the two multi-task CV classes). Each measurement is a new process that
imports the estimator and fits a small problem, run twice on the same, new,
empty Numba cache directory (``NUMBA_CACHE_DIR``): the first run compiles and
writes the cache, the second loads it. Compile = median of the first runs -
median of the second runs (``--repeats`` fresh directories, 3 by default).
skglm's ``Lasso`` is measured the same way for comparison. The child also
reports the CPU time of its fit alone.

``quickstart``: ``python examples/quickstart.py`` on an empty cache and then
on the cache it filled (median of ``--repeats``, 3 by default).

``startup``: compares ``sklearn_mtl.RegularizedGDRegressor`` (L1) with
sklearn's ``Lasso``: each run is a new Python process that imports the
estimator, loads the data and fits once. Numba's on-disk cache is warmed
first, so the figure is what a user pays on every new process after the first
ever: imports, loading the compiled kernels and the fit itself (skglm's
jitclasses, which cannot be cached, recompile in every process; their figure
is printed too when skglm is installed).

Where the time goes (measured earlier): ``import sklearn.base`` alone costs
about as much as ``import sklearn.linear_model``, and Numba adds a fixed cost
to every process that calls any jitted function, cached or not: about 0.25 s
to import and 0.25 s to set up its typing registries on the first call.

Run with ``python benchmarks/bench_cold_start.py [--part
compile|quickstart|startup|all] [--repeats N] [--only SUBSTRINGS]``. Writes
``benchmarks/results/cold_start.md`` (``--output`` to change) and, with the
compile part, ``cold_start.json`` beside it.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"

# Two ways to get "a small problem": generated with NumPy, so that the process
# pays exactly the library's own import and fit, and sklearn's diabetes data,
# whose loader already imports most of scikit-learn for every contender.
DATA = {
    "numpy data": (
        "import numpy as np\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.standard_normal((200, 20)); y = X[:, 0] + rng.standard_normal(200)\n"
    ),
    "load_diabetes": (
        "from sklearn.datasets import load_diabetes\n"
        "X, y = load_diabetes(return_X_y=True)\n"
    ),
}
FITS = {
    "sklearn_mtl RegularizedGDRegressor": (
        "from sklearn_mtl import RegularizedGDRegressor\n"
        "RegularizedGDRegressor(penalty='l1', alpha=0.1).fit(X, y)\n"
    ),
    "sklearn Lasso": (
        "from sklearn.linear_model import Lasso\n"
        "Lasso(alpha=0.1).fit(X, y)\n"
    ),
    "skglm Lasso": "from skglm import Lasso\nLasso(alpha=0.1).fit(X, y)\n",
}

# ------------------------------------------------------------ compile part
# Small problems made with NumPy/SciPy only; ``EST`` is then fitted by ``FIT``.
_REG_DATA = (
    "import numpy as np\n"
    "rng = np.random.default_rng(0)\n"
    "X = rng.standard_normal((200, 30))\n"
    "y = X[:, :3].sum(axis=1) + rng.standard_normal(200)\n"
)
_SPARSE_DATA = (
    "import numpy as np, scipy.sparse as sp\n"
    "rng = np.random.default_rng(0)\n"
    "X = sp.random(200, 50, density=0.1, format='csc', random_state=0)\n"
    "y = np.asarray(X[:, :3].sum(axis=1)).ravel() + rng.standard_normal(200)\n"
)
_MT_DATA = (
    "import numpy as np\n"
    "rng = np.random.default_rng(0)\n"
    "X = rng.standard_normal((100, 30))\n"
    "Y = X @ rng.standard_normal((30, 2)) @ rng.standard_normal((2, 6))\n"
    "Y += 0.1 * rng.standard_normal(Y.shape)\n"
)
_MT_NAN = "Y[rng.random(Y.shape) < 0.3] = np.nan\n"
_BINARY = "Y = (Y > 0).astype(int)\n"
_MULTICLASS = "Y = np.digitize(Y, [-1.0, 1.0])\n"  # 3 classes per task

_REG = "from sklearn_mtl import RegularizedGDRegressor\n"
_MTR = "from sklearn_mtl import MultiTaskSharedRepRegressor\n"
_MTC = "from sklearn_mtl import MultiTaskSharedRepClassifier\n"
# name -> (data code, import code, estimator expression, fit expression)
COMPILE_CASES = {
    "RegularizedGDRegressor l1, dense C": (
        _REG_DATA, _REG, "RegularizedGDRegressor('l1', alpha=0.1)", "est.fit(X, y)"
    ),
    "RegularizedGDRegressor l1, dense Fortran": (
        _REG_DATA + "X = np.asfortranarray(X)\n", _REG,
        "RegularizedGDRegressor('l1', alpha=0.1)", "est.fit(X, y)",
    ),
    "RegularizedGDRegressor l1, sparse CSC": (
        _SPARSE_DATA, _REG, "RegularizedGDRegressor('l1', alpha=0.01)", "est.fit(X, y)"
    ),
    "RegularizedGDRegressor elasticnet, dense": (
        _REG_DATA, _REG,
        "RegularizedGDRegressor('elasticnet', alpha=0.1, l1_ratio=0.5)", "est.fit(X, y)",
    ),
    "RegularizedGDRegressor elasticnet, sparse CSC": (
        _SPARSE_DATA, _REG,
        "RegularizedGDRegressor('elasticnet', alpha=0.01, l1_ratio=0.5)", "est.fit(X, y)",
    ),
    "RegularizedGDRegressor l2, dense": (
        _REG_DATA, _REG, "RegularizedGDRegressor('l2', alpha=0.1)", "est.fit(X, y)"
    ),
    "RegularizedGDRegressor l2, sparse CSC": (
        _SPARSE_DATA, _REG, "RegularizedGDRegressor('l2', alpha=0.01)", "est.fit(X, y)"
    ),
    "RegularizedGDRegressor None, dense": (
        _REG_DATA, _REG, "RegularizedGDRegressor(None)", "est.fit(X, y)"
    ),
    "RegularizedGDRegressor None, sparse CSC": (
        _SPARSE_DATA, _REG, "RegularizedGDRegressor(None)", "est.fit(X, y)"
    ),
    "RegularizedGDRegressorCV, dense": (
        _REG_DATA, "from sklearn_mtl import RegularizedGDRegressorCV\n",
        "RegularizedGDRegressorCV()", "est.fit(X, y)",
    ),
    "RegularizedGDRegressorCV, sparse CSC": (
        _SPARSE_DATA, "from sklearn_mtl import RegularizedGDRegressorCV\n",
        "RegularizedGDRegressorCV()", "est.fit(X, y)",
    ),
    "regularized_gd_path l1, dense": (
        _REG_DATA, "from sklearn_mtl import regularized_gd_path\n",
        "None", "regularized_gd_path(X, y, penalty='l1')",
    ),
    "regularized_gd_path l1, sparse CSC": (
        _SPARSE_DATA, "from sklearn_mtl import regularized_gd_path\n",
        "None", "regularized_gd_path(X, y, penalty='l1')",
    ),
    "MultiTaskSharedRepRegressor": (
        _MT_DATA, _MTR, "MultiTaskSharedRepRegressor(n_components=2, alpha=0.1)",
        "est.fit(X, Y)",
    ),
    "MultiTaskSharedRepRegressor, NaN targets": (
        _MT_DATA + _MT_NAN, _MTR,
        "MultiTaskSharedRepRegressor(n_components=2, alpha=0.1)", "est.fit(X, Y)",
    ),
    "MultiTaskSharedRepRegressor, l1_ratio=0.5": (
        _MT_DATA, _MTR,
        "MultiTaskSharedRepRegressor(n_components=2, alpha=0.1, l1_ratio=0.5)",
        "est.fit(X, Y)",
    ),
    "MultiTaskSharedRepClassifier binary, lbfgs": (
        _MT_DATA + _BINARY, _MTC, "MultiTaskSharedRepClassifier(n_components=2)",
        "est.fit(X, Y)",
    ),
    "MultiTaskSharedRepClassifier multiclass, lbfgs": (
        _MT_DATA + _MULTICLASS, _MTC, "MultiTaskSharedRepClassifier(n_components=2)",
        "est.fit(X, Y)",
    ),
    "MultiTaskSharedRepClassifier l1_ratio=0.5 (OWL-QN)": (
        _MT_DATA + _BINARY, _MTC,
        "MultiTaskSharedRepClassifier(n_components=2, l1_ratio=0.5)", "est.fit(X, Y)",
    ),
    "MultiTaskSharedRepClassifier binary, solver='fista'": (
        _MT_DATA + _BINARY, _MTC,
        "MultiTaskSharedRepClassifier(n_components=2, solver='fista')", "est.fit(X, Y)",
    ),
    "MultiTaskSharedRepClassifier multiclass, solver='fista'": (
        _MT_DATA + _MULTICLASS, _MTC,
        "MultiTaskSharedRepClassifier(n_components=2, solver='fista')", "est.fit(X, Y)",
    ),
    "MultiTaskSharedRepRegressorCV": (
        _MT_DATA + _MT_NAN, "from sklearn_mtl import MultiTaskSharedRepRegressorCV\n",
        "MultiTaskSharedRepRegressorCV(n_components=[1, 2], n_alphas=5, cv=3)",
        "est.fit(X, Y)",
    ),
    "MultiTaskSharedRepClassifierCV": (
        _MT_DATA + _BINARY, "from sklearn_mtl import MultiTaskSharedRepClassifierCV\n",
        "MultiTaskSharedRepClassifierCV(n_components=[1, 2], n_alphas=5, cv=3)",
        "est.fit(X, Y)",
    ),
    "skglm Lasso (reference)": (
        _REG_DATA, "from skglm import Lasso\n", "Lasso(alpha=0.1)", "est.fit(X, y)"
    ),
}

# The child prints its import and fit times (wall and CPU) as JSON.
_CHILD = """\
import time, json, warnings
_t0, _c0 = time.perf_counter(), time.process_time()
{data}{imports}_t1, _c1 = time.perf_counter(), time.process_time()
est = {estimator}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    {fit}
_t2, _c2 = time.perf_counter(), time.process_time()
print(json.dumps({{"import": _t1 - _t0, "fit": _t2 - _t1, "fit_cpu": _c2 - _c1}}))
"""


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(code, env=None):
    """``(wall, CPU)`` seconds of a fresh process running ``code``."""
    cpu = _children_cpu()
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - start, _children_cpu() - cpu


def run_child(code, cache_dir):
    """One fresh process with ``cache_dir`` as Numba's cache.

    Returns ``(wall seconds, CPU seconds, child's own timings)``: the CPU time
    (user + system) of the child, steadier than wall time on a shared machine.
    """
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, json.loads(out.stdout.strip().splitlines()[-1])


def available(code):
    try:
        subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True
        )
    except subprocess.CalledProcessError:
        return False
    return True


def startup(repeats):
    """The warm-cache comparison; returns markdown lines."""
    lines = []
    for data_name, data_code in DATA.items():
        # Warm-up: fills Numba's cache and the OS file cache for every library.
        scripts = {
            name: data_code + fit_code
            for name, fit_code in FITS.items()
            if available(data_code + fit_code)
        }
        timings = {name: [] for name in scripts}
        for _ in range(repeats):
            for name, code in scripts.items():  # interleaved: load drifts hit all
                timings[name].append(run_once(code))

        base = timings["sklearn Lasso"]
        base_wall = statistics.median(v[0] for v in base)
        base_cpu = statistics.median(v[1] for v in base)
        print(f"\n{data_name}: median of {repeats} fresh processes, warm caches")
        lines += [
            "",
            f"{data_name}: median of {repeats} fresh processes (interleaved), warm "
            "caches; wall clock and CPU time (user + system) of the process",
            "",
            "| process | wall median (s) | wall min (s) | CPU median (s) "
            "| ratio to Lasso, wall | ratio to Lasso, CPU |",
            "|---|---|---|---|---|---|",
        ]
        for name, values in timings.items():
            wall = statistics.median(v[0] for v in values)
            cpu = statistics.median(v[1] for v in values)
            lines.append(
                f"| {name} | {wall:.3f} | {min(v[0] for v in values):.3f} | "
                f"{cpu:.3f} | {wall / base_wall:.2f} | {cpu / base_cpu:.2f} |"
            )
            print(lines[-1], flush=True)
    return lines


def compile_times(repeats, only=None):
    """Cold and warm fresh processes per case; returns ``{name: result}``."""
    cases = {
        name: case for name, case in COMPILE_CASES.items()
        if only is None or any(w in name for w in only)
    }
    results = {}
    for name, (data, imports, estimator, fit) in cases.items():
        code = _CHILD.format(data=data, imports=imports, estimator=estimator, fit=fit)
        cold, warm = [], []
        try:
            for _ in range(repeats):
                cache_dir = tempfile.mkdtemp(prefix="numba_cache_")
                try:
                    cold.append(run_child(code, cache_dir))
                    warm.append(run_child(code, cache_dir))
                finally:
                    shutil.rmtree(cache_dir, ignore_errors=True)
        except subprocess.CalledProcessError as exc:
            results[name] = {"error": (exc.stderr or "").strip().splitlines()[-1:]}
            print(f"{name:<52} failed: {results[name]['error']}", flush=True)
            continue
        res = {
            "cold": statistics.median(r[0] for r in cold),
            "warm": statistics.median(r[0] for r in warm),
            "cold_cpu": statistics.median(r[1] for r in cold),
            "warm_cpu": statistics.median(r[1] for r in warm),
            "cold_fit": statistics.median(r[2]["fit_cpu"] for r in cold),
            "warm_fit": statistics.median(r[2]["fit_cpu"] for r in warm),
            "runs (wall, cpu, child)": {"cold": cold, "warm": warm},
        }
        res["compile"] = res["cold"] - res["warm"]
        res["compile_cpu"] = res["cold_cpu"] - res["warm_cpu"]
        results[name] = res
        print(
            f"{name:<52} wall {res['cold']:6.2f} -> {res['warm']:6.2f} s "
            f"(compile {res['compile']:5.2f})  CPU {res['cold_cpu']:6.2f} -> "
            f"{res['warm_cpu']:6.2f} s (compile {res['compile_cpu']:5.2f})  "
            f"fit CPU {res['cold_fit']:.2f} -> {res['warm_fit']:.3f} s",
            flush=True,
        )
    return results


def compile_lines(results, repeats):
    lines = [
        "## First-fit compile time per estimator",
        "",
        (
            "Each case: a fresh process that imports the estimator, makes a small "
            "problem with NumPy/SciPy (dense 200x30, sparse CSC 200x50 at 10 %, "
            "multi-task 100x30 with 6 tasks, rank 2) and fits once, run twice on a "
            "new empty `NUMBA_CACHE_DIR`: `cold` compiles and writes the cache, "
            "`warm` loads it. Wall clock (perf_counter around the subprocess) and "
            "the child's CPU time (user + system, from `getrusage`; steadier on a "
            f"shared machine), each the median of {repeats} fresh cache "
            "directories. `compile` = cold - warm. `fit CPU cold / warm`: the "
            "fit alone, timed inside the child. Last column: whether the CPU "
            "compile time is under 5 s (wall times on a loaded shared machine "
            "are inflated by waiting for a core)."
        ),
        "",
        (
            "| estimator | wall cold / warm (s) | compile, wall (s) "
            "| CPU cold / warm (s) | compile, CPU (s) | fit CPU cold / warm (s) "
            "| CPU compile < 5 s |"
        ),
        "|---|---|---|---|---|---|---|",
    ]
    for name, res in results.items():
        if "error" in res:
            lines.append(f"| {name} | failed: {' '.join(res['error'])} | | | | | |")
            continue
        ok = "yes" if res["compile_cpu"] < 5.0 else "**no**"
        if name.startswith("skglm"):
            ok = "(reference)"
        lines.append(
            f"| {name} | {res['cold']:.2f} / {res['warm']:.2f} | {res['compile']:.2f} "
            f"| {res['cold_cpu']:.2f} / {res['warm_cpu']:.2f} | "
            f"{res['compile_cpu']:.2f} | {res['cold_fit']:.2f} / "
            f"{res['warm_fit']:.3f} | {ok} |"
        )
    return lines


QUICKSTART = Path(__file__).resolve().parent.parent / "examples" / "quickstart.py"
# Figures measured before the solver rewrite (same machine kind), for comparison.
OLD_FIGURES = [
    "L1 path (`regularized_gd_path`), first fit on an empty cache: 18 s of compilation",
    "`python examples/quickstart.py`: 26 s with an empty Numba cache, 4 s with a "
    "warm one",
]


# The quick start without its last section (School, added after the old
# figures were measured), for a like-for-like comparison with them.
_QUICKSTART_NO_SCHOOL = (
    "import importlib.util\n"
    f"spec = importlib.util.spec_from_file_location('quickstart', {str(QUICKSTART)!r})\n"
    "m = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(m)\n"
    "m.school = lambda: None\n"
    "m.main()\n"
)


def quickstart_times(repeats):
    """The quick start on a new empty cache, then again on it, per variant.

    Returns ``{variant: (cold runs, warm runs)}``, each run ``(wall, CPU)``.
    """
    variants = {"examples/quickstart.py": [sys.executable, str(QUICKSTART)]}
    if "def school(" in QUICKSTART.read_text():
        variants["quickstart without its School section"] = [
            sys.executable, "-c", _QUICKSTART_NO_SCHOOL
        ]
    out = {name: ([], []) for name in variants}
    for _ in range(repeats):
        for name, command in variants.items():  # interleaved
            cache_dir = tempfile.mkdtemp(prefix="numba_cache_")
            env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
            try:
                for runs in out[name]:
                    cpu = _children_cpu()
                    start = time.perf_counter()
                    subprocess.run(
                        command, check=True, env=env, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL, cwd=QUICKSTART.parent.parent,
                    )
                    runs.append((time.perf_counter() - start, _children_cpu() - cpu))
            finally:
                shutil.rmtree(cache_dir, ignore_errors=True)
            cold, warm = out[name]
            print(
                f"{name}: empty cache {cold[-1][0]:.2f} s wall ({cold[-1][1]:.2f} "
                f"CPU), warm {warm[-1][0]:.2f} s wall ({warm[-1][1]:.2f} CPU)",
                flush=True,
            )
    return out


def quickstart_lines(results):
    def row(name, label, runs):
        walls = [r[0] for r in runs]
        cpus = [r[1] for r in runs]
        return (
            f"| {name} | {label} | {statistics.median(walls):.2f} | "
            f"{min(walls):.2f} | {max(walls):.2f} | {statistics.median(cpus):.2f} |"
        )

    repeats = len(next(iter(results.values()))[0])
    lines = [
        "",
        "## `python examples/quickstart.py`",
        "",
        (
            f"The whole script in a fresh process, median of {repeats} (each on "
            "a new empty `NUMBA_CACHE_DIR`, then again on the cache that run "
            "filled): wall clock, and CPU time (user + system) of the process. "
            "The quick start now ends on a School section "
            "(`MultiTaskSharedRepRegressorCV` on 139 tasks), added after the old "
            "figures below were measured; the second row runs it without that "
            "section."
        ),
        "",
        "| script | Numba cache | wall median (s) | wall min (s) | wall max (s) "
        "| CPU median (s) |",
        "|---|---|---|---|---|---|",
    ]
    for name, (cold, warm) in results.items():
        lines += [row(name, "empty", cold), row(name, "warm", warm)]
    return lines


def _source_state():
    """The commit the package was run from, and whether its files differ."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
            text=True, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "sklearn_mtl", "examples"], cwd=root,
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"commit {commit}" + (" with uncommitted changes" if dirty else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part", choices=["startup", "compile", "quickstart", "all"], default="all"
    )
    parser.add_argument("--repeats", type=int, default=None,
                        help="startup: processes per contender (15); compile: "
                             "cache directories per case (3); quickstart: runs (3)")
    for part, default in (("compile", 3), ("quickstart", 3), ("startup", 15)):
        parser.add_argument(f"--{part}-repeats", type=int, default=None,
                            help=f"overrides --repeats for the {part} part ({default})")
    parser.add_argument("--only", default=None,
                        help="compile part: comma-separated substrings of case names")
    parser.add_argument("--output", default=str(RESULTS / "cold_start.md"))
    args = parser.parse_args()
    parts = ("compile", "quickstart", "startup") if args.part == "all" else (args.part,)
    output = Path(args.output)

    lines = []
    load_before = os.getloadavg()
    if "compile" in parts:
        repeats = args.compile_repeats or args.repeats or 3
        only = [w.strip() for w in args.only.split(",")] if args.only else None
        results = compile_times(repeats, only)
        lines += compile_lines(results, repeats)
        output.with_suffix(".json").write_text(json.dumps(results, indent=1))
    if "quickstart" in parts:
        lines += quickstart_lines(
            quickstart_times(args.quickstart_repeats or args.repeats or 3)
        )
    if "startup" in parts:
        lines += ["", "## Fresh process with a warm Numba cache (startup)"]
        lines += startup(args.startup_repeats or args.repeats or 15)
    load_after = os.getloadavg()
    lines += [
        "",
        "## Before the rewrite (for comparison)",
        "",
        *[f"- {fig}" for fig in OLD_FIGURES],
        "",
        (
            f"Load average (1 min) before / after the run: {load_before[0]:.2f} / "
            f"{load_after[0]:.2f} on {os.cpu_count()} cores (shared with other "
            "jobs: wall times are noisy; compare figures within a table)."
        ),
    ]

    import numba
    import sklearn

    header = [
        "# Cold start: compile and start-up time of a fresh process",
        "",
        "Command: `python benchmarks/bench_cold_start.py"
        + "".join(" " + a for a in sys.argv[1:]) + "`",
        "",
        (
            f"Python {platform.python_version()}, scikit-learn "
            f"{sklearn.__version__}, numba {numba.__version__}; "
            f"{platform.machine()}, {os.cpu_count()} cores (shared). Package "
            f"source: {_source_state()}."
        ),
        "",
    ]
    text = "\n".join(header + lines) + "\n"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
