"""Interleaved A/B of two source trees of sklearn_mtl on the speed benchmark.

Run-to-run noise on this shared machine moves every solver's time by 10-30%
between runs, so ratios to the peers from two separate runs do not compare
two versions of our solver. This times both versions in the same minutes:
for each row, fresh processes alternate A, B, A, B, ... (each: best of 7
fits after a warm-up, CPU time, BLAS on one thread), each version at its own
tolerance (the loosest of its ladder that lands within 1e-7 of the best
objective, from bench_enet_speed.py).

    python benchmarks/bench_ab_versions.py --a /path/to/old --b /path/to/new \\
        --rows rows.txt

``rows.txt``: one row per line, ``kind l1_ratio divisor tol_a tol_b`` with
kind dense (10000 x 1000), wide (500 x 10000) or sparse (20000 x 50000).
``--no-intercept`` fits without intercept (alpha_max without centring too).
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def _one(kind, l1_ratio, divisor, tol, fit_intercept):
    """Child: best of 7 fits (ms) of the sklearn_mtl on PYTHONPATH."""
    import warnings

    from threadpoolctl import threadpool_limits

    sys.path.insert(0, str(HERE))
    import bench_enet_speed as B

    from sklearn_mtl import RegularizedGDRegressor

    warnings.simplefilter("ignore")
    make = {
        "dense": lambda: B.make_dense(10000, 1000),
        "wide": lambda: B.make_dense(500, 10000),
        "sparse": lambda: B.make_sparse(20000, 50000),
    }[kind]
    X, y = make()
    alpha = B.alpha_max(X, y, l1_ratio, fit_intercept) / divisor
    penalty = "l1" if l1_ratio == 1.0 else "elasticnet"

    def est():
        return RegularizedGDRegressor(
            penalty, alpha=alpha, l1_ratio=l1_ratio, tol=tol, max_iter=10**6,
            fit_intercept=fit_intercept,
        )

    with threadpool_limits(1):
        est().fit(X, y)
        times = []
        for _ in range(7):
            start = time.process_time()
            est().fit(X, y)
            times.append(time.process_time() - start)
    print(1e3 * min(times))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, l1, div, tol, intercept = sys.argv[2:7]
        return _one(kind, float(l1), float(div), float(tol), intercept == "1")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", required=True, help="source tree holding sklearn_mtl/")
    parser.add_argument("--b", required=True)
    parser.add_argument("--rows", required=True)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--no-intercept", action="store_true")
    args = parser.parse_args()
    print("| row | A (ms, per process) | B (ms, per process) | B / A (medians) |")
    print("|---|---|---|---|")
    for line in Path(args.rows).read_text().split("\n"):
        if not line.strip():
            continue
        kind, l1, div, tol_a, tol_b = line.split()
        result = {"a": [], "b": []}
        for _ in range(args.processes):
            for side, path, tol in (("a", args.a, tol_a), ("b", args.b, tol_b)):
                env = dict(os.environ, PYTHONPATH=path)
                out = subprocess.run(
                    [sys.executable, __file__, "--child", kind, l1, div, tol,
                     "0" if args.no_intercept else "1"],
                    env=env, capture_output=True, text=True, check=True,
                )
                result[side].append(float(out.stdout.split()[-1]))
        med = {k: sorted(v)[len(v) // 2] for k, v in result.items()}
        fmt = lambda v: " ".join(f"{x:.1f}" for x in v)  # noqa: E731
        print(
            f"| {kind} l1_ratio={l1} alpha_max/{div} | {fmt(result['a'])} | "
            f"{fmt(result['b'])} | {med['b'] / med['a']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
