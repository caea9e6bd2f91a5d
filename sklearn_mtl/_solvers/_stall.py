"""When an iterative solver has stopped making progress.

Every solver stops on its optimality measure reaching ``tol``. Near the limit
of floating point the measure stops falling while the iterates still move by
rounding: the loop would spend all of ``max_iter`` for nothing. A solver
counts the iterations since its last progress and ends as "stalled" after
``patience`` of them in a row (its warning then says that rounding, not the
iteration budget, limits the accuracy).
"""

import numpy as np

# An objective that falls by less than this many ulps has not moved.
ROUNDING_ULPS = 64


class StallWatch:
    """Count the iterations without progress.

    Progress is a measure below ``(1 - min_decrease)`` times the best one
    seen, or an objective (when given) lower than at the last progress by more
    than its rounding.

    Parameters
    ----------
    patience : int
        Iterations without progress that make a stall.
    min_decrease : float, default=0
        Relative decrease of the measure that counts as progress.
    """

    def __init__(self, patience, min_decrease=0.0):
        self.patience = patience
        self.min_decrease = min_decrease
        self.best = np.inf
        self.reference = None
        self.idle = 0

    def stalled(self, measure, objective=None):
        """Record an iteration; True when ``patience`` passed without progress."""
        slack = ROUNDING_ULPS * np.finfo(np.float64).eps
        lower = measure < (1.0 - self.min_decrease) * self.best
        descent = objective is not None and (
            self.reference is None
            or self.reference - objective > slack * abs(self.reference)
        )
        if lower or descent:
            self.best = min(self.best, measure)
            if objective is not None:
                self.reference = objective
            self.idle = 0
            return False
        self.idle += 1
        return self.idle >= self.patience
