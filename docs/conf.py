"""Sphinx configuration of the nasicon-sim documentation site.

Build (warnings are errors, every tutorial is executed)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Why Sphinx with the PyData theme: the field's libraries that users already know (pymatgen,
ASE, numpy, scipy, scikit-learn) document themselves this way, so the layout is familiar;
autodoc/autosummary read the package's numpy-style docstrings as they are (napoleon);
sphinx-argparse renders the CLI reference from the real argparse parser, so it cannot drift;
myst-nb executes the tutorial pages at build time, so a broken example fails the build.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
# the tutorials run in a Jupyter kernel (a subprocess): make it import this checkout too
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

from nasicon_sim import __version__  # noqa: E402

project = "nasicon-sim"
author = "nasicon-sim developers"
copyright = "2026, nasicon-sim developers"
version = release = __version__

extensions = [
    "myst_nb",                     # Markdown pages (MyST) + executable tutorial pages
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",         # numpy-style docstrings
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinxarg.ext",               # CLI reference from the argparse parser
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**/.ipynb_checkpoints",
                    "jupyter_execute"]
templates_path = ["_templates"]

# MyST
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# myst-nb: execute every tutorial at every build; an error in a cell fails the build
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_show_tb = True       # the failing cell's traceback in the build log
nb_execution_timeout = 600
nb_execution_in_temp = True       # tutorials write their files in a scratch directory
nb_merge_streams = True

# Type descriptions in numpy docstrings ("(n_atoms, 3) array") are cross-referenced word by
# word; words like n_atoms name attributes of several classes, and Sphinx warns that the
# reference is ambiguous. Those words are not meant as links.
suppress_warnings = ["ref.python"]

# autodoc / autosummary
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "description"
autodoc_member_order = "bysource"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False

# HTML: PyData theme, offline (no CDN fonts or analytics are needed to browse _build/html)
html_theme = "pydata_sphinx_theme"
html_title = f"nasicon-sim {__version__}"
html_static_path = ["_static"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_show_sourcelink = False


def _escape_bars(app, what, name, obj, options, lines):
    """Docstrings write absolute values and norms as |x| (plain text, read in a terminal);
    reStructuredText would take them for substitutions. Escape bars outside table rows."""
    for i, line in enumerate(lines):
        row = line.strip()
        if "|" in line and not (row.startswith(("|", "+")) and row.endswith(("|", "+"))):
            lines[i] = line.replace("|", r"\|")


def setup(app):
    app.connect("autodoc-process-docstring", _escape_bars)
