"""Checks that keep the documentation in step with the code (no doc build here)."""

import ast
import re
from pathlib import Path

import pytest

import sklearn_mtl
import sklearn_mtl.datasets

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"


def _public_names():
    names = [f"sklearn_mtl.{n}" for n in sklearn_mtl.__all__ if not n.startswith("_")]
    names += [f"sklearn_mtl.datasets.{n}" for n in sklearn_mtl.datasets.__all__]
    return names


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
