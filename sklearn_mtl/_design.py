"""The design the linear solvers read: centred, weighted, scaled data.

For weights ``s`` (summing to ``n``) and an intercept, the solvers work on the
centred, row-weighted design and targets::

    A = diag(sqrt(s)) (X - 1 m^T),        y_c = diag(sqrt(s)) (y - y_mean)

where ``m`` holds the weighted column means. ``A`` is either a copy of ``X``
made that way, or ``X`` itself with the centring kept implicit:
``A = X - row_scale offset^T`` (products subtract the rank-one term). Implicit
centring avoids a copy, but it cancels digits when a column's mean is large
next to its spread (timestamps, years, prices): it is kept only for columns
whose mean is at most ``_IMPLICIT_MEAN_RATIO`` times their standard deviation,
which bounds the cancellation to about two digits. Other columns are centred
explicitly (a dense copy, or dense columns inside the sparse matrix: such a
column is already almost dense, so this costs little). The decision reads
the column sums and sums of squares only, so it cancels nothing itself.

Magnitudes: the targets are divided by a power of two that brings them near
1 (exact in floating point), and so is ``X`` when its squares would overflow
or underflow. The solvers then see a problem whose penalty strengths are
rescaled accordingly, and the estimator maps the solution back.
"""

from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from sklearn.utils import assert_all_finite

from ._kernels._moments import dense_column_moments, sparse_column_moments
from ._kernels._products import (
    columns_product,
    fortran_rmatvec,
    sparse_columns_product,
)
from ._validation import rescaled_sample_weight

# |mean| <= ratio * std keeps the implicit centring's cancellation under
# log10(1 + ratio^2), about two digits.
_IMPLICIT_MEAN_RATIO = 10.0
# Column mean squares outside this range are rescaled by a power of two.
_SAFE_SQUARE_RANGE = (1e-200, 1e200)
# Columns copied and centred at a time (bounds the float64 temporaries).
_COPY_BLOCK = 256
# Entries of float32 data converted to float64 at a time in products.
_PRODUCT_BLOCK = 1 << 20


@dataclass(frozen=True)
class LinearDesign:
    """The (implicitly) centred, weighted and scaled design ``A``.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features) or None
        Dense data, Fortran-ordered, in the input's dtype.
    csc : scipy.sparse.csc_matrix or None
        Sparse data, rows scaled by ``row_scale``.
    offset : ndarray of shape (n_features,)
        Implicit centre of each column (0 for columns centred explicitly).
    row_scale : ndarray of shape (n_samples,)
        ``sqrt(s)``.
    sq_norms : ndarray of shape (n_features,)
        ``||A_j||^2``.
    x_mean : ndarray of shape (n_features,)
        Weighted column means of ``X`` in the user's units (0 without
        intercept), for the intercept.
    x_scale : float
        ``X = x_scale * X_internal``, a power of two.
    first_grad : ndarray of shape (n_features,) or None
        ``A.T @ Y_c[:, 0]`` when the design pass computed it.
    """

    X: object
    csc: object
    offset: np.ndarray
    row_scale: np.ndarray
    sq_norms: np.ndarray
    x_mean: np.ndarray
    x_scale: float
    first_grad: object = None

    @property
    def n_samples(self):
        return self.row_scale.shape[0]

    @property
    def n_features(self):
        return self.offset.shape[0]

    @property
    def dtype(self):
        return self.X.dtype if self.csc is None else self.csc.dtype

    @cached_property
    def csr_transpose(self):
        """``csc.T`` (CSR, sharing csc's arrays), built once: the passes
        ``A.T @ r`` read it."""
        return self.csc.T

    @property
    def implicit(self):
        """Whether any column is centred implicitly."""
        return bool(np.any(self.offset))


@dataclass(frozen=True)
class Targets:
    """Centred, weighted targets divided by a power of two per column.

    ``Y = y_mean + y_scale * Y_internal / sqrt(s)`` column by column, with
    ``Y`` of shape ``(n_samples, n_targets)`` in float64.
    """

    Y: np.ndarray
    y_mean: np.ndarray
    y_scale: np.ndarray


def power_of_two(value):
    """The largest power of two not above ``value`` (1 for 0 or non-finite).

    Dividing by it is exact and brings ``value`` into ``[1, 2)``; it never
    overflows, even for the largest float.
    """
    if not np.isfinite(value) or value <= 0:
        return 1.0
    return float(np.ldexp(1.0, int(np.frexp(value)[1]) - 1))


def linear_design(X, Y, sample_weight, fit_intercept):
    """Build the design and the targets of a linear least-squares problem.

    Rows are weighted by ``sqrt(s)``, so that the weighted problem is a plain
    least-squares problem in ``A`` and ``y_c``.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Validated float32 or float64 data.
    Y : ndarray of shape (n_samples, n_targets)
        Validated finite targets.
    sample_weight : array-like of shape (n_samples,) or None
    fit_intercept : bool

    Returns
    -------
    design : LinearDesign
    targets : Targets
    """
    n_samples = X.shape[0]
    sw = rescaled_sample_weight(sample_weight, X)
    row_scale = np.sqrt(sw) if sample_weight is not None else np.ones(n_samples)
    targets = _targets(Y, sw, row_scale, fit_intercept)
    y0 = targets.Y[:, 0] if targets.Y.shape[1] else np.zeros(n_samples)
    design = make_design(X, sw, row_scale, fit_intercept, y0)
    return design, targets


def make_design(X, sw, row_scale, fit_intercept, y0=None, any_layout=False):
    """The centred (around the ``sw``-weighted means), row-scaled design.

    ``row_scale`` is ``sqrt(sw)`` for a weighted least-squares design, or all
    ones when the caller applies the weights itself (the multi-task models
    weight each observed entry). ``y0``, when given, is the target whose
    ``A.T y0`` the design pass computes on the way. With ``any_layout``,
    dense ``X`` is used without a copy in any memory layout (for solvers that
    only take products); otherwise only Fortran-ordered ``X`` is (the
    coordinate solvers read columns).
    """
    n_samples = X.shape[0]
    if y0 is None:
        y0 = np.zeros(n_samples)
    x_scale = 1.0
    for _ in range(2):  # the second round only after rescaling X
        # Overflow in the first round is detected below and undone by the
        # rescaling, so it needs no warning.
        with np.errstate(over="ignore", invalid="ignore"):
            if sp.issparse(X):
                design = _sparse_design(X, sw, row_scale, fit_intercept, y0, any_layout)
            else:
                design = _dense_design(X, sw, row_scale, fit_intercept, y0, any_layout)
        if x_scale == 1.0 and not np.all(np.isfinite(design.sq_norms)):
            # Every entry of X reaches its column's sum of squares, so the
            # finiteness check can be left to this pass (it saves one over X):
            # NaN or infinity raises scikit-learn's own error here, and finite
            # data that overflowed is rescaled below.
            assert_all_finite(X, input_name="X")
        rms = np.sqrt(design.sq_norms.max(initial=0.0) / n_samples)
        # A zero spread may be squares underflowed to 0 (|X| ~ 1e-160 or
        # less): the largest entry then decides.
        if (
            np.all(np.isfinite(design.sq_norms))
            and not rms**2 > _SAFE_SQUARE_RANGE[1]
            and not rms**2 < _SAFE_SQUARE_RANGE[0]
        ) or x_scale != 1.0:
            break
        x_scale = power_of_two(abs(X).max() if sp.issparse(X) else np.abs(X).max())
        if x_scale == 1.0:
            break  # constant or zero columns: nothing to rescale
        X = X / x_scale  # exact; 1 / x_scale overflows below 2**-1024
    design = _replace(design, x_mean=design.x_mean * x_scale, x_scale=x_scale)
    if not np.all(np.isfinite(design.sq_norms)):
        raise ValueError(
            "X holds values too large to be fitted even after rescaling; "
            "scale the features."
        )
    return design


def _replace(design, **changes):
    fields = {field.name: getattr(design, field.name) for field in dataclass_fields(design)}
    fields.update(changes)
    return LinearDesign(**fields)


def _targets(Y, sw, row_scale, fit_intercept):
    """Centred, weighted targets, scaled by powers of two (float64)."""
    n_samples = Y.shape[0]
    Y = np.asarray(Y, dtype=np.float64)
    largest = np.abs(Y).max(axis=0, initial=0.0)
    # Divide first so that the weighted sums cannot overflow.
    pre = np.array([power_of_two(v) for v in largest])
    Ys = Y / pre
    y_mean = sw @ Ys / n_samples if fit_intercept else np.zeros(Y.shape[1])
    if fit_intercept:
        # A constant target is its own mean: exactly, not up to the rounding
        # of a weighted sum (which would leave a constant for X to fit).
        constant = np.all(Ys == Ys[:1], axis=0)
        y_mean[constant] = Ys[0, constant]
    Yc = (Ys - y_mean) * row_scale[:, None]
    post = np.array([power_of_two(v) for v in np.abs(Yc).max(axis=0, initial=0.0)])
    Yc /= post
    return Targets(np.asfortranarray(Yc), y_mean * pre, pre * post)


def _implicit_columns(sums, sumsq, n_samples):
    """Columns whose mean is small enough next to their spread (no cancellation).

    ``|m| <= r * std`` is ``n m^2 <= r^2 / (1 + r^2) * sum(s x^2)``, which
    the sums give exactly, without computing the (cancelling) variance.
    """
    ratio2 = _IMPLICIT_MEAN_RATIO**2
    mean = sums / n_samples
    return n_samples * mean**2 <= ratio2 / (1.0 + ratio2) * sumsq


def _dense_design(X, sw, row_scale, fit_intercept, y0, any_layout):
    n_samples, n_features = X.shape
    unweighted = bool(np.all(sw == 1.0))
    if np.all(row_scale == 1.0) and (any_layout or (unweighted and X.flags.f_contiguous)):
        if unweighted and X.flags.f_contiguous:
            sums, sumsq, xty = dense_column_moments(X, y0)
        else:
            sums, sumsq = _weighted_moments(X, sw)
            xty = _dense_product(X, y0, transpose=True)
        mean = sums / n_samples if fit_intercept else np.zeros(n_features)
        if np.all(_implicit_columns(mean * n_samples, sumsq, n_samples)):
            # No copy: X itself, centred implicitly.
            return LinearDesign(
                X=X,
                csc=None,
                offset=mean,
                row_scale=row_scale,
                sq_norms=np.maximum(sumsq - n_samples * mean**2, 0.0),
                x_mean=mean,
                x_scale=1.0,
                first_grad=xty - mean * y0.sum(),
            )
    else:
        mean = sw @ X / n_samples if fit_intercept else np.zeros(n_features)
        mean = np.asarray(mean, dtype=np.float64)
    # One copy, centred and row-weighted, in Fortran order (the coordinate
    # solvers read columns); computed in float64 block by block.
    A = np.empty(X.shape, dtype=X.dtype, order="F")
    sq_norms = np.empty(n_features)
    for start in range(0, n_features, _COPY_BLOCK):
        cols = slice(start, start + _COPY_BLOCK)
        block = np.array(X[:, cols], dtype=np.float64)  # a copy: scaled in place
        if fit_intercept:
            block, mean[cols] = _centred(block, mean[cols], sw)
        block *= row_scale[:, None]
        A[:, cols] = block
        sq_norms[cols] = np.einsum("ij,ij->j", block, block)
    return LinearDesign(
        X=A,
        csc=None,
        offset=np.zeros(n_features),
        row_scale=row_scale,
        sq_norms=sq_norms,
        x_mean=mean,
        x_scale=1.0,
    )


def _centred(block, mean, sw):
    """``block - mean``, with the mean corrected by a second pass.

    The first mean of a column with a large offset is off by rounding, which
    leaves a constant in the centred column (all of it, for a constant
    column) that the solver would fit. Its weighted mean, removed again,
    brings that constant down to the rounding of the centred values.
    Returns the centred block and the corrected mean.
    """
    block = block - mean
    correction = sw @ block / sw.shape[0]
    block -= correction
    return block, mean + correction


def _weighted_moments(X, sw):
    """``(sw @ X, sw @ X**2)`` in float64, by blocks of rows (any layout)."""
    p = X.shape[1]
    sums = np.zeros(p)
    sumsq = np.zeros(p)
    step = max(1, _PRODUCT_BLOCK // max(p, 1))
    for start in range(0, X.shape[0], step):
        block = np.asarray(X[start : start + step], dtype=np.float64)
        weights = sw[start : start + step]
        sums += weights @ block
        sumsq += weights @ (block * block)
    return sums, sumsq


def _sparse_design(X, sw, row_scale, fit_intercept, y0, any_layout):
    n_samples, n_features = X.shape
    weighted = not bool(np.all(row_scale == 1.0))
    csc = X.tocsc() if X.format != "csc" else X
    indices = csc.indices.astype(np.int32, copy=False)
    indptr = csc.indptr.astype(np.int32, copy=False)
    weight = sw if np.any(sw != 1.0) else np.empty(0)
    sums, sumsq, xty = sparse_column_moments(csc.data, indices, indptr, weight, y0)
    mean = sums / n_samples if fit_intercept else np.zeros(n_features)
    implicit = _implicit_columns(mean * n_samples, sumsq, n_samples)
    offset = np.where(implicit, mean, 0.0)
    sq_norms = np.maximum(sumsq - n_samples * mean**2, 0.0)
    first_grad = xty - mean * y0.sum() if not weighted else None
    if weighted or not np.all(implicit):
        # A copy of our own (indices included: eliminate_zeros works in
        # place), never the user's matrix.
        csc = csc.copy() if csc is X else csc
    if not np.all(implicit):
        # Columns with a large mean are almost dense: store them centred.
        explicit = np.flatnonzero(~implicit)
        dense, mean[explicit] = _centred(
            csc[:, explicit].toarray().astype(np.float64), mean[explicit], sw
        )
        dense *= row_scale[:, None]
        sq_norms[explicit] = np.einsum("ij,ij->j", dense, dense)
        column_of_entry = np.repeat(np.arange(n_features), np.diff(csc.indptr))
        csc.data[np.isin(column_of_entry, explicit)] = 0
        csc.eliminate_zeros()
        if weighted:
            csc.data = (csc.data * row_scale[csc.indices]).astype(X.dtype, copy=False)
        stacked = sp.hstack([csc, sp.csc_matrix(dense.astype(X.dtype))], format="csc")
        order = np.arange(n_features)
        order[explicit] = n_features + np.arange(explicit.size)
        csc = stacked[:, order]
        first_grad = None
    elif weighted:
        csc.data = (csc.data * row_scale[csc.indices]).astype(X.dtype, copy=False)
    if csc is X and (indices is not csc.indices or indptr is not csc.indptr):
        # A new matrix object with 32-bit indices, sharing the user's data.
        csc = sp.csc_matrix((csc.data, indices, indptr), shape=csc.shape)
    elif csc is not X:
        csc.indices = csc.indices.astype(np.int32, copy=False)
        csc.indptr = csc.indptr.astype(np.int32, copy=False)
    return LinearDesign(
        X=None,
        csc=csc,
        offset=offset,
        row_scale=row_scale,
        sq_norms=sq_norms,
        x_mean=mean,
        x_scale=1.0,
        first_grad=first_grad,
    )


def design_matvec(design, w):
    """``A @ w`` in float64, for a vector or a matrix ``w``."""
    w = np.asarray(w, dtype=np.float64)
    if design.csc is None:
        out = _dense_product(design.X, w, transpose=False)
    else:
        out = np.asarray(design.csc @ w, dtype=np.float64)
    shift = design.offset @ w
    if np.any(shift != 0.0):
        out -= np.multiply.outer(design.row_scale, shift)
    return out


def design_support_matvec(design, w, centred=True, support=None):
    """``A @ w`` for a vector ``w`` with few non-zeros, from their columns only
    (the stored data's ``X @ w``, without the implicit centring, when not
    ``centred``). ``support``, when given, holds (at least) the indices where
    ``w`` is not zero.

    Costs the support's share of a pass (its columns' entries), not a pass.
    """
    if support is None:
        support = np.flatnonzero(w)
    if design.csc is not None and support.size > w.shape[0] // 4:
        # Most columns of sparse data: scipy's product, over every entry.
        out = np.asarray(design.csc @ w, dtype=np.float64)
    else:
        # Dense columns are read in place, whatever their number (a product
        # over all of X, as BLAS would run it, reads the zeros' columns too).
        out = _columns_product(design, support, w[support])
    shift = float(design.offset[support] @ w[support])
    if centred and shift != 0.0:
        out -= shift * design.row_scale
    return out


def _columns_product(design, columns, values):
    """``X[:, columns] @ values`` in float64 for the stored data (without the
    implicit centring), reading the columns in place."""
    values = np.asarray(values, dtype=np.float64)
    if design.csc is None:
        return columns_product(design.X, columns, values)
    csc = design.csc
    return sparse_columns_product(
        csc.data, csc.indices, csc.indptr, design.n_samples, columns, values
    )


def design_rmatvec(design, r):
    """``A.T @ r`` in float64, for a vector or a matrix ``r``."""
    r = np.asarray(r, dtype=np.float64)
    if design.csc is None:
        out = _dense_product(design.X, r, transpose=True)
    else:
        out = np.asarray(design.csr_transpose @ r, dtype=np.float64)
    if design.implicit:
        out -= np.multiply.outer(design.offset, design.row_scale @ r)
    return out


def design_rmatvec_rows(design, rows, r):
    """``A[rows].T @ r`` in float64, for a slice of rows (block-wise passes)."""
    data = design.X if design.csc is None else design.csc
    block = data[rows]
    if sp.issparse(block):
        out = np.asarray(block.T @ r, dtype=np.float64)
    else:
        out = np.asarray(block, dtype=np.float64).T @ r
    if design.implicit:
        out -= np.multiply.outer(design.offset, design.row_scale[rows] @ r)
    return out


def _dense_product(X, v, transpose):
    """``X @ v`` or ``X.T @ v`` accumulated in float64 for float32 ``X`` too.

    float32 data is converted block by block of columns, so that the
    products are as accurate as in float64 without a full float64 copy.
    """
    if transpose and v.ndim == 1 and X.flags.f_contiguous:
        return fortran_rmatvec(X, np.ascontiguousarray(v, dtype=np.float64))
    if X.dtype == np.float64:
        if transpose and v.ndim == 2 and X.flags.c_contiguous:
            return (v.T @ X).T  # BLAS runs this layout about 1.7x faster
        return X.T @ v if transpose else X @ v
    n, p = X.shape
    tail = v.shape[1:]
    out = np.empty((p,) + tail) if transpose else np.zeros((n,) + tail)
    step = max(1, _PRODUCT_BLOCK // max(n, 1))
    for start in range(0, p, step):
        block = np.asarray(X[:, start : start + step], dtype=np.float64)
        if transpose:
            out[start : start + step] = block.T @ v
        else:
            out += block @ v[start : start + step]
    return out


def design_gram(design, weights=None):
    """``A.T diag(weights) A`` in float64 (no weights: ``A.T A``), accumulated
    over blocks of rows so that float32 data is never copied whole."""
    data = design.X if design.csc is None else design.csc
    n, p = design.n_samples, design.n_features
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    root = None if weights is None else np.sqrt(w)
    G = np.zeros((p, p))
    block = max(1, _PRODUCT_BLOCK // max(p, 1))
    for start in range(0, n, block):
        rows = slice(start, start + block)
        Xb = data[rows]
        if sp.issparse(Xb):
            Xb = Xb.astype(np.float64, copy=False)  # float32 products overflow
            G += dense_of(Xb.T @ sp.diags(w[rows]) @ Xb)
        else:
            Xb = np.asarray(Xb, dtype=np.float64)
            if root is not None:
                Xb = root[rows, None] * Xb
            G += Xb.T @ Xb  # one operand twice: BLAS's symmetric product
    if design.implicit:
        # A = X - row_scale offset^T: expand the rank-one corrections.
        rs = design.row_scale
        xs = np.asarray(data.T @ (w * rs), dtype=np.float64).ravel()
        nrs = float(rs @ (w * rs))
        off = design.offset
        G -= np.outer(xs, off) + np.outer(off, xs) - nrs * np.outer(off, off)
    return G


def design_kernel(design):
    """``A @ A.T`` in float64 (for designs with few samples)."""
    data = design.X if design.csc is None else design.csc
    if design.csc is not None:
        data64 = data.astype(np.float64, copy=False)  # float32 products overflow
        K = dense_of(data64 @ data64.T)
    else:
        K = np.zeros((design.n_samples, design.n_samples))
        step = max(1, _PRODUCT_BLOCK // max(design.n_samples, 1))
        for start in range(0, design.n_features, step):
            block = np.asarray(data[:, start : start + step], dtype=np.float64)
            K += block @ block.T
    if design.implicit:
        rs = design.row_scale
        u = np.asarray(data @ design.offset, dtype=np.float64).ravel()
        K -= np.outer(u, rs) + np.outer(rs, u)
        K += float(design.offset @ design.offset) * np.outer(rs, rs)
    return K


def dense_of(M):
    """A small sparse product (a Gram or kernel matrix, never ``X``) as a
    dense float64 array."""
    csr = M.tocsr().astype(np.float64)  # a copy of our own temporary
    csr.sum_duplicates()
    out = np.zeros(csr.shape)
    rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
    out[rows, csr.indices] = csr.data
    return out
