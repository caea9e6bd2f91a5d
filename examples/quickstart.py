"""Quick start: sklearn_mtl's estimators on data that scikit-learn ships.

Run with ``python examples/quickstart.py``. It prints, for each penalty, the
sparsity and test R^2 of ``RegularizedGDRegressor`` next to sklearn's
``ElasticNet`` (same objective, so the same optimum), tunes ``alpha`` with
``GridSearchCV`` in a ``Pipeline``, then shows what a shared representation
buys when many related tasks each have few samples, with targets missing, for
classification tasks, and on the School data (each task on its own rows).
"""

import time

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import ElasticNet, LogisticRegression, RidgeCV
from sklearn.model_selection import GridSearchCV, KFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_mtl import (
    MultiTaskSharedRepClassifier,
    MultiTaskSharedRepRegressor,
    MultiTaskSharedRepRegressorCV,
    RegularizedGDRegressor,
)
from sklearn_mtl._penalties import enet_objective
from sklearn_mtl.datasets import (
    load_school,
    make_low_rank_classification_tasks,
    make_low_rank_tasks,
)


def timed_fit(estimator, X, y):
    start = time.perf_counter()
    estimator.fit(X, y)
    return estimator, time.perf_counter() - start


def compare_penalties(X_train, X_test, y_train, y_test):
    print("Diabetes, standardised features; alpha = 0.5 for every penalty\n")
    header = (
        f"{'penalty':<11} {'model':<24} {'non-zero':>8} {'test R^2':>9} "
        f"{'objective':>12} {'fit (ms)':>9}"
    )
    print(header)
    print("-" * len(header))
    alpha = 0.5
    for penalty, l1_ratio in [("l1", 1.0), ("elasticnet", 0.5), ("l2", 0.0)]:
        ours = RegularizedGDRegressor(penalty, alpha=alpha, l1_ratio=0.5, tol=1e-8)
        theirs = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-8)
        for name, model in [("RegularizedGDRegressor", ours), ("sklearn ElasticNet", theirs)]:
            model, seconds = timed_fit(model, X_train, y_train)
            objective = enet_objective(
                X_train, y_train, model.coef_, model.intercept_, alpha, l1_ratio
            )
            print(
                f"{penalty:<11} {name:<24} {np.count_nonzero(model.coef_):>8d} "
                f"{model.score(X_test, y_test):>9.3f} {objective:>12.4f} "
                f"{1e3 * seconds:>9.1f}"
            )
    print(
        "\nL1 zeroes coefficients out (soft-thresholding); L2 only shrinks them "
        "(weight decay).\nThe same objective value shows both solvers reach the "
        "same optimum.\n(The first fit includes Numba compilation unless the "
        "cache is warm.)"
    )


def tune_alpha(X_train, X_test, y_train, y_test):
    pipe = make_pipeline(StandardScaler(), RegularizedGDRegressor("elasticnet"))
    grid = {
        "regularizedgdregressor__alpha": np.logspace(-3, 1, 9),
        "regularizedgdregressor__l1_ratio": [0.2, 0.5, 0.9],
    }
    search = GridSearchCV(pipe, grid, cv=5).fit(X_train, y_train)
    best = search.best_params_
    print(
        "\nGridSearchCV over alpha and l1_ratio in a Pipeline(StandardScaler, "
        "RegularizedGDRegressor):\n"
        f"  best alpha = {best['regularizedgdregressor__alpha']:.3g}, "
        f"l1_ratio = {best['regularizedgdregressor__l1_ratio']}, "
        f"CV R^2 = {search.best_score_:.3f}, "
        f"test R^2 = {search.score(X_test, y_test):.3f}"
    )


def multitask_regression():
    """30 tasks, 60 samples for 120 features, half of the targets missing."""
    X, X_test, Y, Y_test = make_low_rank_tasks(
        n_samples=60, n_features=120, n_tasks=30, rank=3, noise=0.5,
        missing_fraction=0.5, random_state=0,
    )
    search = GridSearchCV(
        MultiTaskSharedRepRegressor(random_state=0),
        {"alpha": [0.1, 0.3, 1.0], "n_components": [3, 6]},
        cv=3,
    ).fit(X, Y)
    shared_r2 = search.score(X_test, Y_test)

    independent_r2 = []
    for t in range(Y.shape[1]):
        observed = ~np.isnan(Y[:, t])
        ridge = RidgeCV(alphas=np.logspace(-2, 3, 11)).fit(X[observed], Y[observed, t])
        independent_r2.append(ridge.score(X_test, Y_test[:, t]))
    best = search.best_params_
    print(
        "\nMulti-task regression: 30 related tasks, 120 features, 60 samples with "
        "half of the\ntargets missing (NaN), so about 30 observed samples per task "
        "(best possible R^2: 0.8)\n"
        f"  MultiTaskSharedRepRegressor (alpha={best['alpha']}, "
        f"n_components={best['n_components']}): mean test R^2 = {shared_r2:.3f}\n"
        f"  RidgeCV per task on its observed rows:        "
        f"           mean test R^2 = {np.mean(independent_r2):.3f}"
    )


def multitask_classification():
    """20 binary tasks sharing a rank-2 structure, 40 samples for 60 features."""
    X, X_test, Y, Y_test = make_low_rank_classification_tasks(
        n_samples=40, n_features=60, n_tasks=20, rank=2, random_state=0
    )
    search = GridSearchCV(
        MultiTaskSharedRepClassifier(n_components=2, random_state=0),
        {"alpha": [0.01, 0.03, 0.1]},
        cv=3,
    ).fit(X, Y)
    shared_accuracy = search.score(X_test, Y_test)
    independent = [
        LogisticRegression().fit(X, Y[:, t]).score(X_test, Y_test[:, t])
        for t in range(Y.shape[1])
    ]
    print(
        "\nMulti-task classification: 20 binary tasks, 60 features, 40 samples each\n"
        f"  MultiTaskSharedRepClassifier (alpha={search.best_params_['alpha']}): "
        f"mean test accuracy = {shared_accuracy:.3f}\n"
        f"  LogisticRegression per task:                 "
        f"mean test accuracy = {np.mean(independent):.3f}"
    )


def school():
    """139 schools, each observed on its own pupils (the target is 99.3% NaN)."""
    data = load_school()
    X, Y, task = data.data, data.target, data.school
    train, test = data.splits[0]
    y = Y[np.arange(len(task)), task]
    start = time.perf_counter()
    reg = MultiTaskSharedRepRegressorCV(
        n_alphas=9, n_components=[1, 2, 4, 8], cv=KFold(3, shuffle=True, random_state=0)
    ).fit(X[train], Y[train])
    seconds = time.perf_counter() - start
    predicted = reg.predict(X[test])[np.arange(len(test)), task[test]]
    ours = 1 - np.mean((y[test] - predicted) ** 2) / np.var(y[test])
    pooled = RidgeCV(alphas=np.logspace(-2, 4, 13)).fit(X[train], y[train])
    baseline = 1 - np.mean((y[test] - pooled.predict(X[test])) ** 2) / np.var(y[test])
    print(
        "\nSchool (load_school): 139 schools, each task observed on its own pupils\n"
        f"  MultiTaskSharedRepRegressorCV, 9 alphas x 4 n_components x 3 folds in "
        f"{seconds:.1f} s: alpha={reg.alpha_:.3g}, n_components={reg.n_components_}\n"
        f"  explained variance of the test pupils (split 1): {ours:.1%}, "
        f"pooled RidgeCV: {baseline:.1%}"
    )


def main():
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    compare_penalties(scaler.transform(X_train), scaler.transform(X_test), y_train, y_test)
    tune_alpha(X_train, X_test, y_train, y_test)
    multitask_regression()
    multitask_classification()
    school()


if __name__ == "__main__":
    main()
