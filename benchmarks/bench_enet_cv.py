"""RegularizedGDRegressorCV vs sklearn ElasticNetCV: same folds, same grid.

Both search the same alpha grid (sklearn's, 100 alphas down to 1e-3 alpha_max,
computed identically by both) for each ``l1_ratio`` on the same 5 folds, at
the same (default) tolerance, then refit. Reports the time of each (best of
``--repeat``; CPU time with BLAS on one thread by default, see
``bench_enet_speed.py``), the ratio ours / sklearn, and the chosen alpha as a
grid index.

Run::

    python benchmarks/bench_enet_cv.py [--quick]

Writes ``benchmarks/results/enet_cv.md``.
"""

import argparse
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNetCV
from sklearn.model_selection import KFold
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).parent))
from bench_enet_speed import make_dense, make_sparse  # noqa: E402

from sklearn_mtl import RegularizedGDRegressorCV  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def _timed(est, X, y, clock, repeat):
    """Best of ``repeat`` fits (a single one when a fit takes over 20 s)."""
    best = np.inf
    for _ in range(repeat):
        if best > 20.0 and np.isfinite(best):
            break
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = clock()
            est.fit(X, y)
            best = min(best, clock() - start)
    return best


def source_state():
    """The commit the package ran from, and the package files that differ."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
            text=True, check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "sklearn_mtl"], cwd=root,
            capture_output=True, text=True, check=True,
        ).stdout.split()[1::2]
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    if not changed:
        return f"commit {commit}"
    return f"commit {commit} with uncommitted changes to {', '.join(changed)}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    args = parser.parse_args(argv)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    threadpool_limits(1)

    scale = 2 if args.quick else 1
    problems = {
        f"dense {5000 // scale}x{500 // scale}": make_dense(5000 // scale, 500 // scale),
        f"dense {300 // scale}x{3000 // scale}": make_dense(300 // scale, 3000 // scale),
        f"sparse {10000 // scale}x{20000 // scale}": make_sparse(
            10000 // scale, 20000 // scale, 1e-3
        ),
    }
    l1_ratios = [0.5, 0.9]
    cv = KFold(5, shuffle=True, random_state=0)
    state = source_state()  # read before the fits: the package is imported
    rows = []
    for name, (X, y) in problems.items():
        ours = RegularizedGDRegressorCV(l1_ratio=l1_ratios, alphas=100, cv=cv)
        ref = ElasticNetCV(l1_ratio=l1_ratios, alphas=100, cv=cv)
        # Compile our kernels for this kind of data before timing.
        RegularizedGDRegressorCV(l1_ratio=l1_ratios, alphas=3, cv=2).fit(X[:100], y[:100])
        t_ours = _timed(ours, X, y, clock, args.repeat)
        t_ref = _timed(ref, X, y, clock, args.repeat)
        grid = ref.alphas_[l1_ratios.index(ref.l1_ratio_)]
        i_ref = int(np.argmin(np.abs(grid - ref.alpha_)))
        grid_ours = ours.alphas_[l1_ratios.index(ours.l1_ratio_)]
        i_ours = int(np.argmin(np.abs(grid_ours - ours.alpha_)))
        rows.append(
            f"| {name} | {t_ours:.3f} | {t_ref:.3f} | {t_ours / t_ref:.2f} | "
            f"{ours.l1_ratio_}, #{i_ours} ({ours.alpha_:.4g}) | "
            f"{ref.l1_ratio_}, #{i_ref} ({ref.alpha_:.4g}) |"
        )
        print(rows[-1], flush=True)

    lines = [
        "# Cross-validated elastic net: RegularizedGDRegressorCV vs ElasticNetCV",
        "",
        "Command: `python benchmarks/bench_enet_cv.py" + (" --quick" if args.quick else "")
        + "`",
        "",
        f"l1_ratio={l1_ratios}, 100 alphas (eps=1e-3), 5 shuffled folds (the same "
        "for both), default tol=1e-4, fit_intercept=True, refit included. Time (s), "
        f"best of {args.repeat} (one run when over 20 s), "
        + ("CPU time with BLAS on one thread" if args.clock == "cpu" else "wall-clock")
        + ". Chosen: l1_ratio, alpha's index in the grid (alpha). "
        f"Package source: {state}.",
        "",
        "| problem | ours (s) | ElasticNetCV (s) | ratio | ours chose | sklearn chose |",
        "|---|---|---|---|---|---|",
        *rows,
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "enet_cv.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
