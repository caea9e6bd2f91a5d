"""Generalisation of MultiTaskSharedRepClassifier on low-rank classification tasks.

Many tasks, few samples each: tasks share the same training samples (``n`` rows,
``p`` features) and their class coefficients lie in one ``rank``-dimensional
subspace (``sklearn_mtl.datasets.make_low_rank_classification_tasks``). Each
method is tuned on the training data only and scored on a large test draw by the
mean over tasks of each task's test accuracy.

Methods (every one tuned by cross-validation on the training rows):

- ``MultiTaskSharedRepClassifier`` tuned by ``GridSearchCV`` over
  ``n_components`` and ``alpha`` (``KFold``, since labels may be missing);
- ``MultiOutputClassifier(LogisticRegressionCV())``: one L2 logistic regression
  per task, each tuning its own ``C``;
- ``MLPClassifier`` tuned by ``GridSearchCV`` over hidden layer size and
  ``alpha`` (binary tasks only: it fits all tasks as one multi-label network,
  i.e. it too learns a shared hidden representation), scored by mean per-task
  accuracy;
- with missing labels, per-task ``LogisticRegressionCV`` on each task's observed
  rows (the other peers cannot take missing labels).

BLAS is limited to one thread for every method (``threadpoolctl``): on a small
shared machine, multi-threaded OpenBLAS calls inside the L-BFGS solvers (ours and
``LogisticRegressionCV``'s) spend most of their time waiting for threads.

Each scenario is repeated over several seeds; the table reports the mean test
accuracy (and its standard deviation over seeds) and the mean fit time including
tuning. Run with ``python benchmarks/bench_multitask_classification.py``; it
writes ``benchmarks/results/multitask_classification.md``.
"""

import argparse
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.multioutput import MultiOutputClassifier
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from sklearn_mtl import MultiTaskSharedRepClassifier
from sklearn_mtl.datasets import make_low_rank_classification_tasks

RESULTS = Path(__file__).parent / "results" / "multitask_classification.md"
OURS = "MultiTaskSharedRepClassifier (GridSearchCV n_components, alpha)"
BAYES = "(reference) Bayes classifier with the true coefficients"

SCENARIOS = [
    # name, n_classes, missing_fraction
    ("binary", 2, 0.0),
    ("3-class", 3, 0.0),
    ("binary, 30% labels missing", 2, 0.3),
    ("3-class, 30% labels missing", 3, 0.3),
]


def mean_task_accuracy(Y_true, Y_pred):
    """Mean over tasks of the accuracy on the observed labels."""
    Y_true = np.asarray(Y_true, dtype=float).reshape(len(Y_true), -1)
    Y_pred = np.asarray(Y_pred, dtype=float).reshape(Y_true.shape)
    accuracies = []
    for t in range(Y_true.shape[1]):
        mask = ~np.isnan(Y_true[:, t])
        accuracies.append(np.mean(Y_true[mask, t] == Y_pred[mask, t]))
    return float(np.mean(accuracies))


class PerTaskObserved:
    """One ``LogisticRegressionCV`` per task, fit on the task's observed rows."""

    def fit(self, X, Y):
        self.models_ = []
        for t in range(Y.shape[1]):
            mask = ~np.isnan(Y[:, t])
            self.models_.append(LogisticRegressionCV().fit(X[mask], Y[mask, t]))
        return self

    def predict(self, X):
        return np.column_stack([m.predict(X) for m in self.models_])


def methods(n_classes, missing):
    folds = KFold(5, shuffle=True, random_state=0)
    ours = GridSearchCV(
        MultiTaskSharedRepClassifier(random_state=0),
        {"n_components": [2, 3, 4, 6, None], "alpha": np.logspace(-2.5, -0.5, 5)},
        cv=folds,
    )
    yield OURS, ours
    if missing:
        yield "per-task LogisticRegressionCV on observed rows", PerTaskObserved()
        return
    yield "MultiOutputClassifier(LogisticRegressionCV())", MultiOutputClassifier(
        LogisticRegressionCV()
    )
    if n_classes == 2:
        yield "MLPClassifier (GridSearchCV size, alpha)", GridSearchCV(
            MLPClassifier(max_iter=2000, random_state=0),
            {"hidden_layer_sizes": [(3,), (10,), (50,)], "alpha": [1e-2, 1, 10]},
            cv=folds,
            scoring=make_scorer(mean_task_accuracy),
        )


def run(args):
    rows = []
    for name, n_classes, missing in SCENARIOS:
        scores, times = {}, {}
        for seed in range(args.seeds):
            X, X_test, Y, Y_test, coef, intercept = make_low_rank_classification_tasks(
                n_samples=args.n_samples,
                n_features=args.n_features,
                n_tasks=args.n_tasks,
                rank=args.rank,
                n_classes=n_classes,
                temperature=args.temperature,
                missing_fraction=missing,
                n_test_samples=args.n_test,
                return_coef=True,
                random_state=seed,
            )
            # Reference: the Bayes classifier, which knows the true coefficients.
            bayes = np.column_stack(
                [np.argmax(X_test @ c.T + b, axis=1) for c, b in zip(coef, intercept)]
            )
            scores.setdefault(BAYES, []).append(mean_task_accuracy(Y_test, bayes))
            times.setdefault(BAYES, []).append(np.nan)
            for method, model in methods(n_classes, missing):
                start = time.perf_counter()
                with warnings.catch_warnings():
                    # Peers' warnings: unconverged MLP/lbfgs fits, classes with
                    # fewer members than folds, LogisticRegressionCV's
                    # attribute deprecation.
                    for category in (ConvergenceWarning, UserWarning, FutureWarning):
                        warnings.simplefilter("ignore", category)
                    model.fit(X, Y)
                times.setdefault(method, []).append(time.perf_counter() - start)
                score = mean_task_accuracy(Y_test, model.predict(X_test))
                scores.setdefault(method, []).append(score)
                print(f"{name:28s} seed {seed} {method:64s} {score:.3f} "
                      f"{times[method][-1]:.1f}s {getattr(model, 'best_params_', '')}")
        ours = np.mean(scores[OURS])
        for method in sorted(scores, key=lambda m: m == BAYES):
            mean = np.mean(scores[method])
            rows.append(
                (
                    name,
                    method,
                    mean,
                    np.std(scores[method]),
                    mean - ours,
                    np.mean(times[method]),
                )
            )
    return rows


def report(rows, args, elapsed):
    lines = [
        "# Multi-task classification: shared representation vs per-task and MLP",
        "",
        "Generated by `benchmarks/bench_multitask_classification.py`"
        f" in {elapsed:.0f} s (Python {platform.python_version()}, scikit-learn "
        f"{sklearn.__version__}, {platform.machine()}).",
        "",
        f"Data: `make_low_rank_classification_tasks(n_samples={args.n_samples}, "
        f"n_features={args.n_features}, n_tasks={args.n_tasks}, rank={args.rank}, "
        f"temperature={args.temperature})`, test draw of {args.n_test} samples, "
        f"{args.seeds} seeds. All tasks share the {args.n_samples} training rows "
        f"({args.n_samples} labels per task, {args.n_features} features). Score: "
        "mean over tasks of the test accuracy (mean +- std over seeds); "
        "the gap is to MultiTaskSharedRepClassifier (negative: worse). Fit time "
        "includes the hyper-parameter search.",
        "",
        "| scenario | method | mean task accuracy | gap to ours | fit time (s) |",
        "|---|---|---|---|---|",
    ]
    for name, method, mean, std, gap, seconds in rows:
        gap_text = "" if method == OURS else f"{gap:+.3f}"
        time_text = "" if np.isnan(seconds) else f"{seconds:.2f}"
        lines.append(
            f"| {name} | {method} | {mean:.3f} +- {std:.3f} | {gap_text} | "
            f"{time_text} |"
        )
    lines += [
        "",
        "Reading: with few labels per task, per-task logistic regression cannot "
        "estimate each task's direction in the full feature space, while the "
        "shared representation pools all tasks to find the low-dimensional "
        "subspace and leaves each task only its head to learn. The tuned "
        "multi-label MLP also shares a hidden layer, but its non-convex fit and "
        "larger hyper-parameter search cost more time without matching the "
        "low-rank linear fit (cross-validation mostly picks n_components equal "
        "to the true rank) on this linear low-rank truth. The Bayes row is the "
        "ceiling set by the label noise.",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=60)
    parser.add_argument("--n-features", type=int, default=40)
    parser.add_argument("--n-tasks", type=int, default=20)
    parser.add_argument("--rank", type=int, default=3)
    parser.add_argument("--temperature", type=float, default=0.5)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):
        rows = run(args)
    report(rows, args, time.perf_counter() - start)


if __name__ == "__main__":
    main()
