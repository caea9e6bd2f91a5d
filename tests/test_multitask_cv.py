"""Cross-validated multi-task estimators, task weights, rare classes, task scorers.

The CV estimators are checked against what a user would otherwise run by hand:
an explicit loop over the folds, and GridSearchCV over the same grid and folds.
With ``n_components`` at its full rank and ``l1_ratio=0`` the shared-rep
problem is convex (the factor penalty is the trace norm of ``W = U V``), so
every path point has one optimum and the warm-started path must reproduce the
independent fits exactly (up to ``tol``).
"""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_mtl import (
    MultiTaskSharedRepClassifier,
    MultiTaskSharedRepClassifierCV,
    MultiTaskSharedRepRegressor,
    MultiTaskSharedRepRegressorCV,
)
from sklearn_mtl.datasets import make_low_rank_tasks
from sklearn_mtl.metrics import make_task_scorer


@parametrize_with_checks(
    [MultiTaskSharedRepRegressorCV(), MultiTaskSharedRepClassifierCV()]
)
def test_sklearn_compatible_at_defaults(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def _own_rows_tasks(n_tasks=8, rows=30, p=6, rank=2, noise=0.3, seed=0):
    """Tasks each observed on its own rows (School-like): Y is NaN elsewhere."""
    rng = np.random.default_rng(seed)
    n = n_tasks * rows
    X = rng.standard_normal((n, p))
    W = rng.standard_normal((p, rank)) @ rng.standard_normal((rank, n_tasks))
    task = np.repeat(np.arange(n_tasks), rows)
    Y = np.full((n, n_tasks), np.nan)
    y = np.einsum("ij,ji->i", X, W[:, task]) + noise * rng.standard_normal(n)
    Y[np.arange(n), task] = y + rng.normal(0, 2, n_tasks)[task]
    return X, Y, task


# --------------------------------------------------------------------------
# Regressor CV
# --------------------------------------------------------------------------


def test_regressor_cv_scores_equal_explicit_fold_loop():
    X, Y, _ = _own_rows_tasks()
    alphas = [0.3, 0.1, 0.03, 0.01]
    cv = KFold(3, shuffle=True, random_state=0)
    reg = MultiTaskSharedRepRegressorCV(alphas=alphas, cv=cv, tol=1e-7).fit(X, Y)
    k = min(X.shape[1], Y.shape[1])
    assert reg.n_components_grid_.tolist() == [k]
    assert reg.score_path_.shape == (1, len(alphas), 3)
    for f, (train, test) in enumerate(cv.split(X)):
        for j, alpha in enumerate(alphas):
            model = MultiTaskSharedRepRegressor(alpha=alpha, tol=1e-7).fit(
                X[train], Y[train]
            )
            expected = model.score(X[test], Y[test])
            assert reg.score_path_[0, j, f] == pytest.approx(expected, abs=1e-6)
    best = np.argmax(reg.score_path_[0].mean(axis=1))
    assert reg.alpha_ == alphas[best]
    refit = MultiTaskSharedRepRegressor(alpha=reg.alpha_, tol=1e-7).fit(X, Y)
    np.testing.assert_allclose(reg.coef_, refit.coef_, rtol=1e-5, atol=1e-8)


def test_regressor_cv_picks_what_grid_search_picks():
    X, Y, _ = _own_rows_tasks(seed=1)
    alphas = np.geomspace(1.0, 1e-3, 7)
    cv = KFold(3, shuffle=True, random_state=1)
    reg = MultiTaskSharedRepRegressorCV(alphas=alphas, cv=cv, tol=1e-8).fit(X, Y)
    search = GridSearchCV(
        MultiTaskSharedRepRegressor(tol=1e-8), {"alpha": alphas}, cv=cv
    ).fit(X, Y)
    assert reg.alpha_ == search.best_params_["alpha"]
    np.testing.assert_allclose(
        reg.score_path_[0].mean(axis=1),
        search.cv_results_["mean_test_score"],
        atol=1e-6,
    )


def test_regressor_cv_automatic_grid_starts_at_the_zero_model():
    X, Y, _ = _own_rows_tasks(seed=2)
    reg = MultiTaskSharedRepRegressorCV(
        n_alphas=4, eps=1e-2, cv=KFold(3, shuffle=True, random_state=0)
    ).fit(X, Y)
    alpha_max = reg.alphas_[0]
    assert reg.alphas_ == pytest.approx(np.geomspace(alpha_max, alpha_max * 1e-2, 4))
    at_max = MultiTaskSharedRepRegressor(alpha=alpha_max * 1.0001).fit(X, Y)
    assert np.abs(at_max.coef_).max() < 1e-8 * np.abs(reg.coef_).max()
    below = MultiTaskSharedRepRegressor(alpha=alpha_max * 0.9).fit(X, Y)
    assert np.abs(below.coef_).max() > 1e-3 * np.abs(reg.coef_).max()


def test_regressor_cv_n_components_grid_and_groups_routing():
    X, Y, task = _own_rows_tasks(seed=3)
    groups = np.arange(X.shape[0]) % 5  # rows of every task in every group
    with sklearn.config_context(enable_metadata_routing=True):
        reg = MultiTaskSharedRepRegressorCV(
            alphas=[0.1, 0.01], n_components=[1, 2, 4], cv=GroupKFold(5)
        ).fit(X, Y, groups=groups)
    assert reg.score_path_.shape == (3, 2, 5)
    assert reg.n_components_ in (1, 2, 4)
    assert reg.components_.shape == (reg.n_components_, X.shape[1])
    # without routing, groups are refused as by sklearn's CV estimators
    with pytest.raises(ValueError, match="groups"):
        MultiTaskSharedRepRegressorCV(cv=GroupKFold(5)).fit(X, Y, groups=groups)


def test_regressor_cv_fold_without_a_task_says_what_to_do():
    X, Y, task = _own_rows_tasks(n_tasks=3, rows=12)
    # Unshuffled folds take task 0's rows away from the first training fold.
    with pytest.raises(ValueError, match="shuffle=True"):
        MultiTaskSharedRepRegressorCV(alphas=[0.1], cv=KFold(3)).fit(X, Y)


# --------------------------------------------------------------------------
# Task weights
# --------------------------------------------------------------------------


@pytest.mark.parametrize("estimator", ["regressor", "classifier"])
def test_task_weight_equals_sample_weight_on_own_rows(estimator):
    X, Y, task = _own_rows_tasks(rows=40, seed=4)
    rng = np.random.default_rng(4)
    sizes = rng.integers(8, 40, Y.shape[1])
    keep = np.concatenate(
        [np.flatnonzero(task == t)[: sizes[t]] for t in range(Y.shape[1])]
    )
    X, Y, task = X[keep], Y[keep], task[keep]
    if estimator == "classifier":
        Y = np.where(np.isnan(Y), np.nan, (Y > np.nanmedian(Y, axis=0)).astype(float))
        make = lambda **kw: MultiTaskSharedRepClassifier(  # noqa: E731
            alpha=0.05, n_components=2, tol=1e-10, max_iter=5000, random_state=0, **kw
        )
    else:
        make = lambda **kw: MultiTaskSharedRepRegressor(  # noqa: E731
            alpha=0.05, n_components=2, tol=1e-10, max_iter=5000, random_state=0, **kw
        )
    counts = np.bincount(task)
    custom = rng.uniform(0.5, 3.0, Y.shape[1])
    for task_weight, row_weight in [
        ("balanced", 1.0 / counts[task]),
        (custom, custom[task]),
    ]:
        by_task = make(task_weight=task_weight).fit(X, Y)
        by_row = make().fit(X, Y, sample_weight=row_weight)
        np.testing.assert_allclose(by_task.coef_, by_row.coef_, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(
            by_task.intercept_, by_row.intercept_, rtol=1e-5, atol=1e-7
        )
    # None is every observed entry counting the same
    plain = make().fit(X, Y)
    ones = make(task_weight=np.ones(Y.shape[1])).fit(X, Y)
    np.testing.assert_allclose(plain.coef_, ones.coef_, rtol=1e-6, atol=1e-9)
    balanced = make(task_weight="balanced").fit(X, Y)
    assert not np.allclose(plain.coef_, balanced.coef_, rtol=1e-3)


@pytest.mark.parametrize("bad", [[1.0, 2.0], [1.0] * 7 + [0.0], [1.0] * 7 + [np.nan]])
def test_task_weight_rejects_bad_arrays(bad):
    X, Y, _ = _own_rows_tasks()
    with pytest.raises(ValueError, match="task_weight"):
        MultiTaskSharedRepRegressor(task_weight=bad).fit(X, Y)


# --------------------------------------------------------------------------
# Classifier CV and rare classes
# --------------------------------------------------------------------------


def _rare_tasks(n_tasks=12, rows=80, p=10, rate=0.06, seed=0, n_test=400):
    """Binary tasks on their own rows, few positives, shared rank-2 truth."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((p, 2)) @ rng.standard_normal((2, n_tasks))
    W /= np.linalg.norm(W, axis=0) / 2.0
    offset = rng.normal(0, 0.5, n_tasks)  # some tasks rarer than others

    def latent(m):
        X = rng.standard_normal((m * n_tasks, p))
        task = np.repeat(np.arange(n_tasks), m)
        score = np.einsum("ij,ji->i", X, W[:, task]) + offset[task]
        return X, task, score + 0.7 * rng.logistic(size=score.size)

    # the threshold that gives the wanted rate of positives
    threshold = np.quantile(latent(2000)[2], 1 - rate)

    def draw(m):
        X, task, z = latent(m)
        Y = np.full((X.shape[0], n_tasks), np.nan)
        Y[np.arange(X.shape[0]), task] = (z > threshold).astype(float)
        return X, Y, task

    return draw(rows), draw(n_test)


def test_rare_positives_grid_search_runs_and_beats_per_task_models():
    (X, Y, task), (X_test, Y_test, task_test) = _rare_tasks(n_tasks=29)
    assert 0.03 < np.nanmean(Y) < 0.12
    auc = make_task_scorer(roc_auc_score, response_method="predict_proba")
    cv = KFold(3, shuffle=True, random_state=0)
    # Some training folds leave a task with negatives only: it must still fit.
    one_class = [
        t
        for train, _ in cv.split(X)
        for t in range(Y.shape[1])
        if np.unique(Y[train, t][~np.isnan(Y[train, t])]).size == 1
    ]
    assert one_class, "the data should make some training folds one-class"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = GridSearchCV(
            MultiTaskSharedRepClassifier(random_state=0),
            {"alpha": [1e-1, 1e-2, 1e-3], "n_components": [1, 2]},
            cv=cv,
            scoring=auc,
            error_score="raise",
        ).fit(X, Y)
    ours = auc(search.best_estimator_, X_test, Y_test)
    per_task = []
    for t in range(Y.shape[1]):
        rows, test_rows = task == t, task_test == t
        y, y_test = Y[rows, t], Y_test[test_rows, t]
        if np.unique(y).size < 2 or np.unique(y_test).size < 2:
            continue
        model = LogisticRegressionCV(
            Cs=5, cv=KFold(3, shuffle=True, random_state=0), scoring="neg_log_loss"
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # sklearn's transitions
            model.fit(X[rows], y)
        per_task.append(roc_auc_score(y_test, model.predict_proba(X_test[test_rows])[:, 1]))
    assert ours > np.mean(per_task) + 0.02


def test_one_class_task_gets_finite_shrunk_intercept_and_two_columns():
    (X, Y, task), _ = _rare_tasks(n_tasks=6, seed=5)
    Y = Y.copy()
    Y[task == 0, 0] = 0.0  # task 0 sees negatives only
    clf = MultiTaskSharedRepClassifier(n_components=2, random_state=0).fit(X, Y)
    assert [c.tolist() for c in clf.classes_] == [[0.0, 1.0]] * 6
    proba = clf.predict_proba(X)
    assert all(P.shape == (X.shape[0], 2) for P in proba)
    b = np.ravel(clf.intercept_)
    assert np.all(np.isfinite(b))
    # Shrunk toward the others: below them (no positive seen), yet finite.
    assert b[0] < np.median(b[1:]) and b[0] > np.min(b[1:]) - 20
    # Without shrinkage a one-class task has no finite intercept: an error.
    with pytest.raises(ValueError, match="only one class"):
        MultiTaskSharedRepClassifier(intercept_shrinkage=0.0).fit(X, Y)


def test_classifier_cv_matches_grid_search_and_tunes_auc():
    (X, Y, _), (X_test, Y_test, _) = _rare_tasks(rate=0.2, seed=6, n_test=100)
    auc = make_task_scorer(roc_auc_score, response_method="predict_proba")
    cv = KFold(3, shuffle=True, random_state=0)
    alphas = [1e-1, 1e-2, 1e-3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MultiTaskSharedRepClassifierCV(
            alphas=alphas, n_components=[1, 2], cv=cv, scoring=auc, random_state=0
        ).fit(X, Y)
        search = GridSearchCV(
            MultiTaskSharedRepClassifier(random_state=0),
            {"alpha": alphas, "n_components": [1, 2]},
            cv=cv,
            scoring=auc,
        ).fit(X, Y)
    assert clf.score_path_.shape == (2, 3, 3)
    # The path's warm starts may end at other local optima than fresh fits
    # (k below full rank), so the scores agree up to the optimisation noise.
    grid = search.cv_results_["mean_test_score"].reshape(3, 2).T
    np.testing.assert_allclose(clf.score_path_.mean(axis=-1), grid, atol=0.02)
    best = grid.max()
    chosen = grid[[1, 2].index(clf.n_components_), alphas.index(clf.alpha_)]
    assert chosen >= best - 0.02
    assert auc(clf, X_test, Y_test) > 0.75


def test_classifier_cv_automatic_grid_starts_at_the_zero_model():
    (X, Y, _), _ = _rare_tasks(rate=0.3, seed=7, n_tasks=5)
    clf = MultiTaskSharedRepClassifierCV(
        n_alphas=3, n_components=[2], cv=KFold(3, shuffle=True, random_state=0)
    ).fit(X, Y)
    alpha_max = clf.alphas_[0]
    at_max = MultiTaskSharedRepClassifier(alpha=alpha_max * 1.001, n_components=2)
    assert np.abs(at_max.fit(X, Y).coef_).max() < 1e-6
    below = MultiTaskSharedRepClassifier(alpha=alpha_max * 0.8, n_components=2)
    assert np.abs(below.fit(X, Y).coef_).max() > 1e-4


# --------------------------------------------------------------------------
# Task scorers
# --------------------------------------------------------------------------


def test_task_scorer_is_mean_of_per_task_scores_on_observed_entries():
    X, X_test, Y, Y_test = make_low_rank_tasks(
        n_samples=60, n_features=8, n_tasks=4, rank=2, missing_fraction=0.4,
        n_test_samples=50, random_state=0,
    )
    Y_test = Y_test.copy()
    Y_test[::3, 1] = np.nan
    Y_test[1:, 3] = np.nan  # one observed entry: left out of the mean
    reg = MultiTaskSharedRepRegressor(alpha=0.01).fit(X, Y)
    P = reg.predict(X_test)
    expected = np.mean(
        [
            r2_score(Y_test[~np.isnan(Y_test[:, t]), t], P[~np.isnan(Y_test[:, t]), t])
            for t in range(3)
        ]
    )
    assert make_task_scorer(r2_score)(reg, X_test, Y_test) == pytest.approx(expected)
    # the regressor's default score is the same mean
    assert reg.score(X_test, Y_test) == pytest.approx(expected)


def test_task_scorer_skips_single_class_tasks_and_checks_its_method():
    (X, Y, task), _ = _rare_tasks(n_tasks=3, rate=0.3, seed=8)
    clf = MultiTaskSharedRepClassifier(n_components=1).fit(X, Y)
    auc = make_task_scorer(roc_auc_score, response_method="predict_proba")
    Y_one = Y.copy()
    Y_one[task == 2, 2] = 0.0
    proba = clf.predict_proba(X)
    expected = np.mean(
        [roc_auc_score(Y[task == t, t], proba[t][task == t, 1]) for t in range(2)]
    )
    assert auc(clf, X, Y_one) == pytest.approx(expected)
    all_one = np.where(np.isnan(Y), np.nan, 0.0)
    assert np.isnan(auc(clf, X, all_one))
    with pytest.raises(ValueError, match="response_method"):
        make_task_scorer(roc_auc_score, response_method="proba")
