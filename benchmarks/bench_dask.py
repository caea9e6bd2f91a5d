"""Out-of-core fits on a Dask cluster: time, passes over the data, objective, memory.

The data are a dask array generated block by block from seeds (never held
anywhere: every pass regenerates its blocks on the workers), with column
means up to 1e4 (so that centring matters) and, for the multi-task fits, 20
targets of rank 3, observed fully or with 20% of the entries missing. On a
``LocalCluster`` whose workers have a memory limit smaller than the data, the
script times

- one pass over the data: ``(XY ** 2).sum()`` (generation and one read of
  every number) and ``X.T @ X`` (dask's own Gram matrix);
- ``RegularizedGDRegressor`` with ``penalty="l2"`` and ``"l1"`` (one pass
  each, then the Gram solver on the client);
- ``MultiTaskSharedRepRegressor`` on 20 targets, full and 20% missing (one
  pass each, then the statistics form on the client);
- dask-ml's ``LinearRegression`` (L2 by L-BFGS and by ADMM, L1 by ADMM) on
  the same array, with the penalty mapped onto the same objective (see
  below), when dask-ml is installed (``pip install dask-ml``; it is not a
  dependency of sklearn_mtl);

and reports the wall time of each fit against one pass over the same data,
the number of graphs it submitted to the scheduler (each reads the data
once: the passes), the objective ``1/(2n) ||y - X w - b||^2 + penalty`` of
``RegularizedGDRegressor`` reached by the single-target fits (evaluated by
one more pass, not timed), and the peak memory (RSS) of the workers during
the fit.

dask-glm (behind dask-ml) minimises ``||y - X_s beta||^2 + lam * R(beta)`` on
standardised columns ``X_s`` with the intercept column penalised too, with
``R = ||.||^2 / 2`` or ``||.||_1``. The features here have unit variance, so
``lam = 2 n alpha`` makes that our objective times ``2n`` up to the
intercept's penalty (``lam b^2 / 2``, negligible next to ``n``).

Usage::

    python benchmarks/bench_dask.py --quick               # 2e6 rows
    python benchmarks/bench_dask.py --rows 4e6 --admm-max-iter 5
    python benchmarks/bench_dask.py --rows 3e8            # 120 GB of X

Results go to ``benchmarks/results/dask.md`` (``--output``).
"""

import argparse
import contextlib
import os
import platform
import threading
import time
import warnings
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "dask.md"


# ------------------------------------------------------------------- data


def _generate_block(ids, *, seed, rows, n_features, targets, missing):
    """One block of ``[X, targets]``: X from the stream ``(seed, block)``, the
    targets from ``(seed, block, 1)``, so X is the same whatever the targets."""
    block = int(ids[0])
    n_rows = rows[block]
    rng = np.random.default_rng([seed, block])
    X = rng.standard_normal((n_rows, n_features))
    shape = np.random.default_rng(seed)
    means = shape.uniform(-10, 10, n_features)
    means[0] = 1e4  # a column with a large mean (timestamps, years)
    X += means
    noise = np.random.default_rng([seed, block, 1])
    if targets == 0:
        return X
    if targets == 1:
        beta = shape.standard_normal(n_features)
        beta[n_features // 2 :] = 0.0  # half the features are irrelevant
        y = (X - means) @ beta + 3.0 + noise.standard_normal(n_rows)
        return np.column_stack([X, y])
    W = shape.standard_normal((n_features, 3)) @ shape.standard_normal((3, targets))
    Y = (X - means) @ W + shape.uniform(-2, 2, targets)
    Y += noise.standard_normal((n_rows, targets))
    if missing:
        Y[noise.random((n_rows, targets)) < missing] = np.nan
    return np.column_stack([X, Y])


def make_data(n_rows, n_features, chunk_rows, targets, missing, seed):
    """``(X, Y)`` dask arrays sharing their generated blocks (``Y`` 1-D for
    one target)."""
    import dask.array as da

    rows = [chunk_rows] * (n_rows // chunk_rows)
    if n_rows % chunk_rows:
        rows.append(n_rows % chunk_rows)
    ids = da.arange(len(rows), chunks=1)
    width = n_features + targets
    XY = ids.map_blocks(
        _generate_block,
        seed=seed, rows=rows, n_features=n_features, targets=targets,
        missing=missing,
        chunks=(tuple(rows), (width,)), new_axis=1, dtype=np.float64,
        meta=np.empty((0, 0)),
    )
    X = XY[:, :n_features]
    Y = XY[:, n_features] if targets == 1 else XY[:, n_features:]
    return XY, X, Y


# ------------------------------------------------------------ measurement


class PeakMemory:
    """Peak resident memory of each worker process, sampled in a thread."""

    def __init__(self, pids, interval=0.05):
        import psutil

        self.processes = [psutil.Process(pid) for pid in pids]
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()

    def _run(self):
        while not self._stop.is_set():
            for process in self.processes:
                with contextlib.suppress(Exception):
                    self.peak = max(self.peak, process.memory_info().rss)
            time.sleep(self.interval)

    @contextlib.contextmanager
    def measure(self):
        self.peak = 0
        self._stop.clear()
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()


def graph_counter():
    """A scheduler plugin counting the graphs submitted to the scheduler."""
    from distributed.diagnostics.plugin import SchedulerPlugin

    class GraphCounter(SchedulerPlugin):
        name = "bench-graph-counter"

        def __init__(self):
            self.count = 0

        def update_graph(self, scheduler, **kwargs):
            self.count += 1

    return GraphCounter()


def timed(name, func, memory, counter, notes=""):
    start_graphs = counter.count
    with memory.measure():
        start = time.perf_counter()
        result = func()
        elapsed = time.perf_counter() - start
    row = {
        "name": name,
        "seconds": elapsed,
        "passes": counter.count - start_graphs,
        "peak_gb": memory.peak / 2**30,
        "notes": notes,
    }
    print(
        f"{name:<58} {elapsed:8.1f} s  {row['passes']:4d} graph(s)  "
        f"peak worker RSS {row['peak_gb']:.2f} GiB  {notes}",
        flush=True,
    )
    return result, row


def enet_objective(X, y, coef, intercept, alpha, l1_ratio):
    """Our objective at ``(coef, intercept)``, by one pass."""
    n = X.shape[0]
    residual = y - X @ np.asarray(coef, dtype=np.float64) - intercept
    loss = float((residual**2).sum().compute()) / (2 * n)
    coef = np.asarray(coef, dtype=np.float64)
    return (
        loss + alpha * l1_ratio * np.abs(coef).sum()
        + 0.5 * alpha * (1 - l1_ratio) * coef @ coef
    )


# ------------------------------------------------------------------ runs


def run(args):
    import dask.array as da
    import distributed

    from sklearn_mtl import MultiTaskSharedRepRegressor, RegularizedGDRegressor
    from sklearn_mtl.dask import WarmKernels, warm_kernels

    n, p = int(args.rows), args.features
    chunk = min(int(args.chunk_rows), n)
    rows, info = [], {}
    cluster = distributed.LocalCluster(
        n_workers=args.workers, threads_per_worker=args.threads,
        memory_limit=args.memory_limit, processes=True, host="127.0.0.1",
        dashboard_address=None,
    )
    with cluster, distributed.Client(cluster) as client:
        counter = graph_counter()
        cluster.scheduler.add_plugin(counter)
        client.register_plugin(WarmKernels())
        memory = PeakMemory(client.run(os.getpid).values())
        info["limit"] = args.memory_limit
        info["baseline_gb"] = 0.0
        with memory.measure():
            time.sleep(0.5)
        info["baseline_gb"] = memory.peak / 2**30
        print(f"{n:.3g} rows x {p} features, chunks of {chunk} rows; workers idle at "
              f"{info['baseline_gb']:.2f} GiB RSS (peak of the {args.workers})")

        # The client runs the solvers: it loads (or compiles) the kernels once
        # per process, as the workers did at start-up (reported, not timed).
        start = time.perf_counter()
        warm_kernels()
        info["client_warm"] = time.perf_counter() - start
        XY, X, y = make_data(n, p, chunk, 1, 0.0, args.seed)
        XY[:chunk].sum().compute()  # workers start up (not timed)
        _, row = timed("one pass over X, y: (XY ** 2).sum()",
                       lambda: float((XY**2).sum().compute()), memory, counter)
        rows.append(row)
        pass_time = row["seconds"]
        _, row = timed("one pass over X: X.T @ X (dask)", lambda: (X.T @ X).compute(),
                       memory, counter)
        row["reference"] = pass_time
        rows.append(row)

        results = {}
        for penalty, alpha, l1_ratio in (("l2", args.alpha, 0.0), ("l1", args.alpha_l1, 1.0)):
            model, row = timed(
                f"RegularizedGDRegressor penalty={penalty!r} alpha={alpha:g}",
                lambda penalty=penalty, alpha=alpha: RegularizedGDRegressor(
                    penalty, alpha=alpha
                ).fit(X, y),
                memory, counter,
            )
            row["reference"] = pass_time
            row["objective"] = enet_objective(X, y, model.coef_, model.intercept_, alpha,
                                              l1_ratio)
            row["nonzero"] = int(np.count_nonzero(model.coef_))
            results[penalty] = row["objective"]
            rows.append(row)

        if not args.skip_multitask:
            for missing in (0.0, 0.2):
                XYT, XT, YT = make_data(n, p, chunk, args.tasks, missing, args.seed)
                label = "full" if not missing else f"{missing:.0%} missing"
                _, row = timed(
                    f"one pass over X, Y ({args.tasks} targets, {label})",
                    lambda XYT=XYT: float(da.nansum(XYT**2).compute()), memory, counter,
                )
                rows.append(row)
                reference = row["seconds"]
                model, row = timed(
                    f"MultiTaskSharedRepRegressor T={args.tasks} {label}",
                    lambda XT=XT, YT=YT: MultiTaskSharedRepRegressor(
                        n_components=3, alpha=args.alpha
                    ).fit(XT, YT),
                    memory, counter, notes=f"{label}",
                )
                row["reference"] = reference
                rows.append(row)

        if not args.skip_dask_ml:
            rows += run_dask_ml(args, X, y, n, memory, counter, results, pass_time)
    return rows, info, pass_time


def run_dask_ml(args, X, y, n, memory, counter, results, pass_time):
    try:
        import dask_ml
        from dask_ml.linear_model import LinearRegression
    except ImportError as exc:
        print(f"dask-ml not available ({exc}): skipped")
        return [{"name": "dask-ml", "seconds": float("nan"), "passes": 0,
                 "peak_gb": float("nan"), "notes": f"not installed: {exc}"}]
    rows = []
    for spec in args.dask_ml.split(","):
        penalty, solver = spec.split(":")
        alpha, l1_ratio = (args.alpha, 0.0) if penalty == "l2" else (args.alpha_l1, 1.0)
        lam = 2 * n * alpha
        max_iter = args.admm_max_iter if solver == "admm" else args.dask_ml_max_iter
        name = (f"dask-ml {dask_ml.__version__} LinearRegression penalty={penalty!r} "
                f"solver={solver!r} max_iter={max_iter}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model, row = timed(
                    name,
                    lambda penalty=penalty, solver=solver, lam=lam, m=max_iter:
                    LinearRegression(
                        penalty=penalty, C=1.0 / lam, solver=solver, max_iter=m,
                    ).fit(X, y),
                    memory, counter,
                )
        except Exception as exc:  # report, do not hide, an incompatibility
            print(f"{name} failed: {type(exc).__name__}: {exc}")
            rows.append({"name": name, "seconds": float("nan"), "passes": 0,
                         "peak_gb": float("nan"),
                         "notes": f"failed: {type(exc).__name__}: {exc}"})
            continue
        row["reference"] = pass_time
        row["objective"] = enet_objective(X, y, model.coef_, model.intercept_, alpha,
                                          l1_ratio)
        row["nonzero"] = int(np.count_nonzero(np.abs(model.coef_) > 1e-10))
        reference = results[penalty]
        row["notes"] = (
            f"objective {row['objective'] / reference - 1:+.1e} relative to ours"
        )
        rows.append(row)
    return rows


def profile_blocks(args, repeats=5):
    """Per-block costs on one thread (the best of ``repeats``: robust to other
    jobs on the machine): generating a block versus summarising it."""
    from threadpoolctl import threadpool_limits

    from sklearn_mtl._dask._statistics import PassParams, statistics_block

    rows = [int(args.chunk_rows)]
    p = args.features

    def best(func):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            func()
            times.append(time.perf_counter() - start)
        return min(times) * 1e3

    def generate(targets, missing):
        return _generate_block(np.array([0]), seed=args.seed, rows=rows, n_features=p,
                               targets=targets, missing=missing)

    lines = [
        f"| block of {rows[0]:,} rows, one thread | generate | (XY ** 2).sum() | "
        "X.T @ X | our statistics | statistics / (generate + sum) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    with threadpool_limits(1):
        for targets, missing, label in ((1, 0.0, "X, y"), (args.tasks, 0.0, "X, Y full"),
                                        (args.tasks, 0.2, "X, Y 20% missing")):
            XY = generate(targets, missing)
            X, Y = XY[:, :p], XY[:, p:]
            params = PassParams(center=True, allow_nan=missing > 0)
            t_gen = best(lambda t=targets, m=missing: generate(t, m))
            t_sum = best(lambda XY=XY: np.nansum(XY**2))
            t_gram = best(lambda X=X: X.T @ X)
            t_stats = best(lambda X=X, Y=Y, params=params: statistics_block(X, Y, None, params))
            lines.append(
                f"| {label} ({targets} target(s)) | {t_gen:.0f} ms | {t_sum:.0f} ms | "
                f"{t_gram:.0f} ms | {t_stats:.0f} ms | {t_stats / (t_gen + t_sum):.2f} |"
            )
            print(lines[-1], flush=True)
    return lines


# ----------------------------------------------------------------- report


def write_report(args, rows, info, pass_time, path):
    import dask
    import distributed
    import numba
    import sklearn

    n, p = int(args.rows), args.features
    gb = n * p * 8 / 1e9
    lines = [
        "# Out-of-core fits on a Dask cluster",
        "",
        "Produced by `python benchmarks/bench_dask.py "
        + " ".join(args.argv) + "`.",
        "",
        f"- Data: {n:.3g} rows x {p} features of float64 (X alone is {gb:.1f} GB), "
        f"generated block by block from seeds ({int(args.chunk_rows):,} rows per "
        "block) on the workers at every pass, never stored; column means up to "
        f"1e4; {args.tasks} targets of rank 3 for the multi-task fits.",
        f"- Cluster: `LocalCluster` of {args.workers} worker process(es) x "
        f"{args.threads} thread(s), memory limit {info['limit']} each, on "
        f"{os.cpu_count()} cores shared with other jobs ({platform.machine()}); "
        f"idle worker RSS {info['baseline_gb']:.2f} GiB.",
        f"- Versions: dask {dask.__version__}, distributed {distributed.__version__}, "
        f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
        f"numba {numba.__version__}.",
        "- *graphs*: graphs submitted to the scheduler during the fit; each reads "
        "the data once (dask-ml's first one computes the column means and "
        "deviations that it standardises with; each ADMM iteration also solves a "
        "problem on every block, in memory).",
        f"- The whole run took {info['total'] / 60:.1f} minutes; loading the kernels "
        f"in the client process (once per process, not in the times above) took "
        f"{info['client_warm']:.1f} s.",
        "- *objective*: `1/(2n) ||y - X w - b||^2 + penalty` (RegularizedGDRegressor's, "
        "documented) at the fitted model, computed by one more pass (not timed). "
        "dask-ml's solvers minimise it plus a penalty on the intercept, "
        "`alpha b^2 / 2` on this scale (`lam = 2 n alpha`; `b` is near the mean of "
        "y, 3 here), which shrinks `b` by about `alpha b`: their optimum is "
        "`(alpha b)^2 / 2` (4.5e-4, i.e. 7e-4 relative for the L2 fit) above ours "
        "in our objective.",
        "",
        "| what | time (s) | x one pass | graphs | objective | nonzero coef | "
        "peak worker RSS (GiB) | notes |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        objective = row.get("objective")
        reference = row.get("reference")
        ratio = f"{row['seconds'] / reference:.2f}" if reference else ""
        lines.append(
            f"| {row['name']} | {row['seconds']:.1f} | {ratio} | {row['passes']} | "
            + (f"{objective:.10g}" if objective is not None else "")
            + f" | {row.get('nonzero', '')} | {row['peak_gb']:.2f} | {row['notes']} |"
        )
    full = 3e8
    lines += [
        "",
        "*x one pass*: the fit's time over that of one pass over the same data (the "
        "pass over X and y for the single-target fits and dask-ml, over X and Y for "
        "the multi-task ones).",
        "",
        f"**Extrapolation, not measured:** passes here take {pass_time / n * 1e6:.2f} s "
        f"per million rows on this cluster; at {full:.0e} rows x {p} features "
        f"({full * p * 8 / 1e9:.0f} GB of X) one pass would take about "
        f"{pass_time / n * full / 60:.0f} minutes on the same two workers, and every "
        "fit above scales with its number of passes (the statistics' size does not "
        "depend on n, nor does the workers' memory).",
    ]
    lines += [
        "",
        "Per block, on one thread (best of 5, so that other jobs on the machine "
        "matter little): what a pass costs (generating the block and reading it) "
        "against what our fits add to it (the statistics of the block).",
        "",
    ] + info["blocks"]
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "\n".join(lines) + "\n"
    if args.append_text:
        body += "\n" + Path(args.append_text).read_text()
    path.write_text(body)
    print(f"wrote {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=float, default=3e8)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--chunk-rows", type=float, default=5e5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--memory-limit", default="3GiB")
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--alpha-l1", type=float, default=0.05)
    parser.add_argument("--dask-ml", default="l2:lbfgs,l2:admm,l1:admm",
                        help="dask-ml fits, penalty:solver separated by commas")
    parser.add_argument("--dask-ml-max-iter", type=int, default=100)
    parser.add_argument("--admm-max-iter", type=int, default=100)
    parser.add_argument("--skip-dask-ml", action="store_true")
    parser.add_argument("--skip-multitask", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="2e6 rows in blocks of 2.5e5, dask-ml L-BFGS only")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--append-text", default=None,
                        help="a file whose text is appended to the report")
    parser.add_argument("--profile-blocks-only", action="store_true",
                        help="only the per-block, one-thread costs")
    args = parser.parse_args(argv)
    args.argv = list(argv) if argv is not None else __import__("sys").argv[1:]
    if args.quick:
        args.rows, args.chunk_rows, args.dask_ml = 2e6, 2.5e5, "l2:lbfgs"
    if args.profile_blocks_only:
        lines = profile_blocks(args)
        args.output.write_text("\n".join(lines) + "\n")
        print(f"wrote {args.output}")
        return
    start = time.perf_counter()
    rows, info, pass_time = run(args)
    info["total"] = time.perf_counter() - start
    info["blocks"] = profile_blocks(args)
    write_report(args, rows, info, pass_time, args.output)


if __name__ == "__main__":
    main()
