"""Data for multi-task learning: generators of related tasks and real data sets."""

from ._generators import make_low_rank_classification_tasks, make_low_rank_tasks

__all__ = ["make_low_rank_classification_tasks", "make_low_rank_tasks"]
