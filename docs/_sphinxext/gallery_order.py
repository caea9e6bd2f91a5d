"""Order of the gallery examples: the order in which the user guide teaches."""

import os

ORDER = [
    "plot_regularization_path.py",
    "plot_tuning_alpha.py",
    "plot_speed_benchmark.py",
    "plot_multitask_learning_curve.py",
    "plot_shared_representation.py",
    "plot_missing_targets.py",
    "plot_multitask_classification.py",
]


class TeachingOrder:
    """sphinx-gallery ``within_subsection_order`` key: listed files first, in order.

    Files not in ``ORDER`` come last, by name.
    """

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = os.path.basename(filename)
        rank = ORDER.index(name) if name in ORDER else len(ORDER)
        return rank, name

    def __repr__(self):
        return f"<{self.__class__.__name__}>"
