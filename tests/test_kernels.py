"""The pass kernels against numpy, on both sides of the row count where
their loops change (one column at a time, or several sharing each load)."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_mtl import RegularizedGDRegressor, regularized_gd_path
from sklearn_mtl._kernels._coordinate_descent import working_set_scores
from sklearn_mtl._kernels._moments import dense_column_moments
from sklearn_mtl._kernels._products import ONE_COLUMN_ROWS, fortran_rmatvec


@pytest.mark.parametrize("n_rows", [1, 7, ONE_COLUMN_ROWS - 1, ONE_COLUMN_ROWS + 3])
@pytest.mark.parametrize("n_columns", [1, 2, 5, 7])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fortran_passes_match_numpy(n_rows, n_columns, dtype):
    rng = np.random.default_rng(n_rows + n_columns)
    X = np.asfortranarray(rng.standard_normal((n_rows, n_columns)) + 3.0).astype(dtype)
    y = rng.standard_normal(n_rows)
    X64 = X.astype(np.float64)
    scale = np.abs(X64).T @ np.abs(y) + 1.0
    product = fortran_rmatvec(X, y)
    assert product.dtype == np.float64
    np.testing.assert_array_less(np.abs(product - X64.T @ y), 1e-13 * scale)
    sums, sumsq, xty = dense_column_moments(X, y)
    np.testing.assert_allclose(sums, X64.sum(axis=0), rtol=1e-13)
    np.testing.assert_allclose(sumsq, (X64**2).sum(axis=0), rtol=1e-13)
    np.testing.assert_array_less(np.abs(xty - X64.T @ y), 1e-13 * scale)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("layout", ["C", "F", "csr", "csc"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_non_finite_x_raises_sklearn_error(bad, layout, fit_intercept):
    # The fit leaves the finiteness check to the design's pass over X: a
    # single bad entry, even on a row of zero weight, must still be caught.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 4))
    y = rng.standard_normal(30)
    X[3, 2] = bad
    X = {"C": np.ascontiguousarray, "F": np.asfortranarray, "csr": sp.csr_matrix,
         "csc": sp.csc_matrix}[layout](X)
    weight = np.r_[np.zeros(5), np.ones(25)]
    word = "NaN" if np.isnan(bad) else "infinity"
    for sample_weight in (None, weight):
        with pytest.raises(ValueError, match=f"Input X contains {word}"):
            RegularizedGDRegressor(fit_intercept=fit_intercept).fit(
                X, y, sample_weight=sample_weight
            )
    with pytest.raises(ValueError, match=f"Input X contains {word}"):
        regularized_gd_path(X, y, n_alphas=3, fit_intercept=fit_intercept)


@pytest.mark.parametrize("positive", [False, True])
def test_working_set_scores_match_their_definition(positive):
    rng = np.random.default_rng(1)
    p = 200
    w = np.where(rng.random(p) < 0.2, rng.standard_normal(p), 0.0)
    grad = 2.0 * rng.standard_normal(p)
    grad[:3] = np.nan  # never a candidate unless its coefficient is non-zero
    w[0] = 1.0
    inverse_norms = rng.uniform(0.5, 2.0, p)
    inverse_norms[5:8] = 0.0  # zero columns
    l1_reg, l2_reg = 1.0, 0.3
    scores, candidates = working_set_scores(w, grad, inverse_norms, l1_reg, positive)
    g = grad - l2_reg * w
    expected = ((g if positive else np.abs(g)) - l1_reg) * inverse_norms
    expected[~(expected > 0)] = -np.inf
    expected[w != 0] = np.inf
    np.testing.assert_array_equal(scores, expected)
    np.testing.assert_array_equal(candidates, np.flatnonzero(expected > -np.inf))
