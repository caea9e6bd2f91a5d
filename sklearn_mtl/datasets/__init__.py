"""Data for multi-task learning: generators of related tasks and real data sets."""

from ._generators import make_low_rank_classification_tasks, make_low_rank_tasks
from ._school import load_school

__all__ = [
    "load_school",
    "make_low_rank_classification_tasks",
    "make_low_rank_tasks",
]
