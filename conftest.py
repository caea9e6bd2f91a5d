"""Test-session setup shared by the doctests and the test suite."""

import os

# scikit-learn runs its array API check on every estimator (NumPy namespace for
# those without array API support) but skips it unless SciPy's array API mode is
# on, which must be decided before SciPy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
