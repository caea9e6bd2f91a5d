"""School benchmark: explained variance of multi-task regressors on the 10 splits.

The School data (:func:`sklearn_mtl.datasets.load_school`: 15362 pupils of 139
London schools, 27 attributes, one regression task per school) with the 10
train/test splits of Argyriou, Evgeniou & Pontil (2008). The protocol of the
multi-task literature: the explained variance ``1 - MSE / Var(y_test)`` of the
pooled test pupils of a split (all schools together), mean and standard
deviation over the splits.

Methods, each tuned on the training rows only:

(a) **independent**: one ``RidgeCV`` per school, fit on that school's training
    rows only (16 to 188 pupils);
(b) **pooled**: one ``RidgeCV`` on all training rows, the school ignored;
(c) **pooled + school intercepts**: one ``RidgeCV`` on the attributes and the
    139 school indicator columns, which the ridge penalty shrinks like the
    attributes: the school intercepts are pulled towards the common one, more
    for small schools, much as the random school effects of a multilevel
    model. (c') gives the same model unpenalised school intercepts (fixed
    effects), for comparison;
(d) **ours**: :func:`fit_ours`, to be filled in once the multi-task CV
    estimator exists; skipped with a note until then.

Every ``RidgeCV`` chooses ``alpha`` in ``ALPHAS`` by its efficient
leave-one-out error. The **tuning time** is that of choosing the
hyperparameters and fitting (the ``RidgeCV`` fit, summed over the schools for
(a)), the **fit time** that of one refit at the chosen hyperparameters; both
are the median over the splits, CPU time of the process (steady on a shared
machine) and wall-clock time, BLAS on one thread. The yardstick of later speed
targets, one pooled sklearn ``Ridge(alpha=1.0)`` fit on the training rows of
split 1 (median of many repeats), is timed too.

Run::

    python benchmarks/bench_school.py             # the 10 splits, about 15 s
    python benchmarks/bench_school.py --splits 2  # the first two splits

Writes ``benchmarks/results/school.md``.
"""

import argparse
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sklearn
from sklearn.linear_model import Ridge, RidgeCV
from threadpoolctl import threadpool_limits

from sklearn_mtl.datasets import load_school

RESULTS = Path(__file__).parent / "results"
ALPHAS = np.logspace(-3, 3, 13)
N_SCHOOLS = 139


@dataclass
class Fitted:
    """A method fit on the training rows of one split.

    ``predict(X, school)`` returns, for each row, the prediction of the task
    of its school (shape ``(n_rows,)``). ``tune`` and ``fit`` are
    ``(cpu_seconds, wall_seconds)`` of the tuning (hyperparameter choice
    included) and of one refit at the chosen hyperparameters. ``chosen``
    describes the hyperparameters chosen.
    """

    predict: Callable
    tune: tuple
    fit: tuple
    chosen: dict


def timed(func, *args, **kwargs):
    """``(result, cpu_seconds, wall_seconds)`` of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = func(*args, **kwargs)
    return result, time.process_time() - cpu, time.perf_counter() - wall


def explained_variance(y_true, y_pred):
    """``1 - MSE / Var(y_true)``, the literature's score on pooled test pupils."""
    return 1.0 - np.mean((y_true - y_pred) ** 2) / np.var(y_true)


def observed_scores(Y, school):
    """Each row's exam score, read from the column of its school."""
    return Y[np.arange(len(school)), school]


# ------------------------------------------------------------------ methods
def fit_independent(X_train, Y_train, school_train):
    """(a) One ``RidgeCV`` per school, on that school's training rows only."""
    y_train = observed_scores(Y_train, school_train)
    rows = [np.flatnonzero(school_train == k) for k in range(N_SCHOOLS)]

    def tune():
        return [RidgeCV(alphas=ALPHAS).fit(X_train[r], y_train[r]) for r in rows]

    models, *tune_time = timed(tune)
    alphas = np.array([model.alpha_ for model in models])

    def refit():
        return [
            Ridge(alpha=alpha).fit(X_train[r], y_train[r])
            for alpha, r in zip(alphas, rows)
        ]

    _, *fit_time = timed(refit)

    def predict(X, school):
        y_pred = np.empty(len(school))
        for k, model in enumerate(models):
            mask = school == k
            if mask.any():
                y_pred[mask] = model.predict(X[mask])
        return y_pred

    return Fitted(predict, tuple(tune_time), tuple(fit_time), {"alpha": alphas})


def fit_pooled(X_train, Y_train, school_train):
    """(b) One ``RidgeCV`` on all training rows, ignoring the school."""
    y_train = observed_scores(Y_train, school_train)
    model, *tune_time = timed(RidgeCV(alphas=ALPHAS).fit, X_train, y_train)
    _, *fit_time = timed(Ridge(alpha=model.alpha_).fit, X_train, y_train)
    return Fitted(
        lambda X, school: model.predict(X),
        tuple(tune_time),
        tuple(fit_time),
        {"alpha": np.array([model.alpha_])},
    )


def with_school_indicators(X, school):
    """``X`` with one indicator column per school appended."""
    indicators = np.zeros((len(school), N_SCHOOLS))
    indicators[np.arange(len(school)), school] = 1.0
    return np.hstack([X, indicators])


def fit_school_intercepts(X_train, Y_train, school_train):
    """(c) Pooled ``RidgeCV`` with penalised per-school intercepts.

    The indicator columns are penalised by the same ``alpha`` as the
    attributes (the common intercept is not): a school's intercept is shrunk
    towards the common one, the more the fewer its pupils. The indicators'
    unit scale sets how strongly, relative to the attributes.
    """
    y_train = observed_scores(Y_train, school_train)

    def tune():
        return RidgeCV(alphas=ALPHAS).fit(
            with_school_indicators(X_train, school_train), y_train
        )

    model, *tune_time = timed(tune)

    def refit():
        return Ridge(alpha=model.alpha_).fit(
            with_school_indicators(X_train, school_train), y_train
        )

    _, *fit_time = timed(refit)
    return Fitted(
        lambda X, school: model.predict(with_school_indicators(X, school)),
        tuple(tune_time),
        tuple(fit_time),
        {"alpha": np.array([model.alpha_])},
    )


def _within_school(X, y, school):
    """Centre ``X`` and ``y`` on their school means; return the means too."""
    counts = np.bincount(school, minlength=N_SCHOOLS)[:, None]
    X_means = np.zeros((N_SCHOOLS, X.shape[1]))
    np.add.at(X_means, school, X)
    X_means /= counts
    y_means = np.bincount(school, weights=y, minlength=N_SCHOOLS) / counts[:, 0]
    return X - X_means[school], y - y_means[school], X_means, y_means


def fit_school_fixed_effects(X_train, Y_train, school_train):
    """(c') Pooled ``RidgeCV`` with unpenalised per-school intercepts.

    With the intercepts free, the attributes' coefficients are exactly those of
    a ridge fit on the data centred within each school (the intercepts
    absorb every school mean), and each intercept is then its school's mean
    residual. The leave-one-out choice of ``alpha`` runs on the centred data,
    which ignores that a left-out pupil also moved its school's mean.
    """
    y_train = observed_scores(Y_train, school_train)

    def fit(make_model):
        X_c, y_c, X_means, y_means = _within_school(X_train, y_train, school_train)
        model = make_model().fit(X_c, y_c)
        return model, y_means - X_means @ model.coef_

    (model, intercepts), *tune_time = timed(
        fit, lambda: RidgeCV(alphas=ALPHAS, fit_intercept=False)
    )
    _, *fit_time = timed(fit, lambda: Ridge(alpha=model.alpha_, fit_intercept=False))
    return Fitted(
        lambda X, school: X @ model.coef_ + intercepts[school],
        tuple(tune_time),
        tuple(fit_time),
        {"alpha": np.array([model.alpha_])},
    )


def fit_ours(X_train, Y_train, school_train, *, random_state=0):
    """(d) OURS -- TO BE FILLED IN once the multi-task CV estimator exists.

    Fit the multi-task CV estimator on ``X_train`` of shape ``(n, 27)`` and
    ``Y_train`` of shape ``(n, 139)`` (each row observed in the column of its
    school only, NaN elsewhere: the estimator's missing targets), tuning its
    hyperparameters on the training rows only, e.g.::

        (model, *tune_time) = timed(SomeMultiTaskCV(...).fit, X_train, Y_train)
        (_, *fit_time) = timed(SomeMultiTask(**chosen).fit, X_train, Y_train)

        def predict(X, school):
            return model.predict(X)[np.arange(len(school)), school]

        return Fitted(predict, tuple(tune_time), tuple(fit_time), chosen)

    ``school_train`` (the column of each row) is given for convenience; the
    benchmark scores ``predict(X_test, school_test)`` like the baselines'.

    Raises
    ------
    NotImplementedError
        Until it is written; the benchmark then skips "ours" with a note.
    """
    raise NotImplementedError("the multi-task CV estimator does not exist yet")


METHODS = {
    "(a) independent RidgeCV per school": fit_independent,
    "(b) pooled RidgeCV": fit_pooled,
    "(c) pooled RidgeCV + penalised school intercepts": fit_school_intercepts,
    "(c') pooled RidgeCV + unpenalised school intercepts": fit_school_fixed_effects,
    "(d) ours": fit_ours,
}


# --------------------------------------------------------------- benchmark
def run_splits(data, n_splits):
    """Score every method on the first ``n_splits`` splits.

    Returns ``{method: {"ev": [...], "tune": [(cpu, wall), ...], "fit": [...],
    "chosen": [...]}}`` (one entry per split) and the skipped methods with
    the reason.
    """
    X, Y, school = data.data, data.target, data.school
    y = observed_scores(Y, school)
    results = {name: {"ev": [], "tune": [], "fit": [], "chosen": []} for name in METHODS}
    skipped = {}
    for split, (train, test) in enumerate(data.splits[:n_splits], start=1):
        for name, fit in METHODS.items():
            if name in skipped:
                continue
            try:
                fitted = fit(X[train], Y[train], school[train])
            except NotImplementedError as exc:
                skipped[name] = str(exc)
                print(f"  note: {name} skipped ({exc}); fill in fit_ours()")
                continue
            ev = explained_variance(y[test], fitted.predict(X[test], school[test]))
            record = results[name]
            record["ev"].append(ev)
            record["tune"].append(fitted.tune)
            record["fit"].append(fitted.fit)
            record["chosen"].append(fitted.chosen)
            print(f"  split {split:2d} {name}: explained variance {100 * ev:.2f} %, "
                  f"tuning {fitted.tune[0]:.4f} s CPU", flush=True)
    return {k: v for k, v in results.items() if k not in skipped}, skipped


def time_ridge_yardstick(data, repeat):
    """Median CPU and wall time of one pooled ``Ridge(alpha=1.0)`` fit.

    On the training rows of split 1 (11472 pupils, 27 attributes): the unit
    of later speed targets. The minimum CPU time comes third, a check on how
    much a loaded machine inflated the median.
    """
    train, _ = data.splits[0]
    X_train = data.data[train]
    y_train = observed_scores(data.target[train], data.school[train])
    Ridge(alpha=1.0).fit(X_train, y_train)  # warm-up: first-call overheads
    times = [timed(Ridge(alpha=1.0).fit, X_train, y_train)[1:] for _ in range(repeat)]
    cpu, wall = np.median(np.array(times), axis=0)
    return cpu, wall, np.min(np.array(times)[:, 0])


# ------------------------------------------------------------------ report
def _chosen_summary(chosen):
    """Median of each hyperparameter chosen, over splits (and schools)."""
    parts = []
    for key in chosen[0]:
        values = np.concatenate([np.atleast_1d(c[key]) for c in chosen])
        text = f"{key} {np.median(values):g}"
        if key == "alpha":
            edges = np.sum((values == ALPHAS[0]) | (values == ALPHAS[-1]))
            if edges:
                text += f" ({edges} of {values.size} on the grid's edge)"
        parts.append(text)
    return ", ".join(parts)


def write_report(path, results, skipped, yardstick, args):
    n_splits = args.splits
    ridge_cpu, ridge_wall, ridge_cpu_min = yardstick
    command = "python benchmarks/bench_school.py" + (
        "" if n_splits == 10 else f" --splits {n_splits}"
    )
    environment = (
        f"Python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, {platform.machine()}; "
        "BLAS on one thread."
    )
    protocol = (
        "Data: `sklearn_mtl.datasets.load_school()` (15362 pupils, 139 schools "
        "= tasks, 27 attributes), the splits of Argyriou, Evgeniou & Pontil "
        "(2008) (11472 train / 3890 test pupils, 75 % of each school in train). "
        "Score: explained variance `1 - MSE / Var(y_test)` on the pooled test "
        f"pupils, in %, mean ± std over {n_splits} split(s). Hyperparameters "
        "tuned on the training rows only: `RidgeCV` chooses `alpha` in "
        "`logspace(-3, 3, 13)` by efficient leave-one-out."
    )
    timing = (
        "Times: median over the splits of the CPU time of the process (and, "
        "after the slash, the wall-clock time), in ms. *Tuning* is the "
        "hyperparameter choice with its fit (the `RidgeCV` fit, summed over "
        "the 139 schools for (a)); *fit* is one refit at the chosen "
        "hyperparameters; the ratios (CPU time) are to the Ridge yardstick below."
    )
    header = (
        "| method | explained variance (%) | split 1 (%) | tuning (ms) "
        "| fit (ms) | tuning / Ridge | fit / Ridge | chosen (median) |"
    )
    lines = [
        "# School benchmark",
        "",
        f"Produced by `{command}`.",
        environment,
        "",
        protocol,
        "",
        timing,
        "",
        header,
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, record in results.items():
        ev = 100 * np.asarray(record["ev"])
        tune = 1e3 * np.median(np.asarray(record["tune"]), axis=0)
        fit = 1e3 * np.median(np.asarray(record["fit"]), axis=0)
        ridge_ms = 1e3 * ridge_cpu
        lines.append(
            f"| {name} | {ev.mean():.2f} ± {ev.std():.2f} | {ev[0]:.2f} "
            f"| {tune[0]:.2f} / {tune[1]:.2f} | {fit[0]:.2f} / {fit[1]:.2f} "
            f"| {tune[0] / ridge_ms:.1f} | {fit[0] / ridge_ms:.1f} "
            f"| {_chosen_summary(record['chosen'])} |"
        )
    for name, reason in skipped.items():
        lines.append(f"| {name} | not run: {reason} | | | | | | |")
    yardstick_text = (
        "One pooled fit on the training rows of split 1 (11472 x 27, one "
        f"target), median of {args.repeat} repeats: **{1e3 * ridge_cpu:.3f} ms "
        f"CPU** ({1e3 * ridge_wall:.3f} ms wall-clock; fastest repeat "
        f"{1e3 * ridge_cpu_min:.3f} ms CPU). Later speed targets are ratios to "
        "the median CPU time."
    )
    lines += [
        "",
        "## Yardstick: sklearn `Ridge(alpha=1.0)`",
        "",
        yardstick_text,
        "",
        "## Per split (explained variance, %)",
        "",
        "| method | " + " | ".join(str(s) for s in range(1, n_splits + 1)) + " |",
        "|---|" + "---|" * n_splits,
    ]
    for name, record in results.items():
        scores = " | ".join(f"{100 * ev:.2f}" for ev in record["ev"])
        lines.append(f"| {name} | {scores} |")
    path.write_text("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--splits", type=int, default=10, choices=range(1, 11), metavar="N",
        help="run the first N of the 10 splits (default: 10)",
    )
    parser.add_argument(
        "--repeat", type=int, default=200,
        help="repeats of the Ridge yardstick fit (default: 200)",
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS / "school.md",
        help="markdown report (default: benchmarks/results/school.md)",
    )
    args = parser.parse_args()

    data = load_school()
    with threadpool_limits(limits=1, user_api="blas"):
        print(f"School benchmark on {args.splits} split(s)")
        results, skipped = run_splits(data, args.splits)
        yardstick = time_ridge_yardstick(data, args.repeat)
    print(f"Ridge(alpha=1.0) yardstick: {1e3 * yardstick[0]:.3f} ms CPU, "
          f"{1e3 * yardstick[1]:.3f} ms wall")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_report(args.output, results, skipped, yardstick, args)
    print(args.output.read_text())


if __name__ == "__main__":
    main()
