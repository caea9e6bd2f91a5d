"""Cross-entropy of the shared-representation classifier, over a flat vector.

The vector stacks ``U.ravel()`` (``(p, k)``), ``V.ravel()`` (``(k, C)``) and,
with an intercept, ``b`` (``(C,)``). The smooth part of the objective is::

    sum_{observed (i, t)} w_it CE_t(x_i U V_t + b_t, y_it)
        + alpha2 / 2 (||U||^2 + ||V||^2)
        + lambda / (2 T) sum_t ||b_t - bbar_g(t)||^2

with ``w_it`` the label weights (sample, class and task weights over ``n``).
The last term pulls the intercepts of the tasks that share a label set
toward their common centre ``bbar_g`` (partial pooling): a task with little
data borrows its base rate from the others, one that saw a single class gets
a finite intercept, and a single task is left unchanged.
The scores are computed for the observed labels only
(:mod:`sklearn_mtl._kernels._cross_entropy`); ``U`` enters through ``Z = A U``
with ``A`` the centred design, so the intercepts are those of centred data
(which a shift of ``X`` leaves unchanged, and the pooling compares).
"""

import numpy as np

from .._design import design_matvec, design_rmatvec
from .._kernels._cross_entropy import heads_hessp, heads_loss_grad


class CrossEntropyHeads:
    """The smooth part of the classifier's objective and its derivatives.

    Parameters
    ----------
    design : LinearDesign
        ``X`` centred (explicitly or implicitly) around its weighted means, so
        that a shift of ``X`` changes the intercepts only
        (:mod:`sklearn_mtl._design`; rows not weighted).
    observations : tuple of arrays
        ``(rows, tasks, labels, weights)`` of the observed labels, by row.
    offsets : ndarray of shape (n_tasks + 1,)
        Task ``t`` owns the score columns ``offsets[t]:offsets[t + 1]``.
    n_components : int
    alpha2 : float
        Weight of the squared Frobenius norms of ``U`` and ``V``.
    fit_intercept : bool
    groups : list of ndarray
        Tasks sharing a label set (and head size); their intercepts shrink
        toward a common centre.
    shrinkage : float
        ``lambda`` above.
    """

    def __init__(self, design, observations, offsets, n_components, alpha2,
                 fit_intercept, groups, shrinkage):
        self.design = design
        self.rows, self.tasks, self.labels, self.weights = observations
        self.offsets = offsets
        self.n_features = design.n_features
        self.n_samples = design.n_samples
        self.n_components = n_components
        self.n_columns = int(offsets[-1])
        self.alpha2 = alpha2
        self.fit_intercept = fit_intercept
        self.n_U = self.n_features * n_components
        self.n_V = n_components * self.n_columns
        self.size = self.n_U + self.n_V + (self.n_columns if fit_intercept else 0)
        n_tasks = len(offsets) - 1
        # Intercept columns of each group of at least two tasks, each task
        # weighing 1 / T in the pooling.
        self.groups = []
        if fit_intercept and shrinkage > 0:
            for group in groups:
                if len(group) > 1:
                    width = offsets[group[0] + 1] - offsets[group[0]]
                    cols = offsets[group][:, None] + np.arange(width)
                    self.groups.append((cols, np.full(len(group), 1.0 / n_tasks)))
        self.shrinkage = shrinkage

    @property
    def u_mask(self):
        """Entries of the flat vector that belong to ``U``."""
        mask = np.zeros(self.size, dtype=bool)
        mask[: self.n_U] = True
        return mask

    def pack(self, U, V, b):
        parts = [np.ravel(U), np.ravel(V)]
        if self.fit_intercept:
            parts.append(np.ravel(b))
        return np.concatenate(parts).astype(np.float64)

    def unpack(self, x):
        U = x[: self.n_U].reshape(self.n_features, self.n_components)
        V = x[self.n_U : self.n_U + self.n_V].reshape(self.n_components, self.n_columns)
        b = x[self.n_U + self.n_V :] if self.fit_intercept else np.zeros(self.n_columns)
        return U, V, b

    def _represent(self, U):
        return design_matvec(self.design, U)

    def _shrink(self, b):
        """Value and gradient of the intercept shrinkage at ``b``."""
        value = 0.0
        grad = np.zeros_like(b)
        for cols, share in self.groups:
            B = b[cols]
            centre = share @ B / share.sum()
            D = B - centre
            value += 0.5 * self.shrinkage * float(share @ (D * D).sum(axis=1))
            grad[cols] += self.shrinkage * share[:, None] * D
        return value, grad

    def value_and_grad(self, x):
        U, V, b = self.unpack(x)
        Z = self._represent(U)
        dZ = np.zeros_like(Z)
        dV = np.zeros_like(V)
        db = np.zeros(self.n_columns)
        loss = heads_loss_grad(
            Z, V, b, self.rows, self.tasks, self.labels, self.weights, self.offsets,
            dZ, dV, db,
        )
        grad = np.empty(self.size)
        grad[: self.n_U] = (
            design_rmatvec(self.design, dZ) + self.alpha2 * U
        ).ravel()
        grad[self.n_U : self.n_U + self.n_V] = (dV + self.alpha2 * V).ravel()
        factors = x[: self.n_U + self.n_V]
        value = loss + 0.5 * self.alpha2 * float(factors @ factors)
        if self.fit_intercept:
            shrink_value, shrink_grad = self._shrink(b)
            value += shrink_value
            grad[self.n_U + self.n_V :] = db + shrink_grad
        return value, grad

    def hessp(self, x, v):
        """Hessian of the smooth objective at ``x`` applied to ``v``."""
        U, V, b = self.unpack(x)
        dU, dV, db = self.unpack(v)
        Z = self._represent(U)
        ZD = self._represent(dU)
        oZ = np.zeros_like(Z)
        oV = np.zeros_like(V)
        ob = np.zeros(self.n_columns)
        heads_hessp(
            Z, V, b, ZD, dV, db, self.rows, self.tasks, self.labels, self.weights,
            self.offsets, oZ, oV, ob,
        )
        out = np.empty(self.size)
        out[: self.n_U] = (
            design_rmatvec(self.design, oZ) + self.alpha2 * dU
        ).ravel()
        out[self.n_U : self.n_U + self.n_V] = (oV + self.alpha2 * dV).ravel()
        if self.fit_intercept:
            # The shrinkage is quadratic: its Hessian applied to db is its
            # gradient at db.
            out[self.n_U + self.n_V :] = ob + self._shrink(db)[1]
        return out

    def loss_gradient_at(self, b):
        """Gradient of the cross-entropy in ``W = U V`` at ``W = 0`` with
        intercepts ``b``: ``X.T @ G``, ``G`` the ``(n, C)`` score gradients."""
        n, C = self.n_samples, self.n_columns
        # With Z = 0 and V = I every score is its intercept, and dZ collects
        # the score gradients G.
        G = np.zeros((n, C))
        heads_loss_grad(
            np.zeros((n, C)), np.eye(C), b, self.rows, self.tasks, self.labels,
            self.weights, self.offsets, G, np.zeros((C, C)), np.zeros(C),
        )
        return design_rmatvec(self.design, G), G

    def curvature(self, P, sQt, task_of_column):
        """The loss's curvature in ``W`` along ``D = P sQt``, as 1/4 (the
        logistic loss's largest second derivative) of the label-weighted
        squared norm of ``X D``: every row, each score column weighted by
        the row's label weight in its task (``task_of_column``)."""
        XD = design_matvec(self.design, P) @ sQt
        weight_at = np.zeros((self.n_samples, len(self.offsets) - 1))
        np.add.at(weight_at, (self.rows, self.tasks), self.weights)
        # Data near float64's limit overflows here: an infinite curvature,
        # which the caller reads as "no step", not a warning to the user.
        with np.errstate(over="ignore", invalid="ignore"):
            return float(0.25 * np.sum(weight_at[:, task_of_column] * XD**2))
