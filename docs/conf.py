"""Sphinx configuration for the sklearn_mtl documentation.

Build with ``make -C docs html`` (warnings are errors). Needs the ``docs`` extra:
``pip install -e ".[docs]"``. No network is needed at build time: no intersphinx
inventories are fetched and the gallery uses generated data only.
"""

import importlib.util
import os
import re
import sys
from pathlib import Path

# The gallery runs small problems, where multi-threaded BLAS costs more in
# thread hand-offs than it gains (about twice the CPU time on a busy 2-core
# machine). Set before NumPy is first imported; the environment can override.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

DOCS_DIR = Path(__file__).resolve().parent
REPO_DIR = DOCS_DIR.parent
# Document (and run the gallery on) this checkout's sources, also when another
# copy of the package is installed; plus the local Sphinx helpers.
sys.path.insert(0, str(REPO_DIR))
sys.path.insert(0, str(DOCS_DIR / "_sphinxext"))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import sklearn_mtl  # noqa: E402

# -- Project information -----------------------------------------------------

project = "sklearn_mtl"
author = "sklearn_mtl developers"
copyright = "2026, sklearn_mtl developers"
release = sklearn_mtl.__version__
version = ".".join(release.split(".")[:2])

# -- General configuration ---------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
# auto_examples/*.rst are included by the gallery index; the execution-time
# summary page is not part of any toctree.
exclude_patterns += ["sg_execution_times.rst"]
default_role = "literal"
root_doc = "index"

# autosummary writes one page per public object into docs/generated/.
autosummary_generate = True
autodoc_default_options = {}
autodoc_typehints = "none"

# numpydoc renders the docstrings; the class template lists the methods, so
# numpydoc must not add its own members table. Validation makes an
# undocumented parameter or a missing return section a warning, hence an
# error under -W.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
numpydoc_validation_checks = {"GL08", "PR01", "PR02", "PR07", "RT01"}
# Inherited scikit-learn methods (set_params, get_metadata_routing, ...) are
# documented by scikit-learn, not here: validate only this package's objects.
numpydoc_validation_exclude = {
    r"\.get_metadata_routing$",
    r"\.set_\w+_request$",
    r"\.get_params$",
    r"\.set_params$",
    r"\.set_output$",
    r"\.fit_transform$",
    r"\.__init__$",
}

# MathJax is served from the built site itself, not from a CDN, so the math
# renders offline and behind proxies. The sphinx-mathjax-offline package (in
# the ``docs`` extra) ships the MathJax 3 distribution; it is used here only
# as data, not as a Sphinx extension (which would not declare itself
# parallel-safe, a warning and so an error under ``-j``). Its static/ folder
# goes into html_static_path (below), giving _static/mathjax/. The SVG output
# carries its glyphs inside the script, so no web-font files need loading,
# which some browsers refuse from file:// pages.
_MATHJAX_PACKAGE = "sphinx-mathjax-offline"
_mathjax_spec = importlib.util.find_spec(_MATHJAX_PACKAGE)
if _mathjax_spec is None or not _mathjax_spec.submodule_search_locations:
    raise ImportError(
        f"{_MATHJAX_PACKAGE} is missing; install the docs extra: "
        'pip install -e ".[docs]"'
    )
MATHJAX_STATIC_DIR = Path(_mathjax_spec.submodule_search_locations[0]) / "static"
mathjax_path = "mathjax/tex-svg.js"
if not (MATHJAX_STATIC_DIR / mathjax_path).is_file():
    raise FileNotFoundError(f"no {mathjax_path} in {MATHJAX_STATIC_DIR}")

# -- HTML output -------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn_mtl {release}"
# MATHJAX_STATIC_DIR holds mathjax/: copied to _build/html/_static/mathjax/.
html_static_path = ["_static", str(MATHJAX_STATIC_DIR)]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"index": [], "install": []}
html_context = {"default_mode": "light"}

# -- sphinx-gallery ----------------------------------------------------------


sphinx_gallery_conf = {
    "examples_dirs": [str(REPO_DIR / "examples")],
    "gallery_dirs": ["auto_examples"],
    # Only plot_*.py files are gallery examples; examples/quickstart.py is the
    # README's script and is not part of the gallery.
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(quickstart\.py|__init__\.py)",
    # The order in which the user guide teaches (docs/_sphinxext/gallery_order.py).
    "within_subsection_order": "gallery_order.TeachingOrder",
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("sklearn_mtl",),
    "download_all_examples": False,
    # The execution-times page loads its tables' scripts from CDNs; the docs
    # must read offline.
    "write_computation_times": False,
    "remove_config_comments": True,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "show_memory": False,
    "plot_gallery": "True",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "min_reported_time": 1,
}


# -- Links to scikit-learn and NumPy without intersphinx ------------------------
#
# The build must work offline, so no intersphinx inventory is fetched. Instead,
# references to ``sklearn.*`` and ``numpy.*`` objects (from our docstrings and
# from docstrings inherited from scikit-learn, such as ``score``) are resolved to
# their pages on the projects' sites by a ``missing-reference`` handler.

SKLEARN_URL = "https://scikit-learn.org/stable/"
NUMPY_URL = "https://numpy.org/doc/stable/reference/generated/"

# User-guide labels that docstrings inherited from scikit-learn refer to.
SKLEARN_LABELS = {
    "r2_score": "modules/model_evaluation.html#r2-score",
    "accuracy_score": "modules/model_evaluation.html#accuracy-score",
    "metadata_routing": "metadata_routing.html",
    "set_output": "auto_examples/miscellaneous/plot_set_output.html",
}


def _external_url(domain, reftype, target):
    if domain == "std" and reftype == "ref" and target in SKLEARN_LABELS:
        return SKLEARN_URL + SKLEARN_LABELS[target]
    if domain == "std" and reftype == "term":
        # :term:`fit`, :term:`Glossary <random_state>`: scikit-learn's glossary.
        anchor = "term-" + "-".join(target.split())
        return f"{SKLEARN_URL}glossary.html#{anchor}"
    if domain != "py":
        return None
    if target.startswith("sklearn."):
        if reftype == "mod":
            return f"{SKLEARN_URL}api/index.html"
        parts = target.split(".")
        # The page is the first object in the dotted path (a class or a
        # function); anything after it (a method, an attribute) is an anchor.
        cut = next(
            (i + 1 for i, part in enumerate(parts) if part[:1].isupper()),
            len(parts),
        )
        page = ".".join(parts[:cut])
        anchor = f"#{target}" if cut < len(parts) else ""
        return f"{SKLEARN_URL}modules/generated/{page}.html{anchor}"
    if target.startswith(("numpy.", "np.")):
        target = "numpy." + target.split(".", 1)[1]
        return f"{NUMPY_URL}{target}.html"
    return None


def _resolve_external(app, env, node, contnode):
    from docutils import nodes

    url = _external_url(node.get("refdomain"), node.get("reftype"), node["reftarget"])
    if url is None:
        return None
    ref = nodes.reference("", "", internal=False, refuri=url)
    ref.append(contnode)
    return ref


# ``ndarray of shape (n_features_in_,)`` is the scikit-learn way to write a
# shape, but in reST a word ending in ``_`` is a hyperlink reference. Quote such
# names inside shapes (escape the ``_``), for every docstring.
_SHAPE = re.compile(r"shape \(([^()]*)\)")
_TRAILING_UNDERSCORE = re.compile(r"(?<![`\w])(\w+)_(?![`\w])")


def _quote_shape_names(app, what, name, obj, options, lines):
    def quote(match):
        inner = _TRAILING_UNDERSCORE.sub(r"\1\\_", match.group(1))
        return f"shape ({inner})"

    lines[:] = [_SHAPE.sub(quote, line) for line in lines]


def setup(app):
    app.connect("missing-reference", _resolve_external)
    app.connect("autodoc-process-docstring", _quote_shape_names, priority=400)
