"""Multi-task models sharing a low-rank representation ``Z = X U``."""
