"""The package namespace: public names, lazy loading, no compilation at import."""

import subprocess
import sys

import sklearn_mtl


def test_every_public_name_resolves():
    for name in sklearn_mtl.__all__:
        assert getattr(sklearn_mtl, name) is not None
    assert set(sklearn_mtl.__all__) <= set(dir(sklearn_mtl))


def _run(code):
    subprocess.run([sys.executable, "-c", code], check=True)


def test_star_import_gives_the_public_names():
    _run(
        "from sklearn_mtl import *\n"
        "RegularizedGDRegressor, RegularizedGDRegressorCV, regularized_gd_path\n"
        "MultiTaskSharedRepRegressor, MultiTaskSharedRepClassifier\n"
    )


def test_import_is_light_and_compiles_nothing():
    _run(
        "import sys\n"
        "import sklearn_mtl\n"
        "from sklearn_mtl import RegularizedGDRegressor\n"
        "loaded = [m for m in sys.modules if m.startswith('sklearn_mtl._multitask')]\n"
        "assert not loaded, loaded\n"
        "from sklearn_mtl._kernels._coordinate_descent import cd_epochs_dense\n"
        "assert not cd_epochs_dense.signatures, cd_epochs_dense.signatures\n"
    )


def test_unknown_attribute_raises_attribute_error():
    try:
        sklearn_mtl.NotAnEstimator  # noqa: B018 - the look-up is the test
    except AttributeError as exc:
        assert "NotAnEstimator" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
