"""Solvers: each written once, over datafits and penalties, never estimators.

- :mod:`.working_set`: coordinate proximal steps on working sets (elastic net);
- :mod:`.quadratic`: ridge by conjugate gradient, least squares directly;
- :mod:`.cg`: preconditioned conjugate gradient;
- :mod:`.lbfgs`: L-BFGS, orthant-wise (OWL-QN) with an L1 part;
- :mod:`.fista`: accelerated proximal gradient with restart and backtracking.
"""
