"""Datafits: the losses the solvers minimise, in the forms they need.

- :mod:`._statistics`: per-task sufficient statistics, mergeable by blocks;
- :mod:`.squared`: the multi-task squared loss of a shared factor;
- :mod:`.cross_entropy`: logistic and softmax heads on observed labels.
"""
