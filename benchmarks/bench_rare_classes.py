"""Rare positives, each task on its own rows: shared representation vs per task.

Binary classification tasks with about 6 % positives, each observed on its own
80 training rows (NaN labels on every other task's rows, as the School tasks
are), so most tasks see only a handful of positives and some none. Generated
with NumPy (seeded):

- 29 tasks, 20 standard normal features; task ``t``'s coefficients ``w_t``
  (unit norm) lie in one shared 2-dimensional subspace (rank-2 truth);
- ``P(y = 1 | x) = expit((x . w_t + b + j_t) / 0.5)``, with a per-task base
  rate shift ``j_t ~ 0.5 N(0, 1)`` and a common intercept ``b`` solved (by
  bisection on a Gauss-Hermite quadrature of the expected rate, ``x . w_t``
  being standard normal) so that the expected positive rate over tasks is
  6 %; the realised rates are reported;
- a test draw of the same tasks, ``N_TEST`` rows per task, each task scored
  on its own test rows.

Methods, each tuned on the training rows only:

- ``GridSearchCV(MultiTaskSharedRepClassifier(), {"alpha": ALPHAS,
  "n_components": [1, 2, 4]}, cv=KFold(3, shuffle=True, random_state=seed),
  scoring=make_task_scorer(roc_auc_score, response_method="predict_proba"))``:
  the mean over tasks of each task's held-out AUC (tasks whose held-out rows
  hold a single class are left out of that mean);
- ``MultiTaskSharedRepClassifierCV`` with the same grid, folds and scorer;
- per task, ``LogisticRegressionCV(Cs=10, scoring="roc_auc")`` on the task's
  own training rows with ``StratifiedKFold(min(3, minority count))``. A task
  whose training rows hold a single class predicts its constant training
  frequency (test AUC 0.5); one with a single minority row cannot be
  cross-validated and gets an untuned ``LogisticRegression(C=1.0)``. Both
  counts are reported;
- (reference) the true probabilities: the AUC ceiling set by the label noise.

Score: mean over the 29 tasks of the test ROC AUC, then mean ± std over the
seeds; the per-seed difference to the per-task baseline is paired. Times are
CPU (steady on a shared machine) and wall-clock seconds of each method's
whole tuning and refit, BLAS on one thread.

Run::

    python benchmarks/bench_rare_classes.py          # 5 seeds, about 5 min
    python benchmarks/bench_rare_classes.py --quick  # 1 seed, smaller grid

Writes ``benchmarks/results/rare_classes.md``.
"""

import argparse
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from threadpoolctl import threadpool_limits

from sklearn_mtl import MultiTaskSharedRepClassifier, MultiTaskSharedRepClassifierCV
from sklearn_mtl.metrics import make_task_scorer

RESULTS = Path(__file__).parent / "results" / "rare_classes.md"
N_TASKS, N_ROWS, N_FEATURES, RANK = 29, 80, 20, 2
N_TEST = 500
TEMPERATURE = 0.5
POSITIVE_RATE = 0.06
COMPONENTS = [1, 2, 4]
ALPHAS = np.logspace(-5, -1, 9)
AUC = make_task_scorer(roc_auc_score, response_method="predict_proba")

OURS_GRID = "ours: GridSearchCV(MultiTaskSharedRepClassifier)"
OURS_CV = "ours: MultiTaskSharedRepClassifierCV"
PER_TASK = "per-task LogisticRegressionCV"
TRUTH = "(reference) true probabilities"


# ------------------------------------------------------------------- data
def common_intercept(shift, rate, temperature):
    """``b`` with ``mean_t E[expit((z + b + shift_t) / temperature)] = rate``.

    ``z ~ N(0, 1)`` (the score ``x . w_t`` of a unit-norm ``w_t``), the
    expectation by Gauss-Hermite quadrature; bisection, the rate being
    increasing in ``b``.
    """
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    weights = weights / weights.sum()

    def expected(b):
        return np.mean(expit((nodes[:, None] + b + shift) / temperature).T @ weights)

    low, high = -30.0, 30.0
    for _ in range(100):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if expected(mid) < rate else (low, mid)
    return 0.5 * (low + high)


def make_tasks(seed, n_rows=N_ROWS, n_test=N_TEST):
    """Training and test draws of the tasks, each task on its own rows.

    Returns ``X_train``, ``Y_train`` (``(T * n_rows, T)``, NaN off each
    task's rows), ``task_train``, ``X_test``, ``y_test``, ``task_test`` and
    the true positive probability of each test row.
    """
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((N_FEATURES, RANK)))[0]
    heads = rng.standard_normal((RANK, N_TASKS))
    coef = basis @ (heads / np.linalg.norm(heads, axis=0))  # (p, T), unit columns
    shift = 0.5 * rng.standard_normal(N_TASKS)
    b = common_intercept(shift, POSITIVE_RATE, TEMPERATURE)

    def draw(rows_per_task):
        task = np.repeat(np.arange(N_TASKS), rows_per_task)
        X = rng.standard_normal((task.size, N_FEATURES))
        score = np.einsum("ij,ji->i", X, coef[:, task]) + b + shift[task]
        proba = expit(score / TEMPERATURE)
        y = (rng.random(task.size) < proba).astype(np.float64)
        return X, y, task, proba

    X_train, y_train, task_train, _ = draw(n_rows)
    X_test, y_test, task_test, proba_test = draw(n_test)
    Y_train = np.full((task_train.size, N_TASKS), np.nan)
    Y_train[np.arange(task_train.size), task_train] = y_train
    return X_train, Y_train, task_train, X_test, y_test, task_test, proba_test


# ---------------------------------------------------------------- methods
def timed(func, *args):
    """``(result, cpu_seconds, wall_seconds)`` of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = func(*args)
    return result, time.process_time() - cpu, time.perf_counter() - wall


def positive_proba(model, X_test, task_test):
    """Each test row's probability of the positive label, from its task."""
    proba = model.predict_proba(X_test)
    out = np.empty(len(task_test))
    for t in range(N_TASKS):
        rows = task_test == t
        classes = list(model.classes_[t])
        out[rows] = proba[t][rows, classes.index(1.0)]
    return out


def fit_grid(X, Y, seed, alphas):
    search = GridSearchCV(
        MultiTaskSharedRepClassifier(random_state=0),
        {"alpha": alphas, "n_components": COMPONENTS},
        cv=KFold(3, shuffle=True, random_state=seed),
        scoring=AUC,
    )
    search.fit(X, Y)
    best = search.best_params_
    return search, {"alpha": float(best["alpha"]), "n_components": int(best["n_components"])}


def fit_cv(X, Y, seed, alphas):
    model = MultiTaskSharedRepClassifierCV(
        alphas=alphas,
        n_components=COMPONENTS,
        cv=KFold(3, shuffle=True, random_state=seed),
        scoring=AUC,
        random_state=0,
    )
    model.fit(X, Y)
    return model, {"alpha": model.alpha_, "n_components": model.n_components_}


class PerTask:
    """One ``LogisticRegressionCV`` per task on its own rows (see the module doc)."""

    def __init__(self, seed):
        self.seed = seed

    def fit(self, X, Y):
        self.models_, self.constant_, self.untuned_ = [], 0, 0
        for t in range(Y.shape[1]):
            rows = ~np.isnan(Y[:, t])
            Xt, yt = X[rows], Y[rows, t]
            minority = int(min(yt.sum(), (1 - yt).sum()))
            if minority == 0:
                self.models_.append(float(yt.mean()))
                self.constant_ += 1
                continue
            if minority == 1:
                model = LogisticRegression(C=1.0)
                self.untuned_ += 1
            else:
                model = LogisticRegressionCV(
                    Cs=10,
                    cv=StratifiedKFold(min(3, minority), shuffle=True,
                                       random_state=self.seed),
                    scoring="roc_auc",
                )
            self.models_.append(model.fit(Xt, yt))
        return self

    def positive_proba(self, X_test, task_test):
        out = np.empty(len(task_test))
        for t, model in enumerate(self.models_):
            rows = task_test == t
            if isinstance(model, float):
                out[rows] = model
            else:
                out[rows] = model.predict_proba(X_test[rows])[:, 1]
        return out


def scored_tasks(y_test, task_test):
    """Tasks whose test rows hold both classes (the AUC is defined)."""
    return [t for t in range(N_TASKS) if np.unique(y_test[task_test == t]).size == 2]


def mean_task_auc(y_test, score, task_test):
    """Mean over tasks of the test AUC on each task's own test rows.

    A task whose test rows hold a single class (a very low base rate) has no
    AUC and is left out, for every method alike.
    """
    return float(np.mean([
        roc_auc_score(y_test[task_test == t], score[task_test == t])
        for t in scored_tasks(y_test, task_test)
    ]))


def run_seed(seed, alphas):
    X, Y, task, X_test, y_test, task_test, proba_test = make_tasks(seed)
    y_train = Y[np.arange(len(task)), task]
    positives = np.bincount(task, weights=y_train, minlength=N_TASKS)
    folds = KFold(3, shuffle=True, random_state=seed)
    single_class_folds = sum(
        int(np.unique(y_train[train][task[train] == t]).size < 2)
        for train, _ in folds.split(X) for t in range(N_TASKS)
    )
    row = {
        "rate_train": float(y_train.mean()), "rate_test": float(y_test.mean()),
        "positives": positives, "single_class_folds": single_class_folds,
        "scores": {}, "times": {}, "chosen": {},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # LogisticRegressionCV's notice that its fitted attributes change in
        # a later release: only predict_proba is used here.
        warnings.filterwarnings("ignore", category=FutureWarning,
                                message=".*LogisticRegressionCV.*")
        for name, fit in [(OURS_GRID, fit_grid), (OURS_CV, fit_cv)]:
            (model, chosen), cpu, wall = timed(fit, X, Y, seed, alphas)
            row["scores"][name] = mean_task_auc(
                y_test, positive_proba(model, X_test, task_test), task_test
            )
            row["times"][name] = (cpu, wall)
            row["chosen"][name] = chosen
        per_task, cpu, wall = timed(PerTask(seed).fit, X, Y)
    row["scores"][PER_TASK] = mean_task_auc(
        y_test, per_task.positive_proba(X_test, task_test), task_test
    )
    row["times"][PER_TASK] = (cpu, wall)
    row["constant_tasks"], row["untuned_tasks"] = per_task.constant_, per_task.untuned_
    row["scores"][TRUTH] = mean_task_auc(y_test, proba_test, task_test)
    row["unscored_tasks"] = N_TASKS - len(scored_tasks(y_test, task_test))
    return row


# ------------------------------------------------------------------ report
def write_report(args, rows, elapsed, path):
    seeds = args.seeds
    methods = [OURS_GRID, OURS_CV, PER_TASK, TRUTH]
    scores = {m: np.array([r["scores"][m] for r in rows]) for m in methods}
    baseline = scores[PER_TASK]
    command = "python benchmarks/bench_rare_classes.py" + (" --quick" if args.quick else "")
    rate_train = np.mean([r["rate_train"] for r in rows])
    rate_test = np.mean([r["rate_test"] for r in rows])
    pos = np.concatenate([r["positives"] for r in rows])
    lines = [
        "# Rare positives, each task on its own rows",
        "",
        f"Produced by `{command}` in {elapsed:.0f} s.",
        f"Python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, {platform.machine()}, a shared "
        "2-core machine; BLAS on one thread.",
        "",
        f"Data (NumPy, seeds {seeds}): {N_TASKS} binary tasks x {N_ROWS} "
        f"training rows each (NaN labels on the other tasks' rows), "
        f"{N_FEATURES} standard normal features, unit-norm task coefficients "
        f"in a shared rank-{RANK} subspace, `P(y=1|x) = expit((x.w_t + b + "
        f"j_t) / {TEMPERATURE})`, `j_t ~ 0.5 N(0, 1)`, `b` set for an expected "
        f"{100 * POSITIVE_RATE:.0f} % positives. Realised: {100 * rate_train:.1f} % "
        f"of training labels and {100 * rate_test:.1f} % of test labels "
        f"positive; training positives per task: median {np.median(pos):.0f}, "
        f"range {pos.min():.0f} to {pos.max():.0f}, "
        f"{np.mean([np.sum(r['positives'] == 0) for r in rows]):.1f} tasks with "
        "none per seed on average. Test: "
        f"{N_TEST} rows per task, each task's AUC on its own test rows "
        f"({sum(r['unscored_tasks'] for r in rows)} task(s) over all seeds "
        "without a test positive left out, for every method).",
        "",
        "Tuning: alphas `" + ", ".join(f"{a:.3g}" for a in args.alphas) + "`, "
        f"n_components {COMPONENTS}, `KFold(3, shuffle=True, random_state=seed)`, "
        "scorer `make_task_scorer(roc_auc_score, response_method=\"predict_proba\")` "
        "(mean of the per-task held-out AUCs, tasks with a single class in their "
        "held-out rows left out). Out of the "
        f"{3 * N_TASKS} (task, fold) training parts, "
        f"{np.mean([r['single_class_folds'] for r in rows]):.1f} per seed hold a "
        "single class (ours fits them: the intercept pooling of "
        "`intercept_shrinkage`). Per-task baseline: "
        f"{np.mean([r['constant_tasks'] for r in rows]):.1f} task(s) per seed "
        "without a training positive predict their constant training frequency "
        f"(AUC 0.5), {np.mean([r['untuned_tasks'] for r in rows]):.1f} with a "
        "single one get an untuned `LogisticRegression(C=1)`.",
        "",
        f"## Mean per-task test AUC, mean ± std over {len(seeds)} seed(s)",
        "",
        "| method | test AUC | minus per-task (paired) | seeds better than per-task "
        "| CPU (s) | wall (s) | chosen (alpha, n_components) per seed |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in methods:
        diff = scores[m] - baseline
        times = [r["times"][m] for r in rows if m in r["times"]]
        cpu = f"{np.mean([t[0] for t in times]):.2f}" if times else ""
        wall = f"{np.mean([t[1] for t in times]):.2f}" if times else ""
        chosen = "; ".join(
            f"({r['chosen'][m]['alpha']:.3g}, {r['chosen'][m]['n_components']})"
            for r in rows if m in r["chosen"]
        )
        versus = "" if m == PER_TASK else f"{diff.mean():+.3f} ± {diff.std():.3f}"
        better = "" if m in (PER_TASK, TRUTH) else f"{int(np.sum(diff > 0))} of {diff.size}"
        lines.append(
            f"| {m} | {scores[m].mean():.3f} ± {scores[m].std():.3f} | {versus} "
            f"| {better} | {cpu} | {wall} | {chosen} |"
        )
    lines += [
        "",
        "## Per seed",
        "",
        "| seed | positives (train / test, %) | " + " | ".join(methods) + " |",
        "|---|---|" + "---|" * len(methods),
    ]
    for seed, r in zip(seeds, rows):
        lines.append(
            f"| {seed} | {100 * r['rate_train']:.1f} / {100 * r['rate_test']:.1f} | "
            + " | ".join(f"{r['scores'][m]:.3f}" for m in methods) + " |"
        )
    lines += [
        "",
        "Times are each method's whole tuning and refit (mean over the seeds). "
        "The two searches of ours fit the same candidates; the CV estimator "
        "prepares each fold once and warm-starts along each path of alphas, "
        "GridSearchCV fits every candidate from scratch.",
    ]
    path.write_text("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: one seed, a 5-alpha grid")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.seeds = [0] if args.quick else [0, 1, 2, 3, 4]
    args.alphas = np.logspace(-5, -1, 5) if args.quick else ALPHAS
    start = time.perf_counter()
    rows = []
    with threadpool_limits(limits=1, user_api="blas"):
        # Numba loads its kernels on the first fit: keep that out of the times.
        X, Y, *_ = make_tasks(0, n_rows=20, n_test=1)
        MultiTaskSharedRepClassifier(n_components=1).fit(X, Y)
        for seed in args.seeds:
            rows.append(run_seed(seed, args.alphas))
            r = rows[-1]
            print(f"seed {seed}: {100 * r['rate_train']:.1f} % positives; " + ", ".join(
                f"{m}: {r['scores'][m]:.3f}" for m in r["scores"]), flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_report(args, rows, time.perf_counter() - start, args.output)
    print(args.output.read_text())


if __name__ == "__main__":
    main()
