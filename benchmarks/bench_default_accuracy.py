"""Accuracy at default parameters: ours vs sklearn's ElasticNet, every penalty.

Both ``RegularizedGDRegressor`` and sklearn's ``ElasticNet`` are fitted at
their default ``tol`` and ``max_iter`` (only ``alpha``, ``l1_ratio`` and
``fit_intercept`` set) on

* the quick start's problem (``examples/quickstart.py``): the diabetes data,
  70 % train split with ``random_state=0``, features standardised on it,
  ``alpha=0.5``;
* the speed benchmark's problems (``bench_enet_speed.py``: dense n >> p with
  correlated columns, dense p >> n, sparse) at ``alpha_max / 10`` and
  ``alpha_max / 100``, with and without an intercept;

for the penalties ``l1`` (``l1_ratio=1``), ``elasticnet`` (``l1_ratio=0.5``),
``l2`` (``l1_ratio=0``; ``alpha`` is the L1 rows' alpha, since the L2 penalty
has no ``alpha_max``) and ``None`` (ours) against ``ElasticNet(alpha=0)``,
only where ``n_samples > n_features`` (the least-squares minimum is unique
and positive; with more features than samples it interpolates, objective 0,
and a relative suboptimality has no meaning).

The relative suboptimality each reaches is measured against the best
objective of tight fits: ours at ``tol=1e-14``, sklearn's at ``tol=1e-10``
(both with a large ``max_iter``), and an exact solve for ``l2`` (Cholesky on
the smaller Gram matrix for dense data, LSQR to machine precision for sparse
data) and for ``None`` (``numpy.linalg.lstsq``), all with one objective
formula (:func:`sklearn_mtl._penalties.enet_objective`). Relative
suboptimalities below ``1e-13`` are within the rounding of the objective's
evaluation on these problems and are counted as ``1e-13`` in the ratio
``ours / sklearn`` (<= 1: ours ends at least as close to the optimum).

Run::

    python benchmarks/bench_default_accuracy.py            # full (minutes)
    python benchmarks/bench_default_accuracy.py --quick    # smaller problems

Writes ``benchmarks/results/default_accuracy.md`` (``--output`` to change) and
a ``.json`` beside it with every fit.
"""

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import sklearn
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).parent))
from bench_enet_speed import alpha_max, make_dense, make_sparse  # noqa: E402

from sklearn_mtl import RegularizedGDRegressor  # noqa: E402
from sklearn_mtl._penalties import enet_objective  # noqa: E402

RESULTS = Path(__file__).parent / "results"
QUICKSTART_ALPHA = 0.5
PENALTIES = {"l1": 1.0, "elasticnet": 0.5, "l2": 0.0, "none": 0.0}
# Relative suboptimalities below this are rounding in the objective's own
# evaluation (sums of 1e4 squares in float64): counted as equal.
FLOOR = 1e-13
CLOCK = time.process_time  # CPU time, BLAS on one thread (see main)


# ------------------------------------------------------------------ problems
def quickstart_data():
    """The quick start's training set: diabetes, 70 %, standardised."""
    X, y = load_diabetes(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.3, random_state=0)
    return StandardScaler().fit_transform(X_train), y_train


def problems(quick):
    """``{name: (maker, alphas or None)}``; None: the speed benchmark's grid."""
    out = {"diabetes (quick start)": (quickstart_data, {"0.5": QUICKSTART_ALPHA})}
    if quick:
        shapes = {
            "dense 5000x500": lambda: make_dense(5000, 500),
            "dense 250x5000": lambda: make_dense(250, 5000),
            "sparse 10000x25000": lambda: make_sparse(10000, 25000, 2e-3),
        }
    else:
        shapes = {
            "dense 10000x1000": lambda: make_dense(10000, 1000),
            "dense 500x10000": lambda: make_dense(500, 10000),
            "sparse 20000x50000": lambda: make_sparse(20000, 50000, 1e-3),
        }
    out.update({name: (make, None) for name, make in shapes.items()})
    return out


# ------------------------------------------------------------------ solvers
def _ours(penalty, alpha, l1_ratio, fit_intercept, **params):
    if penalty == "none":
        return RegularizedGDRegressor(None, fit_intercept=fit_intercept, **params)
    return RegularizedGDRegressor(
        penalty, alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept, **params
    )


def _sklearn(penalty, alpha, l1_ratio, fit_intercept, **params):
    if penalty == "none":
        alpha = 0.0
    return ElasticNet(
        alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept, **params
    )


def _fit(est, X, y, repeat):
    """``(seconds, est, warned)``: best of ``repeat`` (one fit when over 10 s)."""
    times = []
    for _ in range(repeat):
        if times and min(times) > 10.0:
            break
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            start = CLOCK()
            est.fit(X, y)
            times.append(CLOCK() - start)
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return min(times), est, warned


def _centred_operator(X, fit_intercept):
    """``X`` centred (when fitting an intercept) as a LinearOperator, and the means."""
    n_samples, n_features = X.shape
    mean = np.asarray(X.mean(axis=0)).ravel() if fit_intercept else np.zeros(n_features)
    op = spla.LinearOperator(
        (n_samples, n_features),
        matvec=lambda v: np.asarray(X @ v).ravel() - mean @ v,
        rmatvec=lambda u: np.asarray(X.T @ u).ravel() - mean * u.sum(),
        dtype=np.float64,
    )
    return op, mean


def exact_ridge(X, y, alpha, fit_intercept):
    """Minimiser of ElasticNet's objective with ``l1_ratio=0``."""
    n_samples, n_features = X.shape
    y_mean = y.mean() if fit_intercept else 0.0
    y_c = y - y_mean
    if sp.issparse(X):
        op, mean = _centred_operator(X, fit_intercept)
        # min ||y_c - A w||^2 + damp^2 ||w||^2 is n_samples * 2 * the objective.
        coef = spla.lsqr(
            op, y_c, damp=np.sqrt(n_samples * alpha), atol=1e-16, btol=1e-16,
            conlim=1e20, iter_lim=200_000,
        )[0]
    else:
        mean = X.mean(axis=0) if fit_intercept else np.zeros(n_features)
        X_c = X - mean
        ridge = n_samples * alpha
        if n_samples >= n_features:
            gram = X_c.T @ X_c
            gram[np.diag_indices_from(gram)] += ridge
            coef = np.linalg.solve(gram, X_c.T @ y_c)
        else:
            gram = X_c @ X_c.T
            gram[np.diag_indices_from(gram)] += ridge
            coef = X_c.T @ np.linalg.solve(gram, y_c)
    return coef, y_mean - mean @ coef


def exact_least_squares(X, y, fit_intercept):
    """Minimiser of the unpenalised objective (``n_samples > n_features``)."""
    if sp.issparse(X):
        op, mean = _centred_operator(X, fit_intercept)
        y_mean = y.mean() if fit_intercept else 0.0
        coef = spla.lsqr(op, y - y_mean, atol=1e-16, btol=1e-16, conlim=1e20,
                         iter_lim=200_000)[0]
        return coef, y_mean - mean @ coef
    A = np.column_stack([X, np.ones(X.shape[0])]) if fit_intercept else X
    sol = np.linalg.lstsq(A, y, rcond=None)[0]
    return (sol[:-1], sol[-1]) if fit_intercept else (sol, 0.0)


# ------------------------------------------------------------------ one row
def run_row(X, y, penalty, alpha, fit_intercept, repeat):
    l1_ratio = PENALTIES[penalty]
    obj_alpha = 0.0 if penalty == "none" else alpha

    def objective(est):
        b = float(np.ravel(est.intercept_)[0]) if fit_intercept else 0.0
        return enet_objective(X, y, np.ravel(est.coef_), b, obj_alpha, l1_ratio)

    refs = {}
    tight = {"ours": dict(tol=1e-14, max_iter=1_000_000),
             "sklearn": dict(tol=1e-10, max_iter=100_000)}
    for name, factory in (("ours", _ours), ("sklearn", _sklearn)):
        if name == "sklearn" and penalty in ("l2", "none"):
            continue  # the exact solve below; sklearn's CD is slow to get there
        est = factory(penalty, alpha, l1_ratio, fit_intercept, **tight[name])
        refs[name] = objective(_fit(est, X, y, 1)[1])
    if penalty == "l2":
        coef, b = exact_ridge(X, y, alpha, fit_intercept)
        refs["exact"] = enet_objective(X, y, coef, b, alpha, 0.0)
    elif penalty == "none":
        coef, b = exact_least_squares(X, y, fit_intercept)
        refs["exact"] = enet_objective(X, y, coef, b, 0.0, 0.0)
    best = min(refs.values())
    row = {"best": best, "refs": refs}
    for name, factory in (("ours", _ours), ("sklearn", _sklearn)):
        seconds, est, warned = _fit(
            factory(penalty, alpha, l1_ratio, fit_intercept), X, y, repeat
        )
        obj = objective(est)
        row[name] = {
            "seconds": seconds,
            "objective": obj,
            "rel_subopt": (obj - best) / abs(best),
            "warned": warned,
            "n_iter": int(np.max(est.n_iter_)),
        }
    # A default fit may beat every tight reference by rounding: re-base.
    best = min(best, row["ours"]["objective"], row["sklearn"]["objective"])
    row["best"] = best
    for name in ("ours", "sklearn"):
        row[name]["rel_subopt"] = (row[name]["objective"] - best) / abs(best)
    row["ratio"] = max(row["ours"]["rel_subopt"], FLOOR) / max(
        row["sklearn"]["rel_subopt"], FLOOR
    )
    return row


def warm_up(X, y):
    """Compile our kernels for this kind of data (dtype, sparsity, layout)."""
    Xs, ys = X[:100, :200], y[:100]
    Xs = sp.csc_matrix(Xs) if sp.issparse(X) else np.asfortranarray(Xs)
    for penalty, l1_ratio in PENALTIES.items():
        for fit_intercept in (True, False):
            a = alpha_max(Xs, ys, 1.0, fit_intercept) / 20
            _fit(_ours(penalty, a, l1_ratio, fit_intercept), Xs, ys, 1)


# ------------------------------------------------------------------ main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller problems")
    parser.add_argument("--repeat", type=int, default=3, help="timings per default fit")
    parser.add_argument("--only", default=None,
                        help="comma-separated substrings of problem names")
    parser.add_argument("--output", default=str(RESULTS / "default_accuracy.md"))
    args = parser.parse_args(argv)
    threadpool_limits(1)

    rows = []
    for pname, (make, alphas) in problems(args.quick).items():
        if args.only and not any(w.strip() in pname for w in args.only.split(",")):
            continue
        X, y = make()
        warm_up(X, y)
        n_samples, n_features = X.shape
        intercepts = (True,) if alphas is not None else (True, False)
        for fit_intercept in intercepts:
            grid = alphas
            if grid is None:
                amax = alpha_max(X, y, 1.0, fit_intercept)
                grid = {f"alpha_max/{d}": amax / d for d in (10, 100)}
            for penalty, l1_ratio in PENALTIES.items():
                if penalty == "none":
                    if n_samples <= n_features:
                        continue
                    labels = {"-": 0.0}
                elif penalty == "elasticnet" and alphas is None:
                    amax = alpha_max(X, y, l1_ratio, fit_intercept)
                    labels = {f"alpha_max/{d}": amax / d for d in (10, 100)}
                else:
                    labels = grid
                for label, alpha in labels.items():
                    row = run_row(X, y, penalty, alpha, fit_intercept, args.repeat)
                    row.update(problem=pname, intercept=fit_intercept,
                               penalty=penalty, alpha_label=label, alpha=alpha)
                    rows.append(row)
                    o, s = row["ours"], row["sklearn"]
                    print(
                        f"{pname:24s} b={int(fit_intercept)} {penalty:10s} "
                        f"{label:14s} ours {o['rel_subopt']:.1e} ({o['seconds']:.3f}s)"
                        f"  sklearn {s['rel_subopt']:.1e} ({s['seconds']:.3f}s)  "
                        f"ratio {row['ratio']:.2g}",
                        flush=True,
                    )
    text = report(rows, args, argv)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1, default=float))
    print(text)


def _cell(res):
    return f"{res['rel_subopt']:.1e}{'*' if res['warned'] else ''}"


def report(rows, args, argv):
    ratios = np.array([row["ratio"] for row in rows])
    worst = rows[int(np.argmax(ratios))]
    lines = [
        "# Accuracy at default parameters: RegularizedGDRegressor vs ElasticNet",
        "",
        "Command: `python benchmarks/bench_default_accuracy.py"
        + "".join(" " + a for a in (sys.argv[1:] if argv is None else argv))
        + "`",
        "",
        (
            "Both at their default tol=1e-4 and max_iter=1000; only alpha, "
            "l1_ratio and fit_intercept set. Ours: `RegularizedGDRegressor(penalty, "
            "alpha, l1_ratio)` (`RegularizedGDRegressor(None)` for `none`); sklearn: "
            "`ElasticNet(alpha, l1_ratio)` (`ElasticNet(alpha=0)` for `none`). "
            "Penalties: l1 (l1_ratio=1), elasticnet (0.5), l2 (0; alpha = the l1 "
            "rows' alpha), none (only where n_samples > n_features). Relative "
            "suboptimality against the best objective of tight fits (ours at "
            "tol=1e-14, sklearn at tol=1e-10, an exact solve for l2 and none), one "
            "objective formula for all; `refs spread`: how far apart (relative) "
            "those references ended. `*`: a ConvergenceWarning. `ratio` = ours / "
            f"sklearn's relative suboptimality, each floored at {FLOOR:g} (below "
            "it: rounding of the objective's evaluation). Time: CPU, BLAS on one "
            f"thread, best of {args.repeat} (one fit when over 10 s), ms."
        ),
        "",
        (
            f"Python {platform.python_version()}, scikit-learn {sklearn.__version__}"
            f"; {platform.machine()} (shared)."
        ),
        "",
        (
            "| problem | intercept | penalty | alpha | ours subopt | sklearn subopt "
            "| ratio | ours ms (n_iter) | sklearn ms (n_iter) | refs spread |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        o, s = row["ours"], row["sklearn"]
        spread = (max(row["refs"].values()) - row["best"]) / abs(row["best"])
        lines.append(
            f"| {row['problem']} | {'yes' if row['intercept'] else 'no'} | "
            f"{row['penalty']} | {row['alpha_label']} | {_cell(o)} | {_cell(s)} | "
            f"{row['ratio']:.2g} | {1e3 * o['seconds']:.1f} ({o['n_iter']}) | "
            f"{1e3 * s['seconds']:.1f} ({s['n_iter']}) | {spread:.1e} |"
        )
    above = [row for row in rows if row["ratio"] > 1]
    lines += [
        "",
        "## Summary",
        "",
        (
            f"{len(rows)} rows: median ratio {np.median(ratios):.2g}, worst "
            f"{ratios.max():.2g} ({worst['problem']}, "
            f"{'with' if worst['intercept'] else 'no'} intercept, {worst['penalty']}, "
            f"{worst['alpha_label']}); rows with ratio <= 1: "
            f"{int(np.sum(ratios <= 1))} of {len(rows)}."
        ),
        "",
        "| penalty | rows | median ratio | worst ratio |",
        "|---|---|---|---|",
    ]
    for penalty in PENALTIES:
        r = np.array([row["ratio"] for row in rows if row["penalty"] == penalty])
        if len(r):
            lines.append(
                f"| {penalty} | {len(r)} | {np.median(r):.2g} | {r.max():.2g} |"
            )
    qs = np.array([row["ratio"] for row in rows if "quick start" in row["problem"]])
    if len(qs):
        lines += ["", f"Quick start's problem alone: median {np.median(qs):.2g}, "
                      f"worst {qs.max():.2g} over {len(qs)} rows."]
    if above:
        lines += ["", "Rows where ours ends farther from the optimum than sklearn:"]
        lines += [
            f"- {r['problem']}, {'with' if r['intercept'] else 'no'} intercept, "
            f"{r['penalty']}, {r['alpha_label']}: ours {_cell(r['ours'])} vs "
            f"sklearn {_cell(r['sklearn'])} (ratio {r['ratio']:.2g})"
            for r in above
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
