"""Sphinx configuration of the skcardio documentation site.

Build (from the repository root, after ``pip install -e ".[docs]"``)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

``-W`` turns every warning into an error. The gallery (``examples/``) runs on
the embedded sample while the site builds.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no GUI backend while examples run

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout, also without `pip install -e`
sys.path.insert(0, str(Path(__file__).resolve().parent))  # _scraper.py


import skcardio  # noqa: E402

project = "skcardio"
author = "the skcardio developers"
copyright = "2026, the skcardio developers; images: Sunnybrook Cardiac Data (CC0)"  # noqa: A001
version = release = skcardio.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb", "auto_examples/*.zip"]
templates_path = ["_templates"]

# API reference: one page per public object, generated from the docstrings.
autosummary_generate = True
autodoc_default_options = {
    "members": True,
    "inherited-members": False,
    # scikit-learn's metadata-routing setters: documented by scikit-learn, not here.
    "exclude-members": "set_fit_request, set_predict_request, set_score_request, set_transform_request, "
    "set_predict_proba_request, set_output",
}
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
numpydoc_show_class_members = False  # autosummary lists them; avoids duplicate stubs
numpydoc_class_members_toctree = False

# Markdown pages (docs/*.md): heading anchors so that "page.md#section" links resolve.
myst_heading_anchors = 3

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # every plot_*.py example is executed
    "image_scrapers": ("_scraper.figure_scraper",),  # by name: the config stays picklable
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    # An example that raises fails the build (with -W, its warnings too).
    "abort_on_example_error": True,
    "show_memory": False,
    "min_reported_time": 1,
}

html_theme = "alabaster"
html_static_path: list[str] = []
html_title = f"skcardio {release}"
html_theme_options = {
    "description": "scikit-learn-compatible left-ventricle segmentation in cardiac cine MRI",
    "fixed_sidebar": True,
}

# Sphinx reads no network: no intersphinx (the build must work offline).
os.environ.setdefault("SKCARDIO_DOCS_BUILD", "1")
