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
(d) **ours**: :class:`~sklearn_mtl.MultiTaskSharedRepRegressorCV` on the
    ``(n, 139)`` targets (each pupil observed in the column of its school
    only, NaN elsewhere), choosing ``alpha`` in ``OURS_ALPHAS`` (9 values) and
    ``n_components`` in ``[1, 2, 4, 8]`` by 3-fold shuffled ``KFold`` on the
    training rows (its default score, the mean over schools of each school's
    held-out R^2), with three task weightings:

    - ``task_weight=None``: every pupil weighs the same, so a school's total
      weight in the loss is proportional to its number of pupils ``n_t``;
    - ``"balanced"``: every school weighs the same, whatever ``n_t``;
    - ``1 / sqrt(n_t)``: a school's total weight ``n_t / sqrt(n_t)`` grows
      like ``sqrt(n_t)``, halfway (on a log scale) between the two: large
      schools count more than small ones, but less than in proportion.

(d') **ours, tuned on the pooled score**: the same searches scored by
    :func:`pooled_explained_variance`, the literature's metric computed on
    the held-out training rows of each fold (all schools pooled), instead of
    the mean of per-school R^2 (which small schools, with a handful of
    held-out pupils, make noisy).

Every ``RidgeCV`` chooses ``alpha`` in ``ALPHAS`` by its efficient
leave-one-out error. The **tuning time** is that of choosing the
hyperparameters and fitting (the ``RidgeCV`` fit, summed over the schools for
(a)), the **fit time** that of one refit at the chosen hyperparameters; both
are the median over the splits, CPU time of the process (steady on a shared
machine) and wall-clock time, BLAS on one thread. The yardstick of later speed
targets, one pooled sklearn ``Ridge(alpha=1.0)`` fit on the training rows of
split 1 (median of many repeats), is timed too.

Run::

    python benchmarks/bench_school.py             # the 10 splits, about 4 min
    python benchmarks/bench_school.py --splits 2  # the first two splits
    python benchmarks/bench_school.py --quick     # smoke run: 1 split, 20 repeats

Writes ``benchmarks/results/school.md``.
"""

import argparse
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import sklearn
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.model_selection import KFold
from threadpoolctl import threadpool_limits

from sklearn_mtl import MultiTaskSharedRepRegressor, MultiTaskSharedRepRegressorCV
from sklearn_mtl.datasets import load_school

RESULTS = Path(__file__).parent / "results"
ALPHAS = np.logspace(-3, 3, 13)
N_SCHOOLS = 139
# Grid of (d): from 10 (every school's model zero, its intercept only) down
# to 1e-3, two points per decade; and the numbers of shared components.
OURS_ALPHAS = np.logspace(-3, 1, 9)
OURS_COMPONENTS = [1, 2, 4, 8]


@dataclass
class Fitted:
    """A method fit on the training rows of one split.

    ``predict(X, school)`` returns, for each row, the prediction of the task
    of its school (shape ``(n_rows,)``). ``tune`` and ``fit`` are
    ``(cpu_seconds, wall_seconds)`` of the tuning (hyperparameter choice
    included) and of one refit at the chosen hyperparameters. ``chosen``
    describes the hyperparameters chosen, ``alpha_grid`` the alphas tried
    (to flag choices on the grid's edge).
    """

    predict: Callable
    tune: tuple
    fit: tuple
    chosen: dict
    alpha_grid: np.ndarray = field(default_factory=lambda: ALPHAS)


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


def pooled_explained_variance(estimator, X, Y):
    """Scorer: ``1 - MSE / Var`` over every observed entry of ``Y``, pooled.

    On School each row is observed in one column (its school's), so this is
    the literature's metric on the rows given: here, a fold's held-out
    training rows.
    """
    observed = ~np.isnan(Y)
    y_true = Y[observed]
    return explained_variance(y_true, estimator.predict(X)[observed])


def sqrt_count_weights(school_train):
    """``1 / sqrt(n_t)`` per school: each school's total weight ``~ sqrt(n_t)``.

    ``task_weight`` multiplies the loss of every observed entry of a task, so
    a school's share of the loss is ``c_t n_t``: ones give ``n_t`` (None),
    ``1 / n_t`` gives the same share to every school ("balanced"), and
    ``1 / sqrt(n_t)`` gives ``sqrt(n_t)``, between the two.
    """
    counts = np.bincount(school_train, minlength=N_SCHOOLS)
    return 1.0 / np.sqrt(counts)


def fit_ours(X_train, Y_train, school_train, *, task_weight=None, scoring=None,
             random_state=0):
    """(d) ``MultiTaskSharedRepRegressorCV`` on the ``(n, 139)`` targets.

    Each training row is observed in the column of its school only (NaN
    elsewhere: the estimator's missing targets). ``alpha`` (``OURS_ALPHAS``)
    and ``n_components`` (``OURS_COMPONENTS``) are chosen by 3-fold shuffled
    ``KFold`` on the training rows, scored by ``scoring`` (None: the
    estimator's default score, the mean over schools of the held-out R^2);
    the CV estimator then refits on all training rows. ``task_weight`` is
    None, "balanced" or ``"sqrt"`` (:func:`sqrt_count_weights`).
    """
    if isinstance(task_weight, str) and task_weight == "sqrt":
        task_weight = sqrt_count_weights(school_train)
    search = MultiTaskSharedRepRegressorCV(
        alphas=OURS_ALPHAS,
        n_components=OURS_COMPONENTS,
        task_weight=task_weight,
        cv=KFold(3, shuffle=True, random_state=random_state),
        scoring=scoring,
        random_state=random_state,
    )
    model, *tune_time = timed(search.fit, X_train, Y_train)
    chosen = {"alpha": model.alpha_, "n_components": model.n_components_}
    refit = MultiTaskSharedRepRegressor(
        task_weight=task_weight, random_state=random_state, **chosen
    )
    _, *fit_time = timed(refit.fit, X_train, Y_train)

    def predict(X, school):
        return model.predict(X)[np.arange(len(school)), school]

    return Fitted(
        predict, tuple(tune_time), tuple(fit_time),
        {key: np.array([value]) for key, value in chosen.items()}, OURS_ALPHAS,
    )


def warm_up(data):
    """One untimed fit of every kind (Numba compiles its kernels on first call)."""
    train, _ = data.splits[0]
    rows = train[::8]
    model = MultiTaskSharedRepRegressor(n_components=1, alpha=0.1)
    model.fit(data.data[rows], data.target[rows])


METHODS = {
    "(a) independent RidgeCV per school": fit_independent,
    "(b) pooled RidgeCV": fit_pooled,
    "(c) pooled RidgeCV + penalised school intercepts": fit_school_intercepts,
    "(c') pooled RidgeCV + unpenalised school intercepts": fit_school_fixed_effects,
    "(d) ours, task_weight=None": partial(fit_ours, task_weight=None),
    '(d) ours, task_weight="balanced"': partial(fit_ours, task_weight="balanced"),
    "(d) ours, task_weight=1/sqrt(n_t)": partial(fit_ours, task_weight="sqrt"),
    "(d') ours tuned on pooled EV, task_weight=None": partial(
        fit_ours, task_weight=None, scoring=pooled_explained_variance
    ),
    '(d\') ours tuned on pooled EV, task_weight="balanced"': partial(
        fit_ours, task_weight="balanced", scoring=pooled_explained_variance
    ),
    "(d') ours tuned on pooled EV, task_weight=1/sqrt(n_t)": partial(
        fit_ours, task_weight="sqrt", scoring=pooled_explained_variance
    ),
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
    results = {
        name: {"ev": [], "tune": [], "fit": [], "chosen": [], "grid": None}
        for name in METHODS
    }
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
            record["grid"] = fitted.alpha_grid
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
def _chosen_summary(chosen, grid):
    """Median of each hyperparameter chosen, over splits (and schools)."""
    parts = []
    for key in chosen[0]:
        values = np.concatenate([np.atleast_1d(c[key]) for c in chosen])
        text = f"{key} {np.median(values):g}"
        if key == "alpha":
            edges = np.sum(np.isclose(values, grid.min()) | np.isclose(values, grid.max()))
            if edges:
                text += f" ({edges} of {values.size} on the grid's edge)"
        parts.append(text)
    return ", ".join(parts)


def paired_comparison(results):
    """Lines of a table: each of ours minus the best baseline, split by split."""
    baselines = {k: v for k, v in results.items() if not k.startswith("(d")}
    ours = {k: v for k, v in results.items() if k.startswith("(d")}
    if not baselines or not ours:
        return []
    best = max(baselines, key=lambda k: np.mean(baselines[k]["ev"]))
    reference = 100 * np.asarray(baselines[best]["ev"])
    lines = [
        "",
        f"## Ours vs the best baseline, {best}",
        "",
        "Paired over the splits (same training and test pupils): mean and "
        "standard deviation of the difference in explained variance "
        "(percentage points), and the splits where ours is higher.",
        "",
        "| method | difference (points) | splits won |",
        "|---|---|---|",
    ]
    for name, record in ours.items():
        diff = 100 * np.asarray(record["ev"]) - reference
        lines.append(
            f"| {name} | {diff.mean():+.2f} ± {diff.std():.2f} "
            f"| {int(np.sum(diff > 0))} of {diff.size} |"
        )
    return lines


def write_report(path, results, skipped, yardstick, args):
    n_splits = args.splits
    ridge_cpu, ridge_wall, ridge_cpu_min = yardstick
    if args.quick:
        command = "python benchmarks/bench_school.py --quick"
    else:
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
        "`logspace(-3, 3, 13)` by efficient leave-one-out; (d) "
        "`MultiTaskSharedRepRegressorCV(alphas=logspace(-3, 1, 9), "
        "n_components=[1, 2, 4, 8], cv=KFold(3, shuffle=True, random_state=0))` "
        "on the `(n, 139)` targets with NaN off each school's rows, scored by "
        "its default score (mean over schools of the held-out R^2) for (d), "
        "by the explained variance of the fold's held-out pupils pooled (the "
        "literature's metric, on training rows only) for (d'), then "
        "refitted on all training rows. Task weights of (d): None (each pupil "
        "the same: a school weighs `n_t`), \"balanced\" (each school the "
        "same) and `1/sqrt(n_t)` (a school weighs `sqrt(n_t)`, in between)."
    )
    timing = (
        "Times: median over the splits of the CPU time of the process (and, "
        "after the slash, the wall-clock time), in ms. *Tuning* is the "
        "hyperparameter choice with its fit (the `RidgeCV` fit, summed over "
        "the 139 schools for (a), the whole cross-validation with its refit "
        "for (d)); *fit* is one refit at the chosen "
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
            f"| {_chosen_summary(record['chosen'], record['grid'])} |"
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
    lines += paired_comparison(results)
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
        "--quick", action="store_true",
        help="smoke run: the first split only, 20 yardstick repeats",
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS / "school.md",
        help="markdown report (default: benchmarks/results/school.md)",
    )
    args = parser.parse_args()
    if args.quick:
        args.splits, args.repeat = 1, 20

    data = load_school()
    with threadpool_limits(limits=1, user_api="blas"):
        warm_up(data)
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
