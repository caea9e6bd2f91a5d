"""Property-based tests (hypothesis) for every estimator of the package.

Hypothesis draws shapes (``p > n`` included), dtypes, memory layouts, sparse
formats, magnitudes, column offsets, constant and duplicated columns, sample
weights and parameters. Every fit runs in a forked worker process under a
wall-clock cap (:mod:`_time_cap`): a hang, even inside ``nogil`` compiled
code, fails the example with a description of its inputs (and the worker's
stacks) instead of freezing the suite; the worker is killed and the next fit
gets a new one. One worker serves fit after fit: a fork per fit cost more
than the fits themselves.

Properties
----------
* **Robustness** (any input): the fit ends under the cap, and either gives
  finite attributes and predictions (with ``n_iter_ <= max_iter``), or raises
  a ``ValueError``/``TypeError`` with a message; never another exception
  (``LinAlgError``, ``FloatingPointError``, ``ZeroDivisionError``, Numba
  errors...). A ``ConvergenceWarning`` is allowed.
* **Optimality** (well posed: moderate magnitudes, tight ``tol``): the
  objective, computed here in extended precision from the formula of the
  docstrings, is within ``1e-6`` (relative, ``1e-5`` for float32) of the best
  of ours and an exact reference: scikit-learn's ``ElasticNet`` / ``Ridge`` at
  ``tol=1e-12``, ``lstsq``/``nnls`` for least squares, and for the multi-task
  regressor a trace-norm proximal-gradient solver (singular value
  thresholding) written here. The references themselves are checked against
  their optimality conditions.
* **Invariance**: the same fit for every layout (C, F, strided, DataFrame,
  CSR, CSC, explicit zeros, unsorted or 64-bit indices), for ``X`` shifted by
  column offsets up to ``1e9`` times the column spread (``fit_intercept``: the
  intercept absorbs the shift), for ``X`` and ``y`` scaled by powers of two
  near the limits of floating point (``alpha`` mapped accordingly), for
  sample weights scaled by ``2**+-1000`` and for permuted rows. Data are
  dyadic (multiples of a power of two with few significant bits), so every
  transformed problem is *exactly* the same problem: only the solvers'
  accuracy, which the tolerances tie to ``tol``, may separate the fits.

Each cause of failure raises its own exception class (``Hang``,
``NonFinite``, ``Suboptimal``, ``NotInvariant``, ``InputMutated``...), so
that hypothesis shrinks and reports every cause it finds, not only the first.

Profiles and knobs (environment variables)
-----------------------------------------
``HYPOTHESIS_PROFILE=slow``
    About 11,500 examples over the module (17 minutes on two busy cores),
    with shrinking. The default profile (about 430 examples) is
    derandomised, so CI is reproducible (the examples follow from each
    test's source), and runs in about half a minute with a warm Numba cache;
    it does not shrink (see ``MTL_SHRINK``).
``MTL_SHRINK=1``
    Shrink failures in the default profile too. Off by default: the failure
    messages describe their inputs in full, and shrinking through examples
    that hang (each costs the cap) can take minutes.
``MTL_TIME_CAP``
    Per-fit cap in seconds (default 10). The parent compiles the kernels of
    every code path before forking; a signature the worker still had to
    compile is compiled in the parent afterwards (reported as a warning at
    the end of the module), and a fit killed while compiling is retried once
    with a longer cap, so compilation is never mistaken for a hang.
``MTL_FORK_EACH=1``
    A forked child per fit instead of the persistent worker (isolation from
    whatever a previous fit left in the process; about five times slower).
``MTL_PROPERTY_LOG=path``
    Survey mode: no shrinking, no stop at the first failure; one JSON line
    per example (test, status, failure kind, message, seconds) is appended
    to ``path``, for counts of failures by cause over a long run.
``MTL_EXAMPLES=n``
    Override the profile's base number of examples.
``MTL_SKIP_KINDS=InputMutated``
    Survey past a known cause (only ``InputMutated`` can be skipped).
``MTL_DEBUG_COMPILES=1``
    Print every kernel signature compiled in a child, with its inputs.
"""

import functools
import json
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass, replace

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
import scipy.sparse as sp
import scipy.special
from _time_cap import DEFAULT_CAP, CappedWorker, run_capped
from hypothesis import HealthCheck, Phase, assume, given, note, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Ridge
from sklearn.model_selection import KFold

pd = pytest.importorskip("pandas")

from sklearn_mtl import (
    MultiTaskSharedRepClassifier,
    MultiTaskSharedRepRegressor,
    RegularizedGDRegressor,
    RegularizedGDRegressorCV,
    regularized_gd_path,
)
from sklearn_mtl._solvers.quadratic import solved_directly

# --------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------

_COMMON = {
    "deadline": None,
    "database": None,
    "print_blob": True,
    "suppress_health_check": list(HealthCheck),
}
# The default (CI) profile does not shrink: every failure message already
# describes its inputs in full, and shrinking through examples that hang (each
# costs the time cap) took minutes, past the CI budget. MTL_SHRINK=1 shrinks.
_NO_SHRINK = [Phase.explicit, Phase.reuse, Phase.generate]
settings.register_profile(
    "sklearn_mtl-default",
    max_examples=30,
    derandomize=True,
    **_COMMON,
    **({} if os.environ.get("MTL_SHRINK", "") not in ("", "0") else {"phases": _NO_SHRINK}),
)
settings.register_profile("sklearn_mtl-slow", max_examples=800, **_COMMON)
_PROFILE_NAME = os.environ.get("HYPOTHESIS_PROFILE", "default")
_PROFILE = settings.get_profile(
    "sklearn_mtl-slow" if _PROFILE_NAME == "slow" else "sklearn_mtl-default"
)
# MTL_PROPERTY_LOG=path: record every example's outcome (one JSON line each)
# and keep going after failures instead of stopping at the first one (with
# no shrinking): counts of failures by cause over a long run.
_LOG = os.environ.get("MTL_PROPERTY_LOG")
# MTL_SKIP_KINDS=InputMutated: explore past a known cause (exploration only).
_SKIP_KINDS = os.environ.get("MTL_SKIP_KINDS", "")
if os.environ.get("MTL_EXAMPLES"):  # override the profile's base count
    _PROFILE = settings(_PROFILE, max_examples=int(os.environ["MTL_EXAMPLES"]))
if _LOG:
    _PROFILE = settings(_PROFILE, phases=[Phase.generate])


def profile(weight=1.0):
    """This module's profile with ``weight`` times its number of examples."""
    return settings(_PROFILE, max_examples=max(1, round(_PROFILE.max_examples * weight)))


def log_outcomes(test):
    """With ``MTL_PROPERTY_LOG``, log each example's outcome and go on after a
    failure (applied below ``@given``); else the test itself."""
    if not _LOG:
        return test

    @functools.wraps(test)
    def logged(*args, **kwargs):
        record = {"test": test.__name__, "status": "pass", "kind": "", "message": ""}
        start = time.monotonic()
        try:
            test(*args, **kwargs)
        except (pytest.fail.Exception, AssertionError) as exc:
            record["status"] = "fail"
            record["kind"] = type(exc).__name__
            record["message"] = str(exc)
        except BaseException as exc:
            if type(exc).__name__ in ("UnsatisfiedAssumption", "StopTest", "Frozen"):
                record["status"] = "rejected"
                raise
            record["status"] = "error"
            record["kind"] = type(exc).__name__
            record["message"] = f"{type(exc).__name__}: {exc}"
        finally:
            record["seconds"] = round(time.monotonic() - start, 3)
            with open(_LOG, "a") as log:
                log.write(json.dumps(record) + "\n")

    return logged


EPS64 = np.finfo(np.float64).eps
LD = np.longdouble
# Fits compared by invariance may each be this many times their promised
# suboptimality away from the optimum.
K_SAFETY = 10.0
OBJ_RTOL = {np.float64: 1e-6, np.float32: 1e-5}
# Absolute slack on objectives, relative to the null objective F0.
OBJ_ATOL = {np.float64: 1e-12, np.float32: 1e-9}
# Bits after the binary point of the dyadic data before column scaling.
GRID_BITS = 8

# --------------------------------------------------------------------------
# Outcomes of capped fits
# --------------------------------------------------------------------------

_FORBIDDEN_ERRORS = ("LinAlgError", "FloatingPointError", "ZeroDivisionError")


class PropertyFailure(AssertionError):
    """A violated property. Each cause has its own subclass, so that
    hypothesis tells the causes apart (by exception type) and shrinks and
    reports each of them, instead of only the first one found."""


class Hang(PropertyFailure):
    """The fit did not end under the time cap."""


class Crash(PropertyFailure):
    """The child process died (e.g. a segmentation fault)."""


class UnclearError(PropertyFailure):
    """An exception other than a ValueError/TypeError with a message (or any
    exception where the problem is well posed)."""


class NonFinite(PropertyFailure):
    """NaN or infinity in a fitted attribute or a prediction."""


class ContractViolation(PropertyFailure):
    """``n_iter_ > max_iter``, a wrong shape or dtype, a negative coefficient
    with ``positive=True``, probabilities not summing to one."""


class Suboptimal(PropertyFailure):
    """An objective above the best known by more than the tolerance."""


class SuboptimalLeastSquares(Suboptimal):
    """The same, for least squares (``penalty=None`` or ``alpha=0``)."""


class DishonestGap(PropertyFailure):
    """``dual_gap_`` does not bound the suboptimality, or exceeds the
    tolerance without a ConvergenceWarning."""


class NotInvariant(PropertyFailure):
    """Fits of exactly equivalent problems differ by more than ``tol`` allows."""


class InputMutated(PropertyFailure):
    """The fit modified the caller's ``X``, ``y`` or ``sample_weight``."""


def raise_failures(failures, context):
    """Raise the first failure's kind with every message and the context."""
    if failures:
        kind = failures[0][0]
        raise kind("\n".join(msg for _, msg in failures) + "\n" + context)


def check_outcome(outcome, what, *, allow_error=True):
    """Fail unless the capped fit ended, and either succeeded or raised a
    clear ValueError/TypeError (when ``allow_error``)."""
    if outcome.status == "timeout":
        raise Hang(
            f"The fit did not end within the cap ({outcome.detail}).\n{what}\n"
            # faulthandler writes the innermost frames first.
            f"Stacks of the child when it was killed:\n{outcome.stacks[:4000]}"
        )
    if outcome.status == "crashed":
        raise Crash(f"The fit crashed ({outcome.detail}).\n{what}")
    if outcome.status == "raised":
        raised = outcome.raised
        clear = (
            raised.is_a("ValueError", "TypeError")
            and not raised.is_a(*_FORBIDDEN_ERRORS)
            and not raised.module.startswith("numba")
            and raised.message.strip() != ""
        )
        if not (allow_error and clear):
            raise UnclearError(f"The fit raised {raised}\n{what}\n{raised.traceback}")
        return False
    return True


def overflowing(X, y):
    """The results whose scale exceeds float64 for these data: ``"y2"`` when
    ``y**2`` overflows (duality gaps on the objective's scale, MSEs), ``"xy"``
    when ``|X| |y|`` does (alphas: ``alpha_max ~ |X^T y| / n``). Such results
    are ``+-inf`` correctly rounded in the user's units."""

    def top(A):
        A = A.data if sp.issparse(A) else np.asarray(A, dtype=np.float64)
        A = np.abs(np.asarray(A, dtype=np.float64))
        return LD(A[np.isfinite(A)].max(initial=0.0))

    big = LD(np.finfo(np.float64).max) / 4
    y_top = top(y)
    kinds = set()
    if y_top * y_top > big:
        kinds.add("y2")
    if top(X) * y_top > big:
        kinds.add("xy")
    return kinds


# Results that may overflow (see overflowing), by what their scale is.
_OVERFLOW_KEYS = {
    "y2": ("dual_gap", "gaps", "mse_path"),
    "xy": ("alpha", "alphas"),
}


def assert_finite(values, what, overflow=()):
    """The fit left its inputs alone, and its results are finite (or +-inf
    where ``overflow``, from :func:`overflowing`, says that the exact value
    exceeds the float range; never NaN)."""
    if values.get("mutated") and "InputMutated" not in _SKIP_KINDS:
        raise InputMutated(f"The fit modified its input(s) {values['mutated']} in place\n{what}")
    excused = {key for kind in overflow for key in _OVERFLOW_KEYS[kind]}
    for name, value in values.items():
        if name == "mutated":
            continue
        if value is None:
            continue
        if name in excused:
            value = np.where(np.isinf(value), 0.0, value)
        arrays = value if isinstance(value, list) else [value]
        for array in arrays:
            array = np.asarray(array)
            if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
                raise NonFinite(f"Non-finite {name}: {np.asarray(array)!r}\n{what}")


def warned(outcome):
    return outcome.warned("ConvergenceWarning")


# --------------------------------------------------------------------------
# Data: recipes built from a seed and a few drawn options
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipe:
    """Dyadic data: every entry is ``k * 2**(e_j - GRID_BITS)`` with ``|k| <
    2**11``, ``e_j`` the column's power of two; targets have 21 significant
    bits. Exact in float32 too."""

    seed: int
    n: int
    p: int
    kind: str = "normal"  # normal, correlated, integers, binary, sparse
    density: float = 1.0
    col_log2: int = 0  # column scales 2**e_j, |e_j| <= col_log2
    n_const: int = 0
    n_dup: int = 0
    n_zero: int = 0
    n_targets: int = 0  # 0: 1-D y
    y_kind: str = "signal"  # signal, noise, exact, constant, zero
    weights: str = "none"  # none, uniform, zeros, integer, huge, tiny, spread


def build(r):
    """``(X, Y, sw, col_exp)``: X (n, p) and Y (n, max(1, T)) float64."""
    rng = np.random.default_rng(r.seed)
    n, p = r.n, r.p
    if r.kind == "integers":
        Z = rng.integers(-3, 4, (n, p)).astype(np.float64)
    elif r.kind == "binary":
        Z = rng.integers(0, 2, (n, p)).astype(np.float64)
    else:
        Z = rng.standard_normal((n, p))
        if r.kind == "correlated" and p > 1:
            Z[:, 1:] = 0.3 * Z[:, 1:] + 0.95 * Z[:, :-1]
        if r.kind == "sparse":
            Z[rng.random((n, p)) >= r.density] = 0.0
    Z = np.clip(Z, -7.9, 7.9)
    X = np.round(Z * 2**GRID_BITS) / 2**GRID_BITS
    order = list(rng.permutation(p))
    for _ in range(min(r.n_const, len(order))):
        X[:, order.pop()] = np.round(rng.normal(0, 3) * 2**GRID_BITS) / 2**GRID_BITS
    for _ in range(min(r.n_zero, len(order))):
        X[:, order.pop()] = 0.0
    for _ in range(min(r.n_dup, len(order))):
        X[:, order.pop()] = X[:, rng.integers(p)]
    col_exp = rng.integers(-r.col_log2, r.col_log2 + 1, p) if r.col_log2 else np.zeros(p, dtype=int)
    T = max(1, r.n_targets)
    W = rng.standard_normal((p, T)) * (rng.random((p, T)) < 0.6)
    signal = X @ W
    noise = rng.standard_normal((n, T))
    if r.y_kind == "signal":
        Y = signal + 0.3 * noise * (signal.std() + 1.0) + rng.normal(0, 5, T)
    elif r.y_kind == "noise":
        Y = noise * 3.0
    elif r.y_kind == "exact":
        Y = signal
    elif r.y_kind == "constant":
        Y = np.ones((n, T)) * rng.normal(0, 5, T)
    else:
        Y = np.zeros((n, T))
    X = X * np.exp2(col_exp)
    Y = dyadic(Y, 21)
    sw = weights(rng, r.weights, n)
    return X, Y, sw, col_exp


def dyadic(A, bits):
    """``A`` rounded to ``bits`` significant bits relative to its largest entry."""
    top = np.abs(A).max(initial=0.0)
    if top == 0:
        return A.copy()
    q = bits - math.ceil(math.log2(top))
    return np.round(A * 2.0**q) / 2.0**q


def weights(rng, kind, n):
    if kind == "none":
        return None
    if kind == "wild":
        # Magnitudes over 600 decades: the small ones vanish in the rescaling.
        return 10.0 ** rng.uniform(-300, 300, n)
    base = rng.integers(1, 17, n) / 8.0
    if kind == "zeros":
        base[rng.random(n) < 0.3] = 0.0
    elif kind == "integer":
        base = rng.integers(0, 4, n).astype(np.float64)
    elif kind == "huge":
        base = base * 2.0**1000
    elif kind == "tiny":
        base = base * 2.0**-1000
    elif kind == "spread":
        base = np.exp2(rng.integers(-40, 41, n).astype(np.float64))
    if not base.max() > 0:
        base[rng.integers(n)] = 1.0
    return base


def rescale(sw, n):
    """Weights rescaled to sum to ``n`` (float64; none: all ones)."""
    if sw is None:
        return np.ones(n)
    sw = np.asarray(sw, dtype=np.float64)
    sw = sw / sw.max()
    return sw * (n / sw.sum())


LAYOUTS = [
    "C",
    "F",
    "strided",
    "dataframe",
    "csr",
    "csc",
    "csr_explicit_zeros",
    "csc_explicit_zeros",
    "csr_unsorted_int64",
]
DENSE_LAYOUTS = ["C", "F", "strided", "dataframe"]


def to_layout(X, layout, seed=0):
    """``X`` (dense ndarray) in the given memory layout or sparse format."""
    rng = np.random.default_rng(seed)
    n, p = X.shape
    if layout == "C":
        return np.ascontiguousarray(X)
    if layout == "F":
        return np.asfortranarray(X)
    if layout == "strided":
        big = np.full((2 * n, 3 * p), np.nan, dtype=X.dtype)
        big[1::2, 2::3] = X
        return big[1::2, 2::3]
    if layout == "dataframe":
        return pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    if layout in ("csr", "csc"):
        return sp.csr_matrix(X) if layout == "csr" else sp.csc_matrix(X)
    if layout in ("csr_explicit_zeros", "csc_explicit_zeros"):
        stored = (X != 0) | (rng.random(X.shape) < 0.5)
        rows, cols = np.nonzero(stored)
        fmt = sp.csr_matrix if layout.startswith("csr") else sp.csc_matrix
        return fmt((X[rows, cols], (rows, cols)), shape=X.shape, dtype=X.dtype)
    if layout == "csr_unsorted_int64":
        A = sp.csr_matrix(X)
        indices = A.indices.copy()
        data = A.data.copy()
        for i in range(n):
            lo, hi = A.indptr[i], A.indptr[i + 1]
            perm = lo + rng.permutation(hi - lo)
            indices[lo:hi], data[lo:hi] = indices[perm], data[perm]
        B = sp.csr_matrix(
            (data, indices.astype(np.int64), A.indptr.astype(np.int64)), shape=X.shape
        )
        B.has_sorted_indices = False
        return B
    raise AssertionError(layout)


def exact_shift(A, c, dtype):
    """``A + c`` in ``dtype`` if exact, else None."""
    S = (A.astype(dtype) + np.asarray(c, dtype=dtype)).astype(dtype)
    ok = np.array_equal(
        S.astype(LD), A.astype(dtype).astype(LD) + np.asarray(c, dtype=dtype).astype(LD)
    )
    return S if ok else None


def column_offsets(rng, col_exp, log2_ratio, p, share=1.0):
    """Dyadic offsets ``~ 2**log2_ratio`` times each column's spread."""
    k = np.round(
        rng.choice([-1.0, 1.0], p) * rng.uniform(0.5, 1.0, p) * 2.0 ** (log2_ratio + GRID_BITS)
    )
    k[rng.random(p) >= share] = 0.0
    return k * np.exp2(col_exp.astype(np.float64) - GRID_BITS)


# --------------------------------------------------------------------------
# Objectives, dual bounds and exact references (float64 / extended precision)
# --------------------------------------------------------------------------


def centred(X, s, fit_intercept):
    """Extended-precision weighted column means and centred ``X``."""
    Xl = np.asarray(X, dtype=LD)
    sl = np.asarray(s, dtype=LD)
    if not fit_intercept:
        return np.zeros(Xl.shape[1], dtype=LD), Xl
    mean = (sl @ Xl) / sl.sum()
    return mean, Xl - mean


def null_objective(y, s, fit_intercept):
    """``F0``: the objective at ``w = 0`` with the best intercept."""
    yl = np.asarray(y, dtype=LD)
    sl = np.asarray(s, dtype=LD)
    if fit_intercept:
        yl = yl - (sl @ yl) / sl.sum()
    return float(0.5 * (sl @ (yl * yl)) / len(yl))


def centred_predictions(X, y, s, w, b, fit_intercept):
    """``X w + b - mean(y)``, accurate for large column means (extended)."""
    mean, Xc = centred(X, s, fit_intercept)
    yl = np.asarray(y, dtype=LD)
    sl = np.asarray(s, dtype=LD)
    ybar = (sl @ yl) / sl.sum() if fit_intercept else LD(0)
    wl = np.asarray(w, dtype=np.float64).astype(LD)
    shift = LD(float(b)) - ybar + mean @ wl
    return Xc @ wl + shift, yl - ybar


def enet_objective(X, y, s, w, b, alpha, l1_ratio, fit_intercept):
    """sklearn ElasticNet's objective at ``(w, b)``, weights ``s`` summing to n.

    ``1/(2n) sum s_i (y_i - x_i w - b)^2 + alpha l1 |w|_1 + alpha (1-l1)/2 |w|^2``,
    evaluated in extended precision around the weighted means, so that large
    column means cancel nothing.
    """
    pred, yc = centred_predictions(X, y, s, w, b, fit_intercept)
    r = yc - pred
    sl = np.asarray(s, dtype=LD)
    wl = np.asarray(w, dtype=np.float64).astype(LD)
    value = 0.5 * (sl @ (r * r)) / len(r)
    value += LD(alpha * l1_ratio) * np.abs(wl).sum()
    value += LD(0.5 * alpha * (1 - l1_ratio)) * (wl @ wl)
    return float(value)


def enet_dual(X, y, s, w, alpha, l1_ratio, positive, fit_intercept):
    """A lower bound on the minimum of :func:`enet_objective` (Fenchel dual at
    the residual of ``w``, made feasible); ``-inf`` without a penalty."""
    n = len(y)
    lam1, lam2 = n * alpha * l1_ratio, n * alpha * (1 - l1_ratio)
    if lam1 == 0 and lam2 == 0:
        return -np.inf
    _, Xc = centred(X, s, fit_intercept)
    sl = np.asarray(s, dtype=LD)
    yl = np.asarray(y, dtype=LD)
    if fit_intercept:
        yl = yl - (sl @ yl) / sl.sum()
    root = np.sqrt(sl)
    A = Xc * root[:, None]
    yh = yl * root
    r = yh - A @ np.asarray(w, dtype=np.float64).astype(LD)
    corr = A.T @ r
    corr = np.maximum(corr, 0) if positive else np.abs(corr)
    if lam2 > 0:
        excess = np.maximum(corr - LD(lam1), 0)
        dual = r @ yh - 0.5 * (r @ r) - 0.5 * (excess @ excess) / LD(lam2)
    else:
        top = corr.max(initial=LD(0))
        kappa = LD(1) if top <= lam1 else LD(lam1) / top
        dual = kappa * (r @ yh) - 0.5 * kappa * kappa * (r @ r)
    return float(dual / n)


def weighted_design(X, y, s, fit_intercept):
    """float64 ``A = sqrt(s) (X - m)``, ``yc``, means (for direct solvers)."""
    Xd = np.asarray(X, dtype=np.float64)
    yd = np.asarray(y, dtype=np.float64)
    if fit_intercept:
        m = (s @ Xd) / s.sum()
        # A constant y is its own mean: its centred values are exactly zero
        # (the weighted sum would leave rounding noise, whose relative
        # residual is of order one).
        ym = yd[0] if yd.size and np.all(yd == yd[0]) else (s @ yd) / s.sum()
    else:
        m, ym = np.zeros(Xd.shape[1]), 0.0
    root = np.sqrt(s)
    return (Xd - m) * root[:, None], (yd - ym) * root, m, ym


def exact_quadratic(X, y, s, alpha, fit_intercept, positive):
    """Ridge (``alpha > 0``) or least squares by a direct solver: lstsq on the
    augmented system, or NNLS when ``positive``. Returns ``(w, b)``."""
    A, yc, m, ym = weighted_design(X, y, s, fit_intercept)
    n, p = A.shape
    if alpha > 0:
        A = np.vstack([A, np.sqrt(n * alpha) * np.eye(p)])
        yc = np.concatenate([yc, np.zeros(p)])
    if positive:
        w = scipy.optimize.nnls(A, yc, maxiter=50 * max(p, 1))[0]
    else:
        w = scipy.linalg.lstsq(A, yc, lapack_driver="gelsd")[0]
    return w, ym - m @ w


def sklearn_reference(X, y, s, alpha, l1_ratio, fit_intercept, positive):
    """sklearn's solution of the same problem at a tight tolerance, ``(w, b)``."""
    if alpha == 0:
        return exact_quadratic(X, y, s, 0.0, fit_intercept, positive)
    if l1_ratio == 0 and not positive:
        n = len(y)
        ref = Ridge(alpha=alpha * n, fit_intercept=fit_intercept, solver="svd")
    elif l1_ratio == 0:
        return exact_quadratic(X, y, s, alpha, fit_intercept, positive)
    else:
        ref = ElasticNet(
            alpha=alpha,
            l1_ratio=l1_ratio,
            fit_intercept=fit_intercept,
            positive=positive,
            tol=1e-12,
            max_iter=100_000,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref.fit(np.asarray(X, dtype=np.float64), y, sample_weight=s)
    return np.ravel(ref.coef_), float(ref.intercept_)


def strong_convexity(X, s, alpha, l1_ratio, fit_intercept):
    """A lower bound on the curvature of the objective in ``w``."""
    A, _, _, _ = weighted_design(X, np.zeros(len(s)), s, fit_intercept)
    n, p = A.shape
    if p == 0:
        return np.inf
    eig = np.linalg.eigvalsh(A.T @ A / n)
    lam_min = max(eig[0] - 1e-9 * max(eig[-1], 0.0), 0.0)
    return alpha * (1 - l1_ratio) + lam_min


def promised_gap(tol, y, s, fit_intercept):
    """A floor for the suboptimality bounds of the invariance test:
    ``1e-3 tol ||y_c||^2 / n`` (the solver aims at ``1e-6`` of that and
    promises ``tol``; each fit is bounded by its reported gap, this only
    keeps rounding in the gaps from making the bound vanish), never below
    rounding (``10 eps``)."""
    return max(1e-3 * tol, 10 * EPS64) * 2 * null_objective(y, s, fit_intercept)


def rank_cutoff_excess(X, y, s, fit_intercept, F_best, factor=10.0):
    """How far above ``F_best`` least squares may end by its documented rank
    cutoff.

    Least squares on dense ``X`` is solved "as LinearRegression does": the
    minimum-norm solution with singular values below ``eps * max(n, p)``
    (relative) treated as zero. On a numerically rank-deficient design
    (large column offsets without an intercept, column scales far apart)
    dropping them raises the objective well above the exact optimum. The
    allowance is the objective of the truncated solution at ``factor`` times
    that cutoff (rounding decides on which side of the cutoff a singular
    value falls; dropping more only raises the objective).
    """
    A, yc, m, ym = weighted_design(X, y, s, fit_intercept)
    if A.size == 0:
        return 0.0
    cond = factor * EPS64 * max(A.shape)
    w = scipy.linalg.lstsq(A, yc, cond=cond, lapack_driver="gelsd")[0]
    F = enet_objective(X, y, s, w, ym - m @ w, 0.0, 0.0, fit_intercept)
    return max(F - F_best, 0.0)


def lsqr_measure(X, y, s, w, fit_intercept):
    """LSQR's relative residual at ``w`` (the smaller of the system's and the
    normal equations'), with the Frobenius norm of ``A`` (LSQR's estimate of
    it is no larger, so this measure is no larger than LSQR's own)."""
    A, yc, _, _ = weighted_design(X, y, s, fit_intercept)
    w = np.asarray(w, dtype=np.float64)
    r = yc - A @ w
    norm_a, norm_r = float(np.linalg.norm(A)), float(np.linalg.norm(r))
    tiny = np.finfo(np.float64).tiny
    system = norm_r / max(norm_a * float(np.linalg.norm(w)) + float(np.linalg.norm(yc)), tiny)
    normal = float(np.linalg.norm(A.T @ r)) / max(norm_a * norm_r, tiny)
    return min(system, normal)


def lsqr_allowance(X, y, s, w, fit_intercept, measure):
    """The suboptimality that LSQR's relative residual ``measure`` allows.

    For least squares on sparse ``X`` the documented promise is not a duality
    gap but LSQR's relative residual (below ``tol`` unless a
    ConvergenceWarning): of the system, ``||r|| <= measure (||A|| ||w|| +
    ||y_c||)``, or of the normal equations, ``||A^T r|| <= measure ||A||
    ||r||``. Either bounds ``F - min F``: the first by ``F`` itself, the
    second by ``||A^T r||^2 / (2 n sigma_min^2)`` (``sigma_min`` the smallest
    non-zero singular value of ``A``). The larger of the two is allowed (the
    solver may have stopped on either test).
    """
    A, yc, _, _ = weighted_design(X, y, s, fit_intercept)
    n = len(yc)
    w = np.asarray(w, dtype=np.float64)
    r = yc - A @ w
    norm_a = float(np.linalg.norm(A))
    by_system = 0.5 * (measure * (norm_a * np.linalg.norm(w) + np.linalg.norm(yc))) ** 2
    sig = np.linalg.svd(A, compute_uv=False) if A.size else np.zeros(0)
    sig = sig[sig > EPS64 * max(A.shape) * sig.max(initial=0.0)]
    if sig.size:
        by_normal = (measure * norm_a / sig.min()) ** 2 * 0.5 * float(r @ r)
    else:
        by_normal = 0.0
    return max(by_system, by_normal) / n


# ---- trace norm (multi-task regressor with l1_ratio=0) ----------------------


@dataclass
class TraceProblem:
    """Per-task centred quadratics of the multi-task least squares.

    ``f(W) = sum_t 1/2 w_t G_t w_t - c_t w_t + yy_t / 2``, the weighted loss
    ``1/(2n) sum_(i,t) observed s_i (y_it - x_i w_t - b_t)^2`` with each
    intercept at its optimum (task ``t`` centred on its observed samples).
    """

    G: np.ndarray  # (T, p, p)
    c: np.ndarray  # (p, T)
    yy: np.ndarray  # (T,)
    x_mean: np.ndarray  # (T, p)
    y_mean: np.ndarray  # (T,)

    @classmethod
    def from_data(cls, X, Y, s, fit_intercept):
        X = np.asarray(X, dtype=np.float64)
        n, p = X.shape
        T = Y.shape[1]
        G = np.empty((T, p, p))
        c = np.empty((p, T))
        yy = np.empty(T)
        xm = np.zeros((T, p))
        ym = np.zeros(T)
        for t in range(T):
            obs = ~np.isnan(Y[:, t])
            wt = np.where(obs, s, 0.0)
            yt = np.where(obs, Y[:, t], 0.0)
            if fit_intercept:
                xm[t] = wt @ X / wt.sum()
                ym[t] = wt @ yt / wt.sum()
            Xc = X - xm[t]
            yc = np.where(obs, yt - ym[t], 0.0)
            G[t] = Xc.T @ (wt[:, None] * Xc) / n
            c[:, t] = Xc.T @ (wt * yc) / n
            yy[t] = wt @ (yc * yc) / n
        return cls(G, c, yy, xm, ym)

    def grad(self, W):
        return np.einsum("tij,jt->it", self.G, W) - self.c

    def loss(self, W):
        quad = np.einsum("it,tij,jt->", W, self.G, W)
        return 0.5 * quad - float(np.sum(self.c * W)) + 0.5 * self.yy.sum()

    def objective(self, W, alpha):
        return self.loss(W) + alpha * nuclear_norm(W)

    def dual(self, W, alpha):
        """Dual value at the residual of ``W`` scaled into the feasible set
        ``||X_c^T S r||_op <= n alpha``: a lower bound on the minimum."""
        g = self.grad(W)
        top = np.linalg.norm(g, 2) if g.size else 0.0
        kappa = 1.0 if top <= alpha else alpha / top
        r_dot_y = self.yy.sum() - float(np.sum(self.c * W))
        r_norm2 = 2 * self.loss(W)
        return kappa * r_dot_y - 0.5 * kappa * kappa * r_norm2

    def intercepts(self, W):
        return self.y_mean - np.einsum("tp,pt->t", self.x_mean, W)


def nuclear_norm(W):
    return float(np.linalg.svd(W, compute_uv=False).sum()) if W.size else 0.0


def svt(Z, threshold):
    U, sig, Vt = np.linalg.svd(Z, full_matrices=False)
    return (U * np.maximum(sig - threshold, 0.0)) @ Vt


def trace_norm_reference(prob, alpha, *, rtol=1e-12, max_iter=50_000, budget=3.0):
    """Accelerated proximal gradient with singular value thresholding and
    gradient-based restart, until the duality gap is below ``rtol`` times the
    null loss (or the iteration / time budget ends). Returns ``(W, gap)``."""
    p, T = prob.c.shape
    L = max(float(np.linalg.eigvalsh(G)[-1]) for G in prob.G) if p else 0.0
    W = np.zeros((p, T))
    if L <= 0:
        return W, 0.0
    scale = max(0.5 * prob.yy.sum(), np.finfo(float).tiny)
    Y = W.copy()
    t = 1.0
    start = time.monotonic()
    gap = np.inf
    for it in range(max_iter):
        W_new = svt(Y - prob.grad(Y) / L, alpha / L)
        if np.sum((Y - W_new) * (W_new - W)) > 0:  # restart
            t = 1.0
            Y = W
            W_new = svt(Y - prob.grad(Y) / L, alpha / L)
        t_new = 0.5 * (1 + math.sqrt(1 + 4 * t * t))
        Y = W_new + ((t - 1) / t_new) * (W_new - W)
        W, t = W_new, t_new
        if it % 20 == 0:
            gap = prob.objective(W, alpha) - prob.dual(W, alpha)
            if gap <= rtol * scale or time.monotonic() - start > budget:
                break
    gap = prob.objective(W, alpha) - prob.dual(W, alpha)
    return W, gap


def multitask_objective(X, Y, s, W, b, U, V, alpha, l1_ratio):
    """The multi-task regressor's objective at factors ``(U, V)``, ``W = U V``
    (``(p, T)``) and intercepts ``b``; extended precision, observed entries
    only, around each task's weighted means."""
    n = X.shape[0]
    total = LD(0)
    sl = np.asarray(s, dtype=LD)
    Xl = np.asarray(X, dtype=LD)
    for t in range(Y.shape[1]):
        obs = ~np.isnan(Y[:, t])
        wt = np.where(obs, sl, LD(0))
        m = (wt @ Xl) / wt.sum() if wt.sum() > 0 else np.zeros(X.shape[1], LD)
        yt = np.where(obs, Y[:, t], 0.0).astype(LD)
        ym = (wt @ yt) / wt.sum() if wt.sum() > 0 else LD(0)
        w = np.asarray(W[:, t], dtype=np.float64).astype(LD)
        shift = LD(float(b[t])) - ym + m @ w
        r = (yt - ym) - (Xl - m) @ w - shift
        total += 0.5 * (wt @ (r * r)) / n
    Ul = np.asarray(U, dtype=np.float64)
    Vl = np.asarray(V, dtype=np.float64)
    pen = 0.5 * alpha * (1 - l1_ratio) * (np.vdot(Ul, Ul) + np.vdot(Vl, Vl))
    pen += alpha * l1_ratio * np.abs(Ul).sum()
    return float(total) + float(pen)


# ---- classifier --------------------------------------------------------------


def classifier_objective(X, Y, s, coefs, intercepts, classes, alpha):
    """Cross-entropy (``1/n sum s_i CE``) plus ``alpha ||W||_*`` (the balanced
    factor penalty of an ``l1_ratio=0`` fit), ``W`` the stacked heads."""
    n = X.shape[0]
    Xd = np.asarray(X, dtype=np.float64)
    total = 0.0
    for t, (coef, b, cls) in enumerate(zip(coefs, intercepts, classes)):
        labels = Y[:, t]
        obs = ~np.isnan(labels)
        S = Xd[obs] @ np.asarray(coef, np.float64).T + np.asarray(b, np.float64)
        idx = np.searchsorted(np.asarray(cls, dtype=np.float64), labels[obs])
        if coef.shape[0] == 1:
            z = S[:, 0]
            # -log sigma(+-z)
            sign = np.where(idx == 1, 1.0, -1.0)
            ce = np.logaddexp(0.0, -sign * z)
        else:
            ce = scipy.special.logsumexp(S, axis=1) - S[np.arange(len(idx)), idx]
        total += float(s[obs] @ ce) / n
    W = np.vstack([np.asarray(c, np.float64) for c in coefs])
    return total + alpha * nuclear_norm(W)


# --------------------------------------------------------------------------
# Fits run in the child (return plain arrays)
# --------------------------------------------------------------------------


def _snapshot(value):
    """A deep copy of an input, to tell later whether it was modified."""
    if value is None:
        return None
    if sp.issparse(value):
        # By value: putting the caller's indices in canonical order in place
        # (as scipy's own methods do) is not counted as a modification.
        return (value.format, value.toarray(), value.dtype.name)
    if hasattr(value, "to_numpy"):
        return ("frame", value.to_numpy(copy=True))
    return ("array", np.array(value, copy=True))


def _same(a, b):
    if a is None or b is None:
        return a is b
    if a[0] != b[0] or len(a) != len(b):
        return False
    for x, y in zip(a[1:], b[1:]):
        if isinstance(x, np.ndarray):
            if x.shape != y.shape or x.dtype != y.dtype:
                return False
            if x.dtype.kind == "f":
                if not np.array_equal(x, y, equal_nan=True):
                    return False
            elif not np.array_equal(x, y):
                return False
        elif x != y:
            return False
    return True


def unmodified(fit):
    """Wrap a child-side fit: record which of ``X``, ``y``, ``sample_weight``
    the fit modified in place (``"mutated"`` in the result)."""

    @functools.wraps(fit)
    def wrapper(params, X, y, sw, *rest):
        before = [_snapshot(v) for v in (X, y, sw)]
        result = fit(params, X, y, sw, *rest)
        after = [_snapshot(v) for v in (X, y, sw)]
        result["mutated"] = [
            name
            for name, a, b in zip(("X", "y", "sample_weight"), before, after)
            if not _same(a, b)
        ]
        return result

    return wrapper


@unmodified
def _fit_linear(params, X, y, sw, refit=None):
    reg = RegularizedGDRegressor(**params)
    reg.fit(X, y, sample_weight=sw)
    if refit:  # a warm-started second fit
        reg.set_params(**refit).fit(X, y, sample_weight=sw)
    return {
        "coef": np.asarray(reg.coef_),
        "coef_dtype": np.asarray(reg.coef_).dtype.name,
        "intercept": np.asarray(reg.intercept_, dtype=np.float64),
        "n_iter": np.asarray(reg.n_iter_),
        "dual_gap": np.asarray(reg.dual_gap_, dtype=np.float64),
        "pred": np.asarray(reg.predict(X)),
    }


@unmodified
def _fit_cv(params, X, y, sw):
    reg = RegularizedGDRegressorCV(**params).fit(X, y, sample_weight=sw)
    return {
        "coef": np.asarray(reg.coef_),
        "intercept": np.asarray(reg.intercept_, dtype=np.float64),
        "alpha": float(reg.alpha_),
        "l1_ratio": float(reg.l1_ratio_),
        "mse_path": np.asarray(reg.mse_path_),
        "n_iter": np.asarray(reg.n_iter_),
        "dual_gap": np.asarray(reg.dual_gap_, dtype=np.float64),
        "pred": np.asarray(reg.predict(X)),
    }


@unmodified
def _fit_path(params, X, y, sw):
    alphas, coefs, gaps, n_iters = regularized_gd_path(
        X, y, sample_weight=sw, return_n_iter=True, **params
    )
    return {
        "alphas": np.asarray(alphas),
        "coefs": np.asarray(coefs),
        "gaps": np.asarray(gaps),
        "n_iters": np.asarray(n_iters),
    }


@unmodified
def _fit_shared(params, X, Y, sw, refit=None):
    reg = MultiTaskSharedRepRegressor(**params)
    reg.fit(X, Y, sample_weight=sw)
    if refit:
        reg.set_params(**refit).fit(X, Y, sample_weight=sw)
    return {
        "coef": np.asarray(reg.coef_, dtype=np.float64),
        "intercept": np.asarray(reg.intercept_, dtype=np.float64),
        "components": np.asarray(reg.components_, dtype=np.float64),
        "heads": np.asarray(reg.heads_, dtype=np.float64),
        "n_iter": np.asarray(reg.n_iter_),
        "pred": np.asarray(reg.predict(X), dtype=np.float64),
        "Z": np.asarray(reg.transform(X), dtype=np.float64),
    }


@unmodified
def _fit_classifier(params, X, Y, sw, refit=None):
    clf = MultiTaskSharedRepClassifier(**params)
    clf.fit(X, Y, sample_weight=sw)
    if refit:
        clf.set_params(**refit).fit(X, Y, sample_weight=sw)
    single = np.ndim(Y) == 1 or np.shape(Y)[1] == 1  # (n, 1) is raveled
    coefs = [clf.coef_] if single else list(clf.coef_)
    intercepts = [clf.intercept_] if single else list(clf.intercept_)
    classes = [clf.classes_] if single else list(clf.classes_)
    proba = clf.predict_proba(X)
    proba = [proba] if single else list(proba)
    return {
        "coef": [np.asarray(c, dtype=np.float64) for c in coefs],
        "intercept": [np.asarray(b, dtype=np.float64) for b in intercepts],
        "classes": [np.asarray(c) for c in classes],
        "components": np.asarray(clf.components_, dtype=np.float64),
        "n_iter": np.asarray(clf.n_iter_),
        "proba": [np.asarray(q, dtype=np.float64) for q in proba],
        "pred": np.asarray(clf.predict(X), dtype=object),
    }


# --------------------------------------------------------------------------
# Warm-up: compile (or load) every kernel in the parent before any fork
# --------------------------------------------------------------------------


_DISPATCHERS = {}  # the modules scanned -> {name: dispatcher}


def numba_dispatchers():
    """``{name: dispatcher}`` of every Numba function of the package."""
    from numba.core.registry import CPUDispatcher

    key = tuple(sorted(name for name in sys.modules if name.startswith("sklearn_mtl")))
    if key in _DISPATCHERS:
        return _DISPATCHERS[key]
    found = _DISPATCHERS.setdefault(key, {})
    seen = set()
    for name, module in sorted(sys.modules.items()):
        if not name.startswith("sklearn_mtl") or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if isinstance(value, CPUDispatcher) and id(value) not in seen:
                seen.add(id(value))
                found[f"{name}.{attr}"] = value
    return found


# Signatures that children had to compile (or load) although the parent had
# not: the parent compiles them afterwards, so that it happens once.
CHILD_COMPILED = []
# MTL_FORK_EACH=1: one forked child per fit (full isolation, much slower)
# instead of the persistent worker.
_FORK_EACH = os.environ.get("MTL_FORK_EACH", "") not in ("", "0")
# In the worker: the number of signatures of each kernel already reported.
_SEEN_SIGNATURES = {}


def _reset_seen():
    """Runs in each new worker: what it inherited is not news."""
    _SEEN_SIGNATURES.clear()
    for name, d in numba_dispatchers().items():
        _SEEN_SIGNATURES[name] = len(d.signatures)


def _new_signatures():
    """Runs in the worker after each call: the signatures it compiled since."""
    new = []
    for name, d in numba_dispatchers().items():
        new += [(name, sig) for sig in d.signatures[_SEEN_SIGNATURES.get(name, 0) :]]
        _SEEN_SIGNATURES[name] = len(d.signatures)
    return new


_WORKER = CappedWorker(on_start=_reset_seen)


def _run(func, *args, cap=None):
    if not _FORK_EACH:
        return _WORKER.call(func, *args, cap=cap, child_report=_new_signatures)
    before = {name: len(d.signatures) for name, d in numba_dispatchers().items()}

    def report():
        new = []
        for name, d in numba_dispatchers().items():
            new += [(name, sig) for sig in d.signatures[before.get(name, 0) :]]
        return new

    return run_capped(func, *args, cap=cap, child_report=report)


def capped(func, *args, what=""):
    """The capped call (in the worker, or a child per call with
    ``MTL_FORK_EACH=1``) plus the bookkeeping of kernels compiled there.

    A call killed while compiling (the warm-up missed a signature and the
    on-disk cache was stale, e.g. because the sources changed) is not a hang:
    the call is retried once with a longer cap.
    """
    out = _run(func, *args)
    if out.status == "timeout" and out.compiling:
        CHILD_COMPILED.append(("killed while compiling", what))
        out = _run(func, *args, cap=6 * DEFAULT_CAP)
    if out.report:
        dispatchers = numba_dispatchers()
        for name, sig in out.report:
            CHILD_COMPILED.append((name, sig))
            if os.environ.get("MTL_DEBUG_COMPILES"):
                print(f"\ncompiled in child: {name} {sig}\n{what}", file=sys.__stderr__)
            try:
                dispatchers[name].compile(sig)
            except Exception as exc:  # noqa: BLE001 - an optimisation only
                CHILD_COMPILED.append(("parent could not compile", name, repr(exc)))
    return out


def warm_kernels():
    """Compile (or load from the cache) the kernels of every code path in
    this process, so that forked children never compile."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 5))
    y = X @ rng.standard_normal(5) + 1.0
    Y = np.column_stack([y, -y + rng.standard_normal(12), y * 0.5])
    Ymiss = Y.copy()
    Ymiss[::4, 1] = np.nan
    sw = rng.uniform(0.5, 2.0, 12)
    labels = np.column_stack([y > 1, (y > 0).astype(float) + (y > 2)]).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dtype in (np.float64, np.float32):
            # Large column means, a constant column, tiny magnitudes: the
            # designs that centre explicitly or rescale.
            X_offset = X + 1e3
            X_offset[:, 0] = 2.0
            # A single row is C- and F-contiguous at once: typed as "C".
            for layout in DENSE_LAYOUTS:
                for fit_intercept in (False, True):
                    for penalty in ("l1", "l2", None):
                        RegularizedGDRegressor(
                            penalty, alpha=0.01, fit_intercept=fit_intercept
                        ).fit(to_layout(X[:1].astype(dtype), layout), y[:1])
            for layout in DENSE_LAYOUTS:
                for data in (X_offset, X * 1e-160):
                    Xo = to_layout(data.astype(dtype), layout)
                    for weight in (None, sw):
                        for penalty in ("l1", "l2", None):
                            RegularizedGDRegressor(penalty, alpha=0.01).fit(
                                Xo, y, sample_weight=weight
                            )
            for other in ("strided", "dataframe", "csr_unsorted_int64"):
                Xo = to_layout(X.astype(dtype), other)
                for weight in (None, sw):
                    for penalty in ("l1", "l2", None):
                        RegularizedGDRegressor(penalty, alpha=0.01).fit(Xo, y, sample_weight=weight)
                    MultiTaskSharedRepRegressor(alpha=0.1, max_iter=5).fit(
                        Xo, Ymiss, sample_weight=weight
                    )
                    MultiTaskSharedRepClassifier(max_iter=5).fit(Xo, labels, sample_weight=weight)
            for layout in ("C", "F", "csr", "csc"):
                Xl = to_layout(X.astype(dtype), layout)
                for weight in (None, sw):
                    for penalty in ("l1", "l2", "elasticnet", None):
                        for positive in (False, True):
                            if positive and penalty is None and layout != "C":
                                continue
                            RegularizedGDRegressor(penalty, alpha=0.01, positive=positive).fit(
                                Xl, y, sample_weight=weight
                            )
                    regularized_gd_path(Xl, y, n_alphas=3, sample_weight=weight)
                    RegularizedGDRegressorCV(alphas=3, cv=2).fit(Xl, y, sample_weight=weight)
                    for target in (Y, Ymiss):
                        for l1_ratio in (0.0, 0.5):
                            MultiTaskSharedRepRegressor(
                                alpha=0.1, l1_ratio=l1_ratio, max_iter=20
                            ).fit(Xl, target, sample_weight=weight)
                    for l1_ratio in (0.0, 0.5):
                        MultiTaskSharedRepClassifier(l1_ratio=l1_ratio, max_iter=20).fit(
                            Xl, labels, sample_weight=weight
                        )
                    # Converged fits: the Newton polish after L-BFGS and
                    # FISTA's Lipschitz estimate (Hessian products).
                    for solver in ("lbfgs", "fista"):
                        MultiTaskSharedRepClassifier(
                            alpha=0.05,
                            l1_ratio=0.0,
                            solver=solver,
                            tol=1e-9,
                            max_iter=500,
                        ).fit(Xl, labels[:, 0], sample_weight=weight)


@pytest.fixture(scope="module", autouse=True)
def _warm_kernels():
    warm_kernels()
    try:
        yield
    finally:
        _WORKER.stop()  # no process outlives the module
    if CHILD_COMPILED:
        # Not a failure: a hint that warm_kernels() misses a code path.
        warnings.warn(
            f"{len(CHILD_COMPILED)} kernel signature(s) were compiled in forked "
            f"children, not in the warm-up: {CHILD_COMPILED[:5]}",
            stacklevel=1,
        )


# --------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------

seeds = st.integers(0, 2**32 - 1)


@st.composite
def recipes(draw, *, min_n=1, max_n=60, max_p=40, targets=True, y_kinds=None, weight_kinds=None):
    n = draw(st.integers(min_n, max_n))
    if draw(st.booleans()) and n < max_p:
        p = draw(st.integers(n + 1, max_p))  # more features than samples
    else:
        p = draw(st.integers(1, max_p))
    kind = draw(st.sampled_from(["normal", "correlated", "integers", "binary", "sparse"]))
    density = draw(st.sampled_from([0.05, 0.3, 0.7])) if kind == "sparse" else 1.0
    return Recipe(
        seed=draw(seeds),
        n=n,
        p=p,
        kind=kind,
        density=density,
        col_log2=draw(st.sampled_from([0, 0, 3, 12])),
        n_const=draw(st.integers(0, 2)),
        n_dup=draw(st.integers(0, 2)),
        n_zero=draw(st.integers(0, 1)),
        n_targets=draw(st.sampled_from([0, 0, 0, 1, 2, 3])) if targets else 0,
        y_kind=draw(
            st.sampled_from(y_kinds or ["signal", "signal", "noise", "exact", "constant", "zero"])
        ),
        weights=draw(
            st.sampled_from(
                weight_kinds
                or [
                    "none",
                    "none",
                    "uniform",
                    "zeros",
                    "integer",
                    "huge",
                    "tiny",
                    "spread",
                ]
            )
        ),
    )


magnitudes64 = st.one_of(
    st.just(0.0),
    st.floats(-3, 3),
    st.floats(100, 300),
    st.floats(-300, -100),
    st.sampled_from([305.0, 307.0, -305.0, -310.0, -320.0]),
)
magnitudes32 = st.one_of(
    st.just(0.0),
    st.floats(-3, 3),
    st.floats(10, 36),
    st.floats(-36, -10),
    st.sampled_from([37.5, -38.0, -40.0, -44.0]),
)


@dataclass
class WildCase:
    recipe: Recipe
    dtype: str
    layout: str
    x_log10: float
    y_log10: float
    offset_log10: float  # offsets ~ 10**offset_log10 * spread (0: none)
    inject: str  # none, nan, inf (invalid inputs)

    def arrays(self):
        X, Y, sw, col_exp = build(self.recipe)
        rng = np.random.default_rng(self.recipe.seed + 1)
        if self.recipe.weights == "wild":
            sw = weights(rng, "wild", X.shape[0])
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            if self.offset_log10:
                spread = np.exp2(col_exp.astype(float))
                X = X + rng.uniform(0.5, 1, X.shape[1]) * 10.0**self.offset_log10 * spread
            X = X * 10.0**self.x_log10
            Y = Y * 10.0**self.y_log10
        if self.inject == "nan":
            X[rng.integers(X.shape[0]), rng.integers(X.shape[1])] = np.nan
        elif self.inject == "inf":
            Y[rng.integers(Y.shape[0]), 0] = np.inf
        dtype = np.dtype(self.dtype)
        with np.errstate(over="ignore"):
            X = X.astype(dtype)
            if dtype == np.float32:
                Y = Y.astype(np.float32)
        y = Y[:, 0] if self.recipe.n_targets == 0 else Y
        return to_layout(X, self.layout, self.recipe.seed), y, sw


@st.composite
def wild_cases(draw, *, max_n=60, max_p=40, targets=True):
    recipe = draw(
        recipes(
            max_n=max_n,
            max_p=max_p,
            targets=targets,
            weight_kinds=[
                "none",
                "uniform",
                "zeros",
                "integer",
                "huge",
                "tiny",
                "spread",
                "wild",
            ],
        )
    )
    dtype = draw(st.sampled_from(["float64", "float64", "float32"]))
    mags = magnitudes64 if dtype == "float64" else magnitudes32
    x_log10 = draw(mags)
    y_log10 = draw(mags)
    limit = 300 if dtype == "float64" else 30
    assume(abs(y_log10 - x_log10) <= limit)
    return WildCase(
        recipe=recipe,
        dtype=dtype,
        layout=draw(st.sampled_from(LAYOUTS)),
        x_log10=x_log10,
        y_log10=y_log10,
        offset_log10=draw(st.sampled_from([0.0, 0.0, 1.0, 3.0, 6.0, 9.0])),
        inject=draw(st.sampled_from(["none"] * 12 + ["nan", "inf"])),
    )


wild_tol = st.sampled_from([0.0, 1e-12, 1e-8, 1e-4, 1e-1, 10.0])
wild_max_iter = st.sampled_from([1, 2, 3, 10, 100, 1000, 100_000])


def describe(case, **extra):
    lines = [f"case = {case!r}"]
    lines += [f"{k} = {v!r}" for k, v in extra.items()]
    return "\n".join(lines)


def check_iterations(n_iter, max_iter, what):
    n_iter = np.asarray(n_iter)
    if not np.all(n_iter <= max_iter):
        raise ContractViolation(f"n_iter_={n_iter!r} exceeds max_iter={max_iter}\n{what}")


# --------------------------------------------------------------------------
# Self-checks of the references used below
# --------------------------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
def test_reference_enet_formulas(weighted, fit_intercept, l1_ratio):
    """The objective and the dual bound of this module agree with sklearn:
    sklearn's ElasticNet / Ridge solution is optimal for our formula (its
    certified gap is at rounding level, and perturbations only raise it), and
    the formula equals the naive one where both are accurate."""
    rng = np.random.default_rng(1)
    n, p = 40, 12
    X = rng.standard_normal((n, p)) + 3.0
    y = X @ rng.standard_normal(p) + rng.standard_normal(n) + 5.0
    sw = rng.uniform(0.1, 3.0, n) if weighted else None
    s = rescale(sw, n)
    alpha = 0.05
    w, b = sklearn_reference(X, y, s, alpha, l1_ratio, fit_intercept, False)
    F = enet_objective(X, y, s, w, b, alpha, l1_ratio, fit_intercept)
    r = y - X @ w - b
    naive = 0.5 * np.dot(s, r**2) / n + alpha * l1_ratio * np.abs(w).sum()
    naive += 0.5 * alpha * (1 - l1_ratio) * w @ w
    assert F == pytest.approx(naive, rel=1e-12)
    D = enet_dual(X, y, s, w, alpha, l1_ratio, False, fit_intercept)
    F0 = null_objective(y, s, fit_intercept)
    assert D <= F + 1e-13 * F0
    assert F - D <= 1e-9 * F0
    for _ in range(5):
        dw = rng.standard_normal(p) * 1e-4
        assert enet_objective(X, y, s, w + dw, b, alpha, l1_ratio, fit_intercept) > F
    if fit_intercept:
        assert enet_objective(X, y, s, w, b + 1e-4, alpha, l1_ratio, fit_intercept) > F
    # The direct solvers agree with sklearn's where they apply.
    if l1_ratio == 0:
        w2, b2 = exact_quadratic(X, y, s, alpha, fit_intercept, False)
        F2 = enet_objective(X, y, s, w2, b2, alpha, 0.0, fit_intercept)
        assert F2 == pytest.approx(F, rel=1e-12)


def test_reference_trace_norm_optimality():
    """The SVT solver's optimum satisfies the optimality condition of
    ``loss(W) + alpha ||W||_*``: ``-grad = alpha (U_r V_r^T + Z)`` with ``Z``
    orthogonal to the singular spaces of ``W`` and ``||Z||_op <= 1``; and its
    certified duality gap is at rounding level."""
    rng = np.random.default_rng(2)
    for trial in range(6):
        n, p, T = 30, 8, 5
        X = rng.standard_normal((n, p)) + (4.0 if trial % 2 else 0.0)
        W_true = rng.standard_normal((p, 2)) @ rng.standard_normal((2, T))
        Y = X @ W_true + 0.3 * rng.standard_normal((n, T)) + 2.0
        if trial >= 2:
            Y[rng.random((n, T)) < 0.3] = np.nan
        s = rescale(rng.uniform(0.2, 2, n) if trial >= 4 else None, n)
        prob = TraceProblem.from_data(X, Y, s, fit_intercept=True)
        alpha = 0.3 * np.linalg.norm(prob.c, 2)
        W, gap = trace_norm_reference(prob, alpha, budget=30.0)
        F = prob.objective(W, alpha)
        assert gap <= 1e-10 * 0.5 * prob.yy.sum()
        G = -prob.grad(W)
        U, sig, Vt = np.linalg.svd(W)
        r = int(np.sum(sig > 1e-8 * sig[0]))
        assert 1 <= r < min(p, T)
        Ur, Vr = U[:, :r], Vt[:r].T
        assert np.allclose(Ur.T @ G @ Vr, alpha * np.eye(r), atol=1e-5 * alpha)
        Pu = np.eye(p) - Ur @ Ur.T
        Pv = np.eye(T) - Vr @ Vr.T
        assert np.linalg.norm(Ur.T @ G @ Pv) <= 1e-5 * alpha
        assert np.linalg.norm(Pu @ G @ Vr) <= 1e-5 * alpha
        assert np.linalg.norm(Pu @ G @ Pv, 2) <= alpha * (1 + 1e-6)
        # The extended-precision factor objective agrees with the quadratic
        # form at the balanced factors.
        Uf = U[:, :r] * np.sqrt(sig[:r])
        Vf = np.sqrt(sig[:r])[:, None] * Vt[:r]
        b = prob.intercepts(W)
        F_direct = multitask_objective(X, Y, s, W, b, Uf, Vf, alpha, 0.0)
        assert F_direct == pytest.approx(F, rel=1e-9, abs=1e-12 * prob.yy.sum())


def test_time_cap_kills_a_nogil_hang():
    """A Numba ``nogil`` infinite loop (which no signal interrupts) is killed
    at the cap; results and exceptions come back from the child."""
    from numba import njit

    @njit(nogil=True, cache=False)
    def spin(x):
        while x >= 0.0:
            x = x + 1.0 if x < 1e300 else 0.0
        return x

    spin(-1.0)  # compile in the parent
    start = time.monotonic()
    out = run_capped(spin, 1.0, cap=1.0)
    assert out.status == "timeout"
    assert "_time_cap.py" in out.stacks  # where the child was stuck
    assert time.monotonic() - start < 5
    out = run_capped(lambda: np.arange(3) * 2)
    assert out.status == "ok" and list(out.value) == [0, 2, 4]
    out = run_capped(lambda: np.linalg.inv(np.zeros((2, 2))))
    assert out.status == "raised" and out.raised.type_name == "LinAlgError"
    assert out.raised.is_a("ValueError")

    def warn():
        warnings.warn("slow", ConvergenceWarning, stacklevel=1)
        return 1

    out = run_capped(warn)
    assert out.status == "ok" and out.warned("ConvergenceWarning")
    out = run_capped(os._exit, 3)
    assert out.status == "crashed"


@functools.lru_cache(maxsize=None)
def _spin_kernel():
    from numba import njit

    @njit(nogil=True, cache=False)
    def spin(x):
        while x >= 0.0:
            x = x + 1.0 if x < 1e300 else 0.0
        return x

    return spin


def _spin(x):
    return _spin_kernel()(x)


def _warn_slow():
    warnings.warn("slow", ConvergenceWarning, stacklevel=1)
    return 1


def test_capped_worker():
    """The persistent worker: calls after calls in one process; a nogil hang
    is killed at the cap (with the worker's stacks) and the next call gets a
    new worker; exceptions, warnings and crashes come back as with
    ``run_capped``; stopping leaves no process behind."""
    _spin(-1.0)  # compile here, before the worker forks
    worker = CappedWorker()
    try:
        out = worker.call(np.arange, 3)
        assert out.status == "ok" and list(out.value) == [0, 1, 2]
        first = worker.pid
        out = worker.call(np.linalg.inv, np.zeros((2, 2)))
        assert out.status == "raised" and out.raised.type_name == "LinAlgError"
        assert worker.pid == first  # the same worker goes on
        start = time.monotonic()
        out = worker.call(_spin, 1.0, cap=1.0)
        assert out.status == "timeout" and "_time_cap.py" in out.stacks
        assert time.monotonic() - start < 5
        assert worker.pid is None
        with pytest.raises(ChildProcessError):
            os.waitpid(first, os.WNOHANG)  # killed and reaped
        out = worker.call(_warn_slow)
        assert out.status == "ok" and out.warned("ConvergenceWarning")
        out = worker.call(os._exit, 3)
        assert out.status == "crashed" and worker.pid is None
        out = worker.call(np.arange, 2)
        assert out.status == "ok" and list(out.value) == [0, 1]
        last = worker.pid
    finally:
        worker.stop()
    assert worker.pid is None
    with pytest.raises(ChildProcessError):
        os.waitpid(last, os.WNOHANG)


# --------------------------------------------------------------------------
# RegularizedGDRegressor
# --------------------------------------------------------------------------

penalties = st.sampled_from(["l1", "l2", "elasticnet", None])


@profile(3.0)
@given(
    case=wild_cases(),
    penalty=penalties,
    alpha=st.one_of(st.just(0.0), st.floats(-12, 6).map(lambda e: 10.0**e)),
    l1_ratio=st.sampled_from([0.0, 1.0, 0.5, 0.01, 0.99]),
    fit_intercept=st.booleans(),
    positive=st.booleans(),
    tol=wild_tol,
    max_iter=wild_max_iter,
    warm=st.booleans(),
)
@log_outcomes
def test_regressor_robust(
    case, penalty, alpha, l1_ratio, fit_intercept, positive, tol, max_iter, warm
):
    """Any input: ends under the cap; finite attributes of the input's dtype
    with ``n_iter_ <= max_iter``, or a clear ValueError/TypeError."""
    params = {
        "penalty": penalty,
        "alpha": alpha,
        "l1_ratio": l1_ratio,
        "fit_intercept": fit_intercept,
        "positive": positive,
        "tol": tol,
        "max_iter": max_iter,
        "warm_start": warm,
    }
    X, y, sw = case.arrays()
    what = describe(case, params=params)
    refit = {"alpha": alpha * 0.5 + 1e-3} if warm else None
    what += f"\nwarm-started refit with {refit}" if refit else ""
    out = capped(_fit_linear, params, X, y, sw, refit, what=what)
    if not check_outcome(out, what):
        return
    res = out.value
    assert_finite(res, what, overflowing(X, y))
    check_iterations(res["n_iter"], max_iter, what)
    if res["coef_dtype"] != case.dtype:
        raise ContractViolation(f"coef_ of dtype {res['coef_dtype']} for {case.dtype} X\n{what}")
    n_targets = 1 if np.ndim(y) == 1 else y.shape[1]
    expected = (X.shape[1],) if n_targets == 1 else (n_targets, X.shape[1])
    if res["coef"].shape != expected:  # as sklearn's ElasticNet
        raise ContractViolation(f"coef_ of shape {res['coef'].shape}, not {expected}\n{what}")
    if positive and not np.all(res["coef"] >= 0):
        raise ContractViolation(f"negative coef_ with positive=True: {res['coef']!r}\n{what}")


@dataclass
class PosedCase:
    """A well-posed problem: dyadic data of moderate magnitude."""

    recipe: Recipe
    dtype: str
    layout: str
    offset_log2: int  # exact column offsets ~ 2**offset_log2 * spread (-1: none)

    def arrays(self):
        X, Y, sw, col_exp = build(self.recipe)
        dtype = np.dtype(self.dtype).type
        if self.offset_log2 >= 0:
            rng = np.random.default_rng(self.recipe.seed + 2)
            c = column_offsets(rng, col_exp, self.offset_log2, X.shape[1], share=0.7)
            shifted = exact_shift(X, c, dtype)
            assume(shifted is not None)
            X = shifted.astype(np.float64)
        return X, Y, sw, col_exp


@st.composite
def posed_cases(
    draw,
    *,
    min_n=1,
    max_n=60,
    max_p=40,
    targets=True,
    layouts=LAYOUTS,
    y_kinds=None,
    weight_kinds=None,
):
    recipe = draw(
        recipes(
            min_n=min_n,
            max_n=max_n,
            max_p=max_p,
            targets=targets,
            y_kinds=y_kinds,
            weight_kinds=weight_kinds,
        )
    )
    dtype = draw(st.sampled_from(["float64", "float64", "float32"]))
    top = 30 if dtype == "float64" else 12
    offset = draw(st.one_of(st.just(-1), st.just(-1), st.integers(0, top)))
    return PosedCase(recipe, dtype, draw(st.sampled_from(layouts)), offset)


def relative_alpha(X, y, s, l1_ratio, fit_intercept, ratio):
    """``ratio`` times the smallest alpha with a zero solution (L1 part) or
    times the largest curvature (ridge); for degenerate data (constant
    columns or targets, whose centred values are rounding noise), ``ratio``
    times the raw scales instead."""
    A, yc, _, _ = weighted_design(X, y, s, fit_intercept)
    n = len(yc)
    Xd = np.asarray(X, dtype=np.float64)
    x_rms = math.sqrt(float(s @ (Xd * Xd).sum(axis=1)) / n) if Xd.size else 0.0
    y_rms = math.sqrt(float(s @ (np.asarray(y, dtype=np.float64) ** 2)) / n)
    if l1_ratio > 0:
        scale = np.abs(A.T @ yc).max(initial=0.0) / (n * l1_ratio)
        raw = x_rms * y_rms / l1_ratio
    else:
        scale = np.linalg.norm(A, 2) ** 2 / n if A.size else 0.0
        raw = x_rms**2
    if not scale > 1e-8 * raw:
        scale = raw
    return ratio * scale if scale > 0 else ratio


def rounding_floor(y, dtype, X=None, w=None):
    """The objective that rounding at the data's scale leaves: residuals of a
    few ulps of ``max |y|`` and of ``max_i sum_j |x_ij w_j|`` (e.g. a
    constant ``y``, whose centred values are rounding noise, or columns with
    large means)."""
    top = float(np.abs(np.asarray(y, dtype=np.float64)).max(initial=0.0))
    if X is not None and np.size(X):
        top += float((np.abs(np.asarray(X, np.float64)) @ np.abs(np.asarray(w, np.float64))).max())
    return 0.5 * (4 * float(np.finfo(dtype).eps) * top) ** 2


def objective_failure(F_ours, F_best, F0, dtype, label, floor=0.0):
    bound = F_best + OBJ_RTOL[dtype] * abs(F_best) + OBJ_ATOL[dtype] * F0 + floor
    if F_ours > bound:
        return (
            f"{label}: objective {F_ours!r} above the best known {F_best!r} by "
            f"{(F_ours - F_best) / max(abs(F_best), 1e-300):.3e} (relative; F0={F0!r})"
        )
    return None


@profile(2.5)
@given(
    case=posed_cases(),
    penalty=penalties,
    ratio=st.floats(-6, 1).map(lambda e: 10.0**e),
    l1_ratio=st.sampled_from([1.0, 0.5, 0.1, 0.9]),
    fit_intercept=st.booleans(),
    positive=st.booleans(),
    tol=st.sampled_from([1e-10, 1e-12]),
)
@log_outcomes
def test_regressor_objective(case, penalty, ratio, l1_ratio, fit_intercept, positive, tol):
    """Well posed: our objective is within 1e-6 (relative) of the best of ours
    and sklearn's (ElasticNet / Ridge at tol=1e-12) or the exact direct
    solution; ``dual_gap_`` bounds our suboptimality and, without a
    ConvergenceWarning, meets the tolerance rule of the docstring."""
    X, Y, sw, _ = case.arrays()
    n = X.shape[0]
    dtype = np.dtype(case.dtype).type
    s = rescale(sw, n)
    l1 = {"l1": 1.0, "l2": 0.0, None: 0.0}.get(penalty, l1_ratio)
    alpha = 0.0 if penalty is None else relative_alpha(X, Y[:, 0], s, l1, fit_intercept, ratio)
    params = {
        "penalty": penalty,
        "alpha": alpha,
        "l1_ratio": l1_ratio,
        "fit_intercept": fit_intercept,
        "positive": positive,
        "tol": tol,
        "max_iter": 100_000,
    }
    y = Y[:, 0] if case.recipe.n_targets == 0 else Y
    X_in = to_layout(X.astype(dtype), case.layout, case.recipe.seed)
    y_in = y.astype(dtype)
    what = describe(case, params=params)
    out = capped(_fit_linear, params, X_in, y_in, sw, what=what)
    check_outcome(out, what, allow_error=False)
    res = out.value
    assert_finite(res, what)
    coef = res["coef"].reshape(Y.shape[1], -1).astype(np.float64)
    intercept = np.ravel(res["intercept"])
    gaps = np.ravel(res["dual_gap"])
    failures = []
    for k in range(Y.shape[1]):
        yk = Y[:, k]
        F0 = null_objective(yk, s, fit_intercept)
        F_ours = enet_objective(X, yk, s, coef[k], intercept[k], alpha, l1, fit_intercept)
        w_ref, b_ref = sklearn_reference(X, yk, s, alpha, l1, fit_intercept, positive)
        F_ref = enet_objective(X, yk, s, w_ref, b_ref, alpha, l1, fit_intercept)
        candidates = [F_ours, F_ref]
        if alpha == 0 or l1 == 0:
            w_ex, b_ex = exact_quadratic(X, yk, s, alpha, fit_intercept, positive)
            candidates.append(enet_objective(X, yk, s, w_ex, b_ex, alpha, l1, fit_intercept))
        F_best = min(candidates)
        note(f"target {k}: F_ours={F_ours!r} F_ref={F_ref!r} F_best={F_best!r} F0={F0!r}")
        floor = rounding_floor(yk, dtype, X, coef[k])
        if alpha == 0 and not positive:
            floor += rank_cutoff_excess(X, yk, s, fit_intercept, F_best)
        lsqr = sp.issparse(X_in) and not positive and not solved_directly(*X.shape)
        if alpha == 0 and lsqr:
            # LSQR: dual_gap_ is its relative residual, promised below tol
            # unless a ConvergenceWarning says otherwise.
            if not warned(out) and gaps[k] > tol * (1 + 1e-6):
                failures.append(
                    (
                        DishonestGap,
                        (
                            f"target {k}: no ConvergenceWarning but LSQR's relative "
                            f"residual dual_gap_={gaps[k]!r} above tol={tol!r}"
                        ),
                    )
                )
            # The residual reported must be the fit's: at coef_ (rounded to
            # the dtype: up to eps more on the system's measure), within a
            # factor 2 of the larger of dual_gap_ and tol.
            actual = lsqr_measure(X, yk, s, coef[k], fit_intercept)
            slack = 4 * float(np.finfo(dtype).eps)
            if actual > 2 * max(gaps[k], tol) + slack:
                failures.append(
                    (
                        DishonestGap,
                        (
                            f"target {k}: LSQR's relative residual dual_gap_={gaps[k]!r}, "
                            f"but {actual!r} at coef_ (tol={tol!r})"
                        ),
                    )
                )
            measure = max(tol, gaps[k]) if warned(out) else tol
            floor += lsqr_allowance(X, yk, s, coef[k], fit_intercept, measure)
        msg = objective_failure(F_ours, F_best, F0, dtype, f"target {k}", floor)
        if msg:
            failures.append((SuboptimalLeastSquares if alpha == 0 else Suboptimal, msg))
        if alpha > 0 and dtype == np.float64:
            if F_ours - F_best > gaps[k] + 1e-12 * F0 + 1e-12 * abs(F_ours) + floor:
                failures.append(
                    (
                        DishonestGap,
                        (
                            f"target {k}: dual_gap_={gaps[k]!r} below the suboptimality "
                            f"{F_ours - F_best!r}"
                        ),
                    )
                )
            if not warned(out):
                allowed = max(tol, 10 * EPS64) * 2 * F0
                if gaps[k] > allowed * (1 + 1e-6) + 1e-300:
                    failures.append(
                        (
                            DishonestGap,
                            (
                                f"target {k}: no ConvergenceWarning but dual_gap_={gaps[k]!r} "
                                f"above tol * ||y_c||^2 / n = {allowed!r}"
                            ),
                        )
                    )
    check_iterations(res["n_iter"], 100_000, what)
    raise_failures(failures, what)


# ---- invariance ---------------------------------------------------------------


@dataclass
class Variant:
    """An exactly equivalent problem: ``kind`` in layout, shift, scale,
    weights, permute; ``layout`` of its X."""

    kind: str
    layout: str
    log2: int = 0  # shift: offset ratio; weights: power of two on the weights
    x_log2: int = 0  # scale: power of two on X
    y_log2: int = 0  # scale: power of two on y
    seed: int = 0


@st.composite
def variants(draw, dtype, fit_intercept, max_count=3):
    out = []
    for _ in range(draw(st.integers(1, max_count))):
        kinds = ["layout", "layout", "scale", "weights", "permute"]
        if fit_intercept:
            kinds += ["shift", "shift"]
        kind = draw(st.sampled_from(kinds))
        layout = draw(st.sampled_from(LAYOUTS))
        seed = draw(seeds)
        if kind == "shift":
            top = 30 if dtype == "float64" else 12
            out.append(Variant(kind, layout, log2=draw(st.integers(0, top)), seed=seed))
        elif kind == "scale":
            top = 1000 if dtype == "float64" else 110
            e = st.one_of(st.integers(-top, top), st.sampled_from([-top, top, 0]))
            out.append(Variant(kind, layout, x_log2=draw(e), y_log2=draw(e), seed=seed))
        elif kind == "weights":
            out.append(
                Variant(
                    kind,
                    layout,
                    log2=draw(st.sampled_from([-1000, -500, 500, 1000, 3])),
                    seed=seed,
                )
            )
        else:
            out.append(Variant(kind, layout, seed=seed))
    return out


def _scaled_alpha(alpha, l1, a, b):
    """alpha for X * 2**a, y * 2**b: the L1 part scales by 2**(a+b), the L2
    part by 2**(2a) (the elastic net: only with a == b)."""
    if l1 == 1.0:
        return float(np.ldexp(alpha, a + b))
    return float(np.ldexp(alpha, 2 * a))


def make_variant(v, X, Y, sw, col_exp, dtype, *, alpha, l1, solution=None):
    """``(X', Y', sw', alpha', back)`` where ``back(coef, intercept)`` maps a
    solution of the variant to the base problem (in extended precision), or
    None when the variant is not exact in ``dtype`` (or, for a scaled copy,
    when the mapped base ``solution = (coef, intercept)`` is not
    representable)."""
    rng = np.random.default_rng(v.seed)
    n, p = X.shape

    def identity(w, b):
        return np.asarray(w, np.float64), np.asarray(b, np.float64)

    if v.kind == "layout":
        return X, Y, sw, alpha, identity
    if v.kind == "permute":
        perm = rng.permutation(n)
        return X[perm], Y[perm], None if sw is None else sw[perm], alpha, identity
    if v.kind == "weights":
        base = np.ones(n) if sw is None else sw
        with np.errstate(over="ignore", under="ignore"):
            scaled = np.ldexp(base, v.log2)
        positive = base[base > 0]
        lo, hi = math.log2(positive.min()) + v.log2, math.log2(positive.max()) + v.log2
        if not (-1020 < lo and hi < 1020):
            return None  # the scaled weights would underflow or overflow
        return X, Y, scaled, alpha, identity
    if v.kind == "shift":
        c = column_offsets(rng, col_exp, v.log2, p, share=0.8)
        Xs = exact_shift(X, c, dtype)
        d = np.round(rng.normal(0, 1, Y.shape[1]) * 2.0 ** min(v.log2, 20)) * 2.0**-4
        Ys = exact_shift(Y, d, dtype)
        if Xs is None or Ys is None:
            return None

        def back_shift(w, b):
            w = np.asarray(w, np.float64).reshape(Y.shape[1], p)
            b = np.ravel(b).astype(LD) + w.astype(LD) @ c.astype(LD) - d.astype(LD)
            return w, b.astype(np.float64)

        return Xs.astype(np.float64), Ys.astype(np.float64), sw, alpha, back_shift
    if v.kind == "scale":
        a, bb = v.x_log2, v.y_log2
        if 0 < l1 < 1:
            bb = a  # the elastic net maps only with equal scales
        with np.errstate(over="ignore", under="ignore"):
            alpha2 = _scaled_alpha(alpha, l1, a, bb)
        info = np.finfo(dtype)
        lo, hi = math.log2(info.tiny) + 30, math.log2(info.max) - 30

        def within(A, e):
            A = np.abs(A[np.isfinite(A) & (A != 0)])
            if A.size == 0:
                return True
            return lo < math.log2(A.min()) + e and math.log2(A.max()) + e < hi

        if not (within(X, a) and within(Y, bb)):
            return None
        if alpha and not (np.isfinite(alpha2) and alpha2 > 0 and lo < math.log2(alpha2) < hi):
            return None
        if solution is not None:
            coef, intercept = solution
            if not (
                within(np.asarray(coef, np.float64), bb - a)
                and within(np.asarray(intercept, np.float64), bb)
            ):
                return None

        def back_scale(w, b):
            return (
                np.ldexp(np.asarray(w, np.float64), a - bb),
                np.ldexp(np.asarray(b, np.float64), -bb),
            )

        return np.ldexp(X, a), np.ldexp(Y, bb), sw, alpha2, back_scale
    raise AssertionError(v.kind)


@profile(1.5)
@given(
    case=posed_cases(layouts=LAYOUTS),
    data=st.data(),
    penalty=penalties,
    ratio=st.floats(-4, 0.5).map(lambda e: 10.0**e),
    l1_ratio=st.sampled_from([1.0, 0.5, 0.1]),
    fit_intercept=st.booleans(),
    positive=st.booleans(),
)
@log_outcomes
def test_regressor_invariance(case, data, penalty, ratio, l1_ratio, fit_intercept, positive):
    """The same fit for every layout, for shifted X (the intercept absorbs the
    shift), for X and y scaled by powers of two (alpha mapped), for scaled
    weights and for permuted rows: predictions and (when the optimum is
    unique) coefficients agree within what ``tol`` allows, and every fit is
    within 1e-6 of the best objective."""
    case = replace(case, offset_log2=-1)
    X, Y, sw, col_exp = case.arrays()
    n = X.shape[0]
    dtype = np.dtype(case.dtype).type
    s = rescale(sw, n)
    l1 = {"l1": 1.0, "l2": 0.0, None: 0.0}.get(penalty, l1_ratio)
    alpha = 0.0 if penalty is None else relative_alpha(X, Y[:, 0], s, l1, fit_intercept, ratio)
    tol = 1e-8
    base_params = {
        "penalty": penalty,
        "l1_ratio": l1_ratio,
        "fit_intercept": fit_intercept,
        "positive": positive,
        "tol": tol,
        "max_iter": 100_000,
    }
    one_d = case.recipe.n_targets == 0
    vs = data.draw(variants(case.dtype, fit_intercept))
    fits = []
    for v in [Variant("layout", case.layout)] + vs:
        made = make_variant(
            v,
            X,
            Y,
            sw,
            col_exp,
            dtype,
            alpha=alpha,
            l1=l1,
            solution=(fits[0][3], fits[0][4]) if fits else None,
        )
        if made is None:
            continue
        Xv, Yv, swv, alpha_v, back = made
        params = dict(base_params, alpha=alpha_v)
        X_in = to_layout(Xv.astype(dtype), v.layout, v.seed)
        y_in = (Yv[:, 0] if one_d else Yv).astype(dtype)
        what = describe(case, variant=v, params=params)
        out = capped(_fit_linear, params, X_in, y_in, swv, what=what)
        # Scaled copies near the limits may be refused with a clear error.
        if not check_outcome(out, what, allow_error=v.kind == "scale"):
            continue
        assert_finite(out.value, what, overflowing(X_in, y_in))
        check_iterations(out.value["n_iter"], 100_000, what)
        coef, intercept = back(out.value["coef"], out.value["intercept"])
        coef = coef.reshape(Y.shape[1], -1)
        # The power of two on y (make_variant scales the elastic net's y as
        # its X): objectives and duality gaps scale by its square.
        y_log2 = 0
        if v.kind == "scale":
            y_log2 = v.x_log2 if 0 < l1 < 1 else v.y_log2
        # Rounding at the variant's own scale (shifted y, shifted X).
        Xv_scale = np.abs(Xv) @ np.abs(coef.T) if Xv.size else np.zeros((n, Y.shape[1]))
        Xv_scale = np.ldexp(Xv_scale, -v.x_log2)  # in the base problem's units
        floors = [
            rounding_floor(
                np.abs(np.ldexp(Yv[:, k], -y_log2)).max(initial=0.0)
                + Xv_scale[:, k].max(initial=0.0),
                dtype,
            )
            for k in range(Y.shape[1])
        ]
        gaps = np.ravel(out.value["dual_gap"]).astype(np.float64)
        lsqr = sp.issparse(X_in) and not positive and not solved_directly(*X.shape)
        if alpha == 0 and lsqr:
            # LSQR: the gap is its (scale-free) relative residual, below tol
            # unless it warned; allow what that residual allows.
            for k in range(Y.shape[1]):
                measure = max(tol, gaps[k]) if warned(out) else tol
                floors[k] += lsqr_allowance(X, Y[:, k], s, coef[k], fit_intercept, measure)
        else:
            gaps = np.ldexp(gaps, -2 * y_log2)  # in the base problem's units
            # A gap that overflowed in the variant's units (y**2 beyond the
            # float range) is only known to meet the promise, when no
            # ConvergenceWarning says otherwise.
            gaps[~np.isfinite(gaps)] = np.inf if warned(out) else 0.0
        fits.append((v, what, out, coef, np.ravel(intercept), floors, gaps))
    assume(len(fits) >= 2)
    mu = strong_convexity(X, s, alpha, l1, fit_intercept)
    d_eps = float(np.finfo(dtype).eps)
    failures = []
    for k in range(Y.shape[1]):
        yk = Y[:, k]
        F0 = null_objective(yk, s, fit_intercept)
        objs = [
            enet_objective(X, yk, s, c[k], b[k], alpha, l1, fit_intercept)
            for _, _, _, c, b, _, _ in fits
        ]
        if alpha == 0 or l1 == 0:
            w_ex, b_ex = exact_quadratic(X, yk, s, alpha, fit_intercept, positive)
            objs_best = min(objs + [enet_objective(X, yk, s, w_ex, b_ex, alpha, l1, fit_intercept)])
        else:
            objs_best = min(objs)
        excess = 0.0
        if alpha == 0 and not positive:
            excess = rank_cutoff_excess(X, yk, s, fit_intercept, objs_best)
        for (v, _, _, _, _, floors, _), F in zip(fits, objs):
            msg = objective_failure(F, objs_best, F0, dtype, f"target {k}, {v}", floors[k] + excess)
            if msg:
                failures.append((SuboptimalLeastSquares if alpha == 0 else Suboptimal, msg))
        if alpha == 0:
            continue  # least squares: no duality-gap promise to compare by
        promised = promised_gap(tol, yk, s, fit_intercept)
        (v0, _, _, c0, b0, floors0, gaps0) = fits[0]
        p0, _ = centred_predictions(X, yk, s, c0[k], b0[k], fit_intercept)
        for v, _, _, c, b, floors, gaps in fits[1:]:
            # Each fit is within its reported duality gap of the optimum
            # (test_regressor_objective checks that the gap is honest, and
            # that it meets tol without a ConvergenceWarning): the documented
            # promise is tol * ||y_c||^2 / n, not the solver's lower aim.
            eps = [K_SAFETY * max(promised, float(g[k])) for g in (gaps0, gaps)]
            pv, _ = centred_predictions(X, yk, s, c[k], b[k], fit_intercept)
            diff = float(np.sqrt((np.asarray(s, LD) @ (pv - p0) ** 2) / n))
            # float32 coefficients (and intercepts of 2-D y) are rounded.
            rounding = (
                4 * d_eps * (float((np.abs(X) @ np.abs(c[k])).max(initial=0.0)) + abs(float(b[k])))
            )
            rounding += math.sqrt(2 * floors[k]) + math.sqrt(2 * floors0[k])
            bound = math.sqrt(4 * sum(eps)) + rounding + 1e-12 * math.sqrt(2 * F0)
            if diff > bound:
                failures.append(
                    (
                        NotInvariant,
                        (
                            f"target {k}: predictions of {v} differ from the base "
                            f"({v0.layout}) by {diff:.3e} (RMS) > {bound:.3e}"
                        ),
                    )
                )
            if mu > 0:
                dw = float(np.linalg.norm(c[k] - c0[k]))
                cbound = sum(math.sqrt(2 * e / mu) for e in eps)
                cbound += 4 * d_eps * float(np.linalg.norm(c0[k])) + 1e-12 * math.sqrt(2 * F0 / mu)
                if dw > cbound:
                    failures.append(
                        (
                            NotInvariant,
                            (
                                f"target {k}: coef of {v} differ from the base by {dw:.3e} "
                                f"> {cbound:.3e} (mu={mu:.3e})"
                            ),
                        )
                    )
    raise_failures(failures, describe(case, params=base_params, alpha=alpha))


# --------------------------------------------------------------------------
# RegularizedGDRegressorCV and regularized_gd_path
# --------------------------------------------------------------------------


@profile(1.0)
@given(
    case=wild_cases(targets=False),
    penalty=st.sampled_from(["elasticnet", "l1"]),
    l1_ratio=st.sampled_from([0.5, 1.0, [0.2, 0.8], [0.0, 0.5]]),
    alphas=st.one_of(
        st.integers(1, 4),
        st.lists(
            st.floats(-8, 3).map(lambda e: 10.0**e) | st.just(0.0),
            min_size=1,
            max_size=3,
        ),
    ),
    cv=st.integers(2, 3),
    fit_intercept=st.booleans(),
    positive=st.booleans(),
    tol=wild_tol,
    max_iter=wild_max_iter,
)
@log_outcomes
def test_cv_and_path_robust(
    case, penalty, l1_ratio, alphas, cv, fit_intercept, positive, tol, max_iter
):
    """Any input: RegularizedGDRegressorCV and regularized_gd_path end under
    the cap with finite results (``n_iter <= max_iter``) or a clear error."""
    X, y, sw = case.arrays()
    params = {
        "penalty": penalty,
        "l1_ratio": l1_ratio,
        "alphas": alphas,
        "cv": KFold(cv),
        "fit_intercept": fit_intercept,
        "positive": positive,
        "tol": tol,
        "max_iter": max_iter,
    }
    what = describe(case, params=params)
    out = capped(_fit_cv, params, X, y, sw, what=what)
    if check_outcome(out, what):
        assert_finite(out.value, what, overflowing(X, y))
        check_iterations(out.value["n_iter"], max_iter, what)
    path_params = {
        "penalty": penalty,
        "l1_ratio": l1_ratio if np.isscalar(l1_ratio) else 0.5,
        "fit_intercept": fit_intercept,
        "positive": positive,
        "tol": tol,
        "max_iter": max_iter,
    }
    if isinstance(alphas, list):
        path_params["alphas"] = alphas
    else:
        path_params["n_alphas"] = alphas
    what = describe(case, path_params=path_params)
    out = capped(_fit_path, path_params, X, y, sw, what=what)
    if check_outcome(out, what):
        assert_finite(out.value, what, overflowing(X, y))
        check_iterations(out.value["n_iters"], max_iter, what)


@profile(1.0)
@given(
    case=posed_cases(
        targets=False,
        min_n=6,
        max_n=40,
        max_p=20,
        weight_kinds=["none", "uniform", "huge", "tiny", "spread"],
    ),
    l1_ratio=st.sampled_from([1.0, 0.5, 0.9]),
    fit_intercept=st.booleans(),
    positive=st.booleans(),
    n_alphas=st.integers(2, 4),
)
@log_outcomes
def test_cv_and_path_objective(case, l1_ratio, fit_intercept, positive, n_alphas):
    """Well posed: every solve along the path, and the CV refit, is within
    1e-6 of the best of ours and sklearn's ElasticNet at the same alpha."""
    X, Y, sw, _ = case.arrays()
    assume(X.shape[0] >= 3)
    n = X.shape[0]
    dtype = np.dtype(case.dtype).type
    s = rescale(sw, n)
    y = Y[:, 0]
    X_in = to_layout(X.astype(dtype), case.layout, case.recipe.seed)
    y_in = y.astype(dtype)
    F0 = null_objective(y, s, fit_intercept)
    assume(F0 > 0)
    path_params = {
        "penalty": "elasticnet",
        "l1_ratio": l1_ratio,
        "n_alphas": n_alphas,
        "eps": 1e-2,
        "fit_intercept": fit_intercept,
        "positive": positive,
        "tol": 1e-10,
        "max_iter": 100_000,
    }
    what = describe(case, path_params=path_params)
    out = capped(_fit_path, path_params, X_in, y_in, sw, what=what)
    check_outcome(out, what, allow_error=False)
    assert_finite(out.value, what)
    failures = []
    _A, _yc, m, ym = weighted_design(X, y, s, fit_intercept)
    for i, a in enumerate(out.value["alphas"]):
        w = out.value["coefs"][:, i].astype(np.float64)
        b = ym - m @ w  # the path centres: its intercept is the optimal one
        F = enet_objective(X, y, s, w, b, a, l1_ratio, fit_intercept)
        w_ref, b_ref = sklearn_reference(X, y, s, a, l1_ratio, fit_intercept, positive)
        F_ref = enet_objective(X, y, s, w_ref, b_ref, a, l1_ratio, fit_intercept)
        msg = objective_failure(
            F,
            min(F, F_ref),
            F0,
            dtype,
            f"path alpha[{i}]={a!r}",
            rounding_floor(y, dtype, X, w),
        )
        if msg:
            failures.append((Suboptimal, msg))
    cv_params = {
        "l1_ratio": l1_ratio,
        "alphas": n_alphas,
        "eps": 1e-2,
        "cv": KFold(2),
        "fit_intercept": fit_intercept,
        "positive": positive,
        "tol": 1e-10,
        "max_iter": 100_000,
    }
    what_cv = describe(case, cv_params=cv_params)
    out = capped(_fit_cv, cv_params, X_in, y_in, sw, what=what)
    check_outcome(out, what_cv, allow_error=False)
    res = out.value
    assert_finite(res, what_cv)
    a, r = res["alpha"], res["l1_ratio"]
    F = enet_objective(X, y, s, res["coef"], float(res["intercept"]), a, r, fit_intercept)
    w_ref, b_ref = sklearn_reference(X, y, s, a, r, fit_intercept, positive)
    F_ref = enet_objective(X, y, s, w_ref, b_ref, a, r, fit_intercept)
    msg = objective_failure(
        F,
        min(F, F_ref),
        F0,
        dtype,
        f"CV refit at alpha_={a!r}",
        rounding_floor(y, dtype, X, res["coef"]),
    )
    if msg:
        failures.append((Suboptimal, msg))
    raise_failures(failures, what + "\n" + what_cv)


# --------------------------------------------------------------------------
# MultiTaskSharedRepRegressor
# --------------------------------------------------------------------------


def mask_targets(Y, rng, fraction, sw=None):
    """NaN for a ``fraction`` of the entries, keeping one observed per task
    (with a positive weight)."""
    Y = Y.copy()
    missing = rng.random(Y.shape) < fraction
    weighted = np.ones(Y.shape[0], bool) if sw is None else np.asarray(sw) > 0
    for t in range(Y.shape[1]):
        if missing[weighted, t].all():
            missing[rng.choice(np.flatnonzero(weighted)), t] = False
    Y[missing] = np.nan
    return Y


@profile(2.0)
@given(
    case=wild_cases(max_p=40),
    n_tasks=st.integers(1, 5),
    missing=st.sampled_from([0.0, 0.0, 0.2, 0.6, 0.95]),
    n_components=st.one_of(st.none(), st.integers(1, 6)),
    alpha=st.one_of(st.just(0.0), st.floats(-12, 6).map(lambda e: 10.0**e)),
    l1_ratio=st.sampled_from([0.0, 0.0, 0.3, 0.9, 1.0]),
    fit_intercept=st.booleans(),
    tol=wild_tol,
    max_iter=st.sampled_from([1, 2, 5, 50, 300]),
    warm=st.booleans(),
    one_d=st.booleans(),
)
@log_outcomes
def test_shared_rep_robust(
    case,
    n_tasks,
    missing,
    n_components,
    alpha,
    l1_ratio,
    fit_intercept,
    tol,
    max_iter,
    warm,
    one_d,
):
    """Any input: ends under the cap; finite coef_, intercept_, components_,
    heads_, predictions and transform, ``n_iter_ <= max_iter``; or a clear
    ValueError/TypeError."""
    X, y, sw = case.arrays()
    rng = np.random.default_rng(case.recipe.seed + 3)
    y = np.asarray(y, dtype=np.float64).reshape(X.shape[0], -1)
    with np.errstate(over="ignore", invalid="ignore"):  # y may hold inf
        Y = np.column_stack(
            [
                y[:, 0] * rng.normal(1, 0.3)
                + rng.normal(0, 1, X.shape[0]) * np.abs(y[:, 0]).max(initial=1.0) * 0.1
                for _ in range(n_tasks)
            ]
        )
    if missing:
        Y = mask_targets(Y, rng, missing)
    if one_d:
        Y = Y[:, 0]
    params = {
        "n_components": n_components,
        "alpha": alpha,
        "l1_ratio": l1_ratio,
        "fit_intercept": fit_intercept,
        "tol": tol,
        "max_iter": max_iter,
        "random_state": 0,
        "warm_start": warm,
    }
    what = describe(case, n_tasks=n_tasks, missing=missing, params=params, one_d=one_d)
    refit = {"alpha": alpha * 0.5 + 1e-3} if warm else None
    what += f"\nwarm-started refit with {refit}" if refit else ""
    out = capped(_fit_shared, params, X, Y, sw, refit, what=what)
    if not check_outcome(out, what):
        return
    assert_finite(out.value, what)
    check_iterations(out.value["n_iter"], max_iter, what)


@dataclass
class TaskCase:
    base: PosedCase
    n_tasks: int
    rank: int
    missing: float
    noise: float

    def arrays(self):
        X, _, sw, col_exp = self.base.arrays()
        rng = np.random.default_rng(self.base.recipe.seed + 4)
        n, p = X.shape
        Xs = X / np.exp2(col_exp)
        W = rng.standard_normal((p, self.rank)) @ rng.standard_normal((self.rank, self.n_tasks))
        Y = (
            Xs @ W
            + self.noise * rng.standard_normal((n, self.n_tasks))
            + rng.normal(0, 3, self.n_tasks)
        )
        Y = dyadic(Y, 21)
        if self.missing:
            Y = mask_targets(Y, rng, self.missing, sw)
        return X, Y, sw, col_exp


@st.composite
def task_cases(draw, max_n=60, max_p=30):
    base = draw(posed_cases(targets=False, max_n=max_n, max_p=max_p))
    base = replace(
        base,
        recipe=replace(
            base.recipe,
            weights=draw(st.sampled_from(["none", "uniform", "zeros", "huge", "tiny"])),
        ),
    )
    return TaskCase(
        base=base,
        n_tasks=draw(st.integers(1, 5)),
        rank=draw(st.integers(1, 3)),
        missing=draw(st.sampled_from([0.0, 0.0, 0.2, 0.5])),
        noise=draw(st.sampled_from([0.0, 0.1, 1.0])),
    )


def shared_factor_objective(X, Y, s, res, alpha):
    """Our objective at a multi-task fit's factors and intercepts."""
    U = res["components"].T
    V = res["heads"].reshape(-1, U.shape[1]).T
    W = res["coef"].reshape(Y.shape[1], -1).T
    b = np.ravel(res["intercept"])
    return multitask_objective(X, Y, s, W, b, U, V, alpha, 0.0), W


@profile(1.0)
@given(
    case=task_cases(),
    ratio=st.floats(-2.5, 0.2).map(lambda e: 10.0**e),
    fit_intercept=st.booleans(),
    data=st.data(),
)
@log_outcomes
def test_shared_rep_trace_norm(case, ratio, fit_intercept, data):
    """l1_ratio=0, n_components=None: the objective is within 1e-6 of the
    best of ours and the trace-norm reference (proximal gradient with singular
    value thresholding), for every layout and for shifted X."""
    X, Y, sw, col_exp = case.arrays()
    n, p = X.shape
    dtype = np.dtype(case.base.dtype).type
    s = rescale(sw, n)
    prob = TraceProblem.from_data(X, Y, s, fit_intercept)
    # ratio times the smallest alpha with a zero solution; for degenerate
    # data (constant columns or targets: rounding noise once centred), ratio
    # times the raw scales instead.
    top = np.linalg.norm(prob.c, 2) if prob.c.size else 0.0
    raw = math.sqrt(float(s @ (X * X).sum(axis=1)) / n) * math.sqrt(
        float(np.nansum(s[:, None] * Y * Y)) / n
    )
    if not top > 1e-8 * raw:
        top = raw
    assume(top > 0)
    alpha = ratio * top
    params = {
        "n_components": None,
        "alpha": alpha,
        "l1_ratio": 0.0,
        "fit_intercept": fit_intercept,
        "tol": 1e-10,
        "max_iter": 3000,
        "random_state": 0,
    }
    layouts = [case.base.layout] + data.draw(st.lists(st.sampled_from(LAYOUTS), max_size=2))
    shift = (
        data.draw(st.one_of(st.none(), st.integers(0, 30 if dtype == np.float64 else 12)))
        if fit_intercept
        else None
    )
    failures = []
    results = []
    for i, layout in enumerate(layouts + (["shift"] if shift is not None else [])):
        Xv, back_c = X, None
        if layout == "shift":
            rng = np.random.default_rng(case.base.recipe.seed + 5)
            c = column_offsets(rng, col_exp, shift, p, share=0.8)
            Xs = exact_shift(X, c, dtype)
            if Xs is None:
                continue
            Xv, back_c = Xs.astype(np.float64), c
            layout = data.draw(st.sampled_from(LAYOUTS))
        X_in = to_layout(Xv.astype(dtype), layout, i)
        what = describe(
            case,
            params=params,
            layout=layout,
            shift=shift if back_c is not None else None,
        )
        out = capped(_fit_shared, params, X_in, Y.astype(dtype), sw, what=what)
        check_outcome(out, what, allow_error=False)
        res = dict(out.value)
        assert_finite(res, what)
        check_iterations(res["n_iter"], 3000, what)
        W = res["coef"].reshape(Y.shape[1], -1)
        if back_c is not None:
            res["intercept"] = np.ravel(res["intercept"]) + W @ back_c
        floor = sum(
            rounding_floor(np.nan_to_num(Y[:, t]), dtype, Xv, W[t]) for t in range(Y.shape[1])
        )
        results.append(
            (
                layout if back_c is None else f"shift 2**{shift} on {layout}",
                what,
                res,
                floor,
            )
        )
    W_ref, gap_ref = trace_norm_reference(prob, alpha)
    Ub, sig, Vt = np.linalg.svd(W_ref, full_matrices=False)
    F_ref = multitask_objective(
        X,
        Y,
        s,
        W_ref,
        prob.intercepts(W_ref),
        Ub * np.sqrt(sig),
        np.sqrt(sig)[:, None] * Vt,
        alpha,
        0.0,
    )
    F0 = 0.5 * prob.yy.sum()
    # Unique optimum when every task's loss is strongly convex in its column.
    mu = min(float(np.linalg.eigvalsh(G)[0]) for G in prob.G) if p else 0.0
    mu = mu - 1e-9 * max(float(np.linalg.eigvalsh(G)[-1]) for G in prob.G) if p else 0.0
    lower = prob.dual(W_ref, alpha)
    scored = []
    for label, _, res, floor in results:
        F_ours, W = shared_factor_objective(X, Y, s, res, alpha)
        lower = max(lower, prob.dual(W, alpha))
        scored.append((label, F_ours, W, floor))
        note(f"{label}: F_ours={F_ours!r} F_ref={F_ref!r} (reference gap {gap_ref!r})")
    F_best = min([F_ref] + [F for _, F, _, _ in scored])
    for label, F, W, floor in scored:
        msg = objective_failure(F, F_best, F0, dtype, label, floor)
        if msg:
            failures.append((Suboptimal, msg))
        elif mu > 0:
            # F - min F >= mu/2 ||W - W*||^2: the model is the reference's.
            # (the dual bound is evaluated in float64: allow its rounding)
            slack = 1e-12 * F0 + floor
            bound = math.sqrt(2 * (max(F - lower, 0) + slack) / mu)
            bound += math.sqrt(2 * (max(F_ref - lower, 0) + slack) / mu)
            bound += 4 * float(np.finfo(dtype).eps) * float(np.linalg.norm(W_ref)) + 1e-12
            dist = float(np.linalg.norm(W - W_ref))
            if dist > bound:
                failures.append(
                    (
                        NotInvariant,
                        (
                            f"{label}: coef_ at {dist:.3e} from the "
                            f"reference's (> {bound:.3e}, mu={mu:.3e})"
                        ),
                    )
                )
    raise_failures(failures, describe(case, params=params, layouts=layouts, shift=shift))


# --------------------------------------------------------------------------
# MultiTaskSharedRepClassifier
# --------------------------------------------------------------------------


def make_labels(score, rng, n_tasks, classes_per_task, missing, strings):
    """Labels of ``n_tasks`` tasks from thresholds of noisy scores."""
    n = score.shape[0]
    cols = []
    for t in range(n_tasks):
        z = score * rng.normal(1, 0.5) + rng.normal(0, 1, n) * (np.std(score) + 1e-300)
        k = classes_per_task[t % len(classes_per_task)]
        cuts = np.quantile(z, np.linspace(0, 1, k + 1)[1:-1]) if n else []
        lab = np.searchsorted(cuts, z).astype(np.float64)
        if missing:
            lab[rng.random(n) < missing] = np.nan
        cols.append(lab)
    Y = np.column_stack(cols) if cols else np.empty((n, 0))
    if strings:
        obj = np.empty(Y.shape, dtype=object)
        for idx, v in np.ndenumerate(Y):
            obj[idx] = None if np.isnan(v) else f"c{int(v)}"
        return obj
    return Y


@profile(2.0)
@given(
    case=wild_cases(targets=False),
    n_tasks=st.integers(1, 4),
    classes=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    missing=st.sampled_from([0.0, 0.0, 0.3, 0.8]),
    strings=st.booleans(),
    n_components=st.one_of(st.none(), st.integers(1, 5)),
    alpha=st.one_of(st.just(0.0), st.floats(-10, 4).map(lambda e: 10.0**e)),
    l1_ratio=st.sampled_from([0.0, 0.0, 0.3, 0.9, 1.0]),
    solver=st.sampled_from(["auto", "auto", "lbfgs", "fista"]),
    class_weight=st.sampled_from([None, None, "balanced"]),
    fit_intercept=st.booleans(),
    tol=wild_tol,
    max_iter=st.sampled_from([1, 2, 5, 50, 500]),
    warm=st.booleans(),
    one_d=st.booleans(),
)
@log_outcomes
def test_classifier_robust(
    case,
    n_tasks,
    classes,
    missing,
    strings,
    n_components,
    alpha,
    l1_ratio,
    solver,
    class_weight,
    fit_intercept,
    tol,
    max_iter,
    warm,
    one_d,
):
    """Any input: ends under the cap; finite coefficients, intercepts,
    components and probabilities, ``n_iter_ <= max_iter``; or a clear
    ValueError/TypeError."""
    X, y, sw = case.arrays()
    rng = np.random.default_rng(case.recipe.seed + 6)
    with np.errstate(over="ignore", invalid="ignore"):  # y may hold inf
        score = np.nan_to_num(
            np.asarray(y, dtype=np.float64).ravel() / (np.abs(y).max(initial=1.0) or 1.0)
        )
    Y = make_labels(score, rng, 1 if one_d else n_tasks, classes, missing, strings)
    if one_d:
        Y = Y[:, 0]
    params = {
        "n_components": n_components,
        "alpha": alpha,
        "l1_ratio": l1_ratio,
        "solver": solver,
        "class_weight": class_weight,
        "fit_intercept": fit_intercept,
        "tol": tol,
        "max_iter": max_iter,
        "random_state": 0,
        "warm_start": warm,
    }
    what = describe(
        case,
        n_tasks=n_tasks,
        classes=classes,
        missing=missing,
        strings=strings,
        params=params,
        one_d=one_d,
    )
    refit = {"alpha": alpha * 0.5 + 1e-3} if warm else None
    what += f"\nwarm-started refit with {refit}" if refit else ""
    out = capped(_fit_classifier, params, X, Y, sw, refit, what=what)
    if not check_outcome(out, what):
        return
    res = dict(out.value)
    res.pop("pred")
    res.pop("classes")
    assert_finite(res, what)
    check_iterations(res["n_iter"], max_iter, what)
    for q in res["proba"]:
        if not np.allclose(q.sum(axis=1), 1.0):
            raise ContractViolation(f"probabilities do not sum to one\n{what}")


@profile(0.4)
@given(
    case=posed_cases(
        targets=False,
        min_n=8,
        max_n=60,
        max_p=20,
        weight_kinds=["none", "uniform", "huge", "tiny", "spread"],
    ),
    n_tasks=st.integers(1, 3),
    classes=st.lists(st.integers(2, 3), min_size=1, max_size=3),
    missing=st.sampled_from([0.0, 0.2]),
    ratio=st.floats(-3, -0.5).map(lambda e: 10.0**e),
    data=st.data(),
)
@log_outcomes
def test_classifier_invariance(case, n_tasks, classes, missing, ratio, data):
    """l1_ratio=0 (convex in W): the same objective (within 1e-6) for every
    layout and for shifted X, the intercepts absorbing the shift."""
    X, _Y0, sw, col_exp = replace(case, offset_log2=-1).arrays()
    n, p = X.shape
    dtype = np.dtype(case.dtype).type
    rng = np.random.default_rng(case.recipe.seed + 7)
    Xs_ = X / np.exp2(col_exp)
    Y = make_labels(Xs_ @ rng.standard_normal(p), rng, n_tasks, classes, missing, False)
    s = rescale(sw, n)
    for t in range(n_tasks):
        obs = ~np.isnan(Y[:, t]) & (s > 0)
        assume(len(np.unique(Y[obs, t])) >= 2)
    alpha = ratio
    params = {
        "alpha": alpha,
        "l1_ratio": 0.0,
        "tol": 1e-9,
        "max_iter": 2000,
        "random_state": 0,
    }
    layouts = [case.layout] + data.draw(st.lists(st.sampled_from(LAYOUTS), max_size=2))
    shift = data.draw(st.one_of(st.none(), st.integers(0, 30 if dtype == np.float64 else 12)))
    runs = [(layout, None) for layout in layouts]
    if shift is not None:
        c = column_offsets(
            np.random.default_rng(case.recipe.seed + 8), col_exp, shift, p, share=0.8
        )
        Xs = exact_shift(X, c, dtype)
        if Xs is not None:
            runs.append((data.draw(st.sampled_from(LAYOUTS)), c))
    F_list = []
    for i, (layout, c) in enumerate(runs):
        Xv = X if c is None else (X + c)
        X_in = to_layout(Xv.astype(dtype), layout, i)
        what = describe(
            case,
            n_tasks=n_tasks,
            classes=classes,
            params=params,
            layout=layout,
            shift=shift if c is not None else None,
        )
        out = capped(_fit_classifier, params, X_in, Y[:, 0] if n_tasks == 1 else Y, sw, what=what)
        check_outcome(out, what, allow_error=False)
        res = out.value
        coefs = res["coef"]
        intercepts = res["intercept"]
        if c is not None:
            intercepts = [b + co @ c for b, co in zip(intercepts, coefs)]
        F = classifier_objective(X, Y, s, coefs, intercepts, res["classes"], alpha)
        F_list.append(
            (
                f"{layout}" + ("" if c is None else f" shifted 2**{shift}"),
                F,
                warned(out),
                c is not None,
            )
        )
    F_best = min(F for _, F, _, _ in F_list)
    F0 = max(abs(F_best), 1e-300)
    # A fit that warns it did not converge on the data as given is excused
    # (badly conditioned data); once one converged, every equivalent fit,
    # shifted ones included, must reach the same objective.
    reference_converged = any(not warn for _, _, warn, shifted in F_list if not shifted)
    failures = [
        (NotInvariant, msg + (" [ConvergenceWarning]" if warn else ""))
        for label, F, warn, shifted in F_list
        if (not warn or (shifted and reference_converged))
        and (msg := objective_failure(F, F_best, F0, dtype, label))
    ]
    raise_failures(
        failures,
        describe(
            case,
            n_tasks=n_tasks,
            classes=classes,
            missing=missing,
            params=params,
            runs=[r[0] for r in runs],
            shift=shift,
        ),
    )
