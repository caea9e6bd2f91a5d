"""Checks that keep the documentation in step with the code (no doc build here)."""

import ast
import re
from pathlib import Path

import pytest

import sklearn_mtl
import sklearn_mtl.datasets
import sklearn_mtl.metrics

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"


def _public_names():
    names = [f"sklearn_mtl.{n}" for n in sklearn_mtl.__all__ if not n.startswith("_")]
    names += [f"sklearn_mtl.datasets.{n}" for n in sklearn_mtl.datasets.__all__]
    names += [f"sklearn_mtl.metrics.{n}" for n in sklearn_mtl.metrics.__all__]
    try:  # the optional extra: its names are listed whether it is installed or not
        import sklearn_mtl.dask as dask_module

        names += [f"sklearn_mtl.dask.{n}" for n in dask_module.__all__]
    except ImportError:
        names += [f"sklearn_mtl.dask.{n}" for n in _DASK_NAMES]
    return names


_DASK_NAMES = ["WarmKernels", "warm_kernels", "kernel_compilations"]


def _api_entries():
    """Fully qualified names listed in the autosummary tables of docs/api.rst."""
    entries, module = set(), None
    in_table = False
    for line in (DOCS / "api.rst").read_text().splitlines():
        match = re.match(r"\.\. currentmodule:: (\S+)", line)
        if match:
            module = match.group(1)
            continue
        if line.startswith(".. autosummary::"):
            in_table = True
            continue
        if in_table:
            stripped = line.strip()
            if not stripped or stripped.startswith(":"):
                continue
            if not line.startswith("   "):
                in_table = False
                continue
            entries.add(f"{module}.{stripped}")
    return entries


@pytest.mark.parametrize("name", _public_names())
def test_public_name_in_api_reference(name):
    assert name in _api_entries(), f"{name} is public but missing from docs/api.rst"


def test_api_reference_lists_only_existing_names():
    assert _api_entries() <= set(_public_names())


def _gallery_examples():
    return sorted(EXAMPLES.glob("plot_*.py"))


@pytest.mark.parametrize("path", _gallery_examples(), ids=lambda p: p.name)
def test_gallery_example_has_a_title(path):
    """sphinx-gallery needs a module docstring starting with an rST title."""
    docstring = ast.get_docstring(ast.parse(path.read_text()), clean=False)
    assert docstring, f"{path.name} has no module docstring"
    lines = docstring.strip("\n").splitlines()
    overline, title, underline = lines[0], lines[1], lines[2]
    assert set(overline) == {"="} and overline == underline
    assert len(overline) >= len(title.rstrip()), f"{path.name}: title lines too short"


def test_gallery_header_exists():
    assert (EXAMPLES / "GALLERY_HEADER.rst").exists()


# -- Math renders offline --------------------------------------------------------
#
# MathJax must come from the built site (_static/mathjax/, shipped by the
# sphinx-mathjax-offline package of the docs extra), never from a CDN: users
# read the docs offline and behind proxies. conf.py is read as source here,
# since the test environment has neither Sphinx nor the MathJax package.

MATHJAX_PACKAGE = "sphinx-mathjax-offline"


def _conf_assignments():
    """Top-level ``name = value`` assignments of docs/conf.py, as AST nodes."""
    tree = ast.parse((DOCS / "conf.py").read_text())
    assigned = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned[target.id] = node.value
    return assigned


def test_mathjax_is_served_from_the_built_site():
    conf = _conf_assignments()
    extensions = ast.literal_eval(conf["extensions"])
    assert "sphinx.ext.mathjax" in extensions
    # A relative path is resolved against _static/; a URL would be a CDN.
    mathjax_path = ast.literal_eval(conf["mathjax_path"])
    assert not re.match(r"^(\w+:)?//", mathjax_path), mathjax_path
    assert mathjax_path.startswith("mathjax/") and mathjax_path.endswith(".js")
    # The package's static/ folder (holding mathjax/) is copied into _static/.
    assert ast.literal_eval(conf["_MATHJAX_PACKAGE"]) == MATHJAX_PACKAGE
    static = ast.unparse(conf["html_static_path"])
    assert "MATHJAX_STATIC_DIR" in static, static
    # No other MathJax setting may point at the network either.
    for name, value in conf.items():
        if name.startswith("mathjax"):
            assert "://" not in ast.unparse(value), f"{name} loads from the network"


def test_docs_extra_installs_mathjax():
    text = (ROOT / "pyproject.toml").read_text()
    docs_extra = re.search(r"^docs = \[(.*?)^\]", text, re.MULTILINE | re.DOTALL)
    assert docs_extra, "no docs extra in pyproject.toml"
    assert re.search(rf'"{MATHJAX_PACKAGE}\b', docs_extra.group(1))
