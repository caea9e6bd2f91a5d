"""Test-session setup shared by the doctests and the test suite."""

import os

# scikit-learn runs its array API check on every estimator (NumPy namespace for
# those without array API support) but skips it unless SciPy's array API mode is
# on, which must be decided before SciPy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import importlib.util  # noqa: E402

import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

# The doctests of the optional Dask module need its extra.
collect_ignore = (
    [] if importlib.util.find_spec("distributed") else ["sklearn_mtl/dask.py"]
)


@pytest.fixture(autouse=True, scope="session")
def _single_threaded_blas():
    """Run BLAS on one thread: the tests fit many small problems, where a
    multi-threaded BLAS on a 2-core machine mostly adds synchronisation cost."""
    with threadpool_limits(1, user_api="blas"):
        yield
