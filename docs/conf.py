"""Sphinx configuration for the symm documentation.

Build: ``nox -s docs`` (HTML with warnings as errors, then the doctest builder), or by hand::

    sphinx-build -W --keep-going -b html docs docs/_build/html
    sphinx-build -W --keep-going -b doctest docs docs/_build/doctest

Every ``>>>`` example in these pages and in the API docstrings is executed by the doctest builder; the
figures of the math guide are drawn at build time by matplotlib's ``plot`` directive (no committed images).
Examples that need an optional library (torch, JAX, CuPy, escnn) are skipped when it is not installed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # build from a checkout without installing

os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("SYMM_NO_PROGRESS", "1")

import symm  # noqa: E402

project = "symm"
author = "the symm developers"
copyright = "the symm developers"
release = symm.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "matplotlib.sphinxext.plot_directive",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "gallery/*.rst", "auto_examples/*.ipynb"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"

# pydata-sphinx-theme (the theme of NumPy, SciPy, pandas, ...): a wide content column, and code blocks that
# scroll instead of being cut off; custom.css widens the page a little more and wraps nothing.
html_theme = "pydata_sphinx_theme"
html_title = "symm"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {
    page: [] for page in ("index", "getting-started", "math", "continuous", "benchmarks", "from-symm-learning")
}

# -- API reference -------------------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # numpydoc sections carry the types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable/", None),
}
# Offline builds (CI has no network) must not warn about unreachable inventories.
if os.environ.get("SYMM_DOCS_OFFLINE", "1") == "1":
    intersphinx_mapping = {}

# -- executed examples ---------------------------------------------------------------------------------
doctest_global_setup = f"""
EXAMPLES = {str(HERE / "examples")!r}
import importlib.util as _ilu
import numpy as np
import symm

def _have(name):
    try:
        return _ilu.find_spec(name) is not None
    except (ImportError, ValueError):
        return False

HAVE_TORCH = _have("torch")
HAVE_JAX = _have("jax")
HAVE_ESCNN = _have("escnn")
HAVE_CUPY = False
if _have("cupy"):
    try:
        import cupy as _cupy
        HAVE_CUPY = _cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        HAVE_CUPY = False
"""
doctest_default_flags = (
    __import__("doctest").ELLIPSIS
    | __import__("doctest").NORMALIZE_WHITESPACE
    | __import__("doctest").DONT_ACCEPT_TRUE_FOR_1
)


# autosummary cuts a one-line summary at the first ". " even inside an inline literal (``a ... b``), which
# leaves an unterminated literal and a warning. Write such ellipses as "…" in the rendered docstrings.
_LITERAL = re.compile(r"``[^`]+``")


def _ellipsis_in_literals(app, what, name, obj, options, lines) -> None:
    for i, line in enumerate(lines):
        if line.lstrip().startswith((">>>", "...")):
            continue
        lines[i] = _LITERAL.sub(lambda m: m.group(0).replace("...", "…").replace(" .. ", " … "), line)


def setup(app):
    app.connect("autodoc-process-docstring", _ellipsis_in_literals, priority=100)


# -- example gallery (sphinx-gallery) --------------------------------------------------------------------
# docs/gallery/plot_*.py are executed at build time (figures, printed output and run time on each page;
# sg_execution_times lists the times). Other scripts there are shown but not run here: escnn_interop.py needs
# escnn, hence numpy<2, and runs in the escnn nox session instead. A failing example fails the build.
sphinx_gallery_conf = {
    "examples_dirs": str(HERE / "gallery"),
    "gallery_dirs": str(HERE / "auto_examples"),
    "filename_pattern": r"[\\/]plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "show_memory": False,
    "min_reported_time": 0,
    "plot_gallery": "True",
}
if importlib.util.find_spec("symm_torch") is None:
    # Without the plugin (a core-only docs build), show the torch examples without running them.
    sphinx_gallery_conf["filename_pattern"] = r"[\\/]plot_(?!.*(emlp|torch))"

# -- figures -------------------------------------------------------------------------------------------
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]
plot_rcparams = {"figure.max_open_warning": 0}
plot_pre_code = "import numpy as np\nimport matplotlib.pyplot as plt\n"

# -- the optional torch plugin page ---------------------------------------------------------------------
# symm-torch may not be installed (or not written yet) when the docs are built: generate its page here, as
# an API reference when it imports and as a short note otherwise, so that both cases build without warnings.
GENERATED = HERE / "generated"
GENERATED.mkdir(exist_ok=True)


def _torch_plugin_page() -> str:
    title = "symm-torch (the torch plugin)"
    head = f"{title}\n{'=' * len(title)}\n\n"
    if importlib.util.find_spec("symm_torch") is None:
        return head + (
            "``symm-torch`` was not installed when this site was built, so its reference is not included.\n"
            "It is not on PyPI yet; from a checkout, install it with\n"
            '``pip install . ./backends/torch "torch==2.13.0"`` and rebuild the documentation to see it here.\n'
        )
    try:
        importlib.import_module("symm_torch")
    except Exception as exc:  # installed but broken: say so rather than fail the whole site
        return head + f"``symm_torch`` is installed but failed to import (``{type(exc).__name__}``).\n"
    body = head + (
        "Equivariant torch modules built on symm. Every module accepts :class:`symm.Rep` types, plain tensors\n"
        "and, when escnn is installed, escnn ``FieldType`` / ``GeometricTensor``; ``export()`` returns plain\n"
        "``torch.nn`` modules.\n\n"
    )
    for sub, title in (("nn", "Layers"), ("models", "Models")):
        try:
            module = importlib.import_module(f"symm_torch.{sub}")
        except Exception:
            continue
        names = [n for n in getattr(module, "__all__", []) if not n.startswith("_")]
        if not names:
            continue
        heading = f"{title} (``symm_torch.{sub}``)"
        body += f"{heading}\n{'-' * len(heading)}\n\n.. autosummary::\n   :toctree: .\n\n"
        body += "".join(f"   symm_torch.{sub}.{n}\n" for n in names) + "\n"
    return body


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


_write_if_changed(GENERATED / "symm_torch.rst", _torch_plugin_page())

# -- the core API page ---------------------------------------------------------------------------------
# Built from ``symm.__all__`` so that every public name is documented, whatever has landed; names are grouped
# by topic and anything new goes to "Other".
API_SECTIONS: list[tuple[str, list[str]]] = [
    ("Groups and representations", ["Group", "Rep", "Irrep", "IsotypicComponent", "direct_sum"]),
    ("Statistics", ["mean", "var", "var_mean", "cov", "SymmetricMoments"]),
    (
        "Equivariant linear algebra",
        [
            "lstsq",
            "project_equivariant",
            "invariant_orthogonal_projector",
            "invariant_sym_dim",
            "hom_basis",
            "HomBasis",
            "hom_dim",
            "to_isotypic",
            "from_isotypic",
            "irrep_norms",
        ],
    ),
    ("Plugins", ["plugins"]),
]
MODULES = ["groups", "testing"]


API_INTRO = """\
API reference
=============

.. currentmodule:: symm

Everything below is importable from the top-level ``symm`` package. Array arguments may come from any Array
API library (NumPy, CuPy, PyTorch, JAX, Dask, array-api-strict); results are in the input's namespace, on its
device and in its dtype. Samples are along axis 0: ``x`` has shape ``(N, D)``. Representation bookkeeping
(groups, reps, change of basis) is host-side NumPy float64.

"""


def _api_page() -> str:
    public = [n for n in getattr(symm, "__all__", []) if n not in MODULES]
    seen: set[str] = set()
    out = [API_INTRO]
    for title, names in [*API_SECTIONS, ("Other", public)]:
        present = [n for n in names if n in public and n not in seen]
        if not present:
            continue
        seen.update(present)
        out.append(f"{title}\n{'-' * len(title)}\n\n.. autosummary::\n   :toctree: .\n\n")
        out.append("".join(f"   {n}\n" for n in present) + "\n")
    for mod in MODULES:
        if mod in getattr(symm, "__all__", []):
            title = f"symm.{mod}"
            out.append(f"{title}\n{'-' * len(title)}\n\n.. automodule:: symm.{mod}\n   :members:\n\n")
    # semi-public: the tools plugins build on (see the Architecture page)
    out.append("symm.internal\n-------------\n\n.. automodule:: symm.internal\n   :members:\n\n")
    return "".join(out)


_write_if_changed(GENERATED / "api.rst", _api_page())
