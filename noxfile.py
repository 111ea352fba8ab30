"""Every backend x the same tests; escnn interop; lint; docs; bench.

``nox`` with no arguments runs the 8 default sessions, each in its own virtual environment under ``.nox/``:
``tests(numpy)``, ``tests(array_api_strict)``, ``tests(torch)``, ``tests(jax)``, ``tests(dask)``, ``escnn``,
``lint`` and ``docs``. On 2 idle CPU cores that is about 8 minutes (12 to 18 when other work shares them) and
5 GB of disk the first time, most of the disk for torch and jax in several environments (``nox -r`` reuses
them). The quick check is ``nox -s "tests(numpy)"``: the NumPy suite and the docstring examples, about 30 s
with its environment.
GPU sessions are tagged ``gpu`` (``nox -t gpu``); benchmarks are ``nox -s bench``.

pytest runs with ``-rfE``: failures and errors are listed one by one, and skips are summarised once at the end,
one line per distinct reason with its count (``.ci/skip_summary.py``). Most skips are expected: a session
runs one array backend, so the other backends' parametrisations skip as "not selected in this session".

Environment:
    SYMM_TORCH_REQ       pip requirement for torch (default ``torch==2.13.0``, the version the README's
                         plugin line pins and CI tests; ``.ci/run`` sets it to the same CPU build). Which build
                         pip takes depends on your index; an unpinned ``torch`` pulls the newest default build,
                         a multi-GB CUDA build on Linux.
    SYMM_TORCH_CUDA_REQ  pip requirement for torch in ``tests(torch-cuda)`` (default ``torch==2.13.0``).
    SYMM_CUPY_REQ        pip requirement for cupy (default ``cupy-cuda12x``).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time

import nox

nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = True

PYTHON = "3.11"
TORCH_PLUGIN = "backends/torch"
TEST_DEPS = ["pytest>=7", "array-api-strict>=2.0"]
LINT_PATHS = ["symm", "backends", "tests", "benchmarks", "docs", "noxfile.py", ".ci"]
README = "README.md"
TORCH_PIN = "torch==2.13.0"  # the default torch requirement: the version CI tests (never an unpinned torch)
PYTEST_REPORT = ["-rfE", "-p", "skip_summary"]  # the plugin is .ci/skip_summary.py (PYTHONPATH below)

# backend id -> (extra pip requirements, SYMM_BACKENDS value)
BACKENDS: dict[str, tuple[list[str], str]] = {
    "numpy": ([], "numpy"),
    "array_api_strict": ([], "array_api_strict"),
    "torch": (["@torch"], "torch"),
    "jax": (["jax"], "jax"),
    "dask": (["dask[array]", "distributed"], "dask"),
    "cupy": (["numpy>=2", "@cupy"], "cupy"),
    "torch-cuda": (["@torch-cuda"], "torch-cuda"),
}
CPU_BACKENDS = ["numpy", "array_api_strict", "torch", "jax", "dask"]
GPU_BACKENDS = ["cupy", "torch-cuda"]

nox.options.sessions = [f"tests({b})" for b in CPU_BACKENDS] + ["escnn", "lint", "docs"]


def _torch_req() -> str:
    return os.environ.get("SYMM_TORCH_REQ", TORCH_PIN)


def _resolve(req: str) -> str:
    return {
        "@torch": _torch_req(),
        "@torch-cuda": os.environ.get("SYMM_TORCH_CUDA_REQ", TORCH_PIN),
        "@cupy": os.environ.get("SYMM_CUPY_REQ", "cupy-cuda12x"),
    }.get(req, req)


def _nvidia_gpu() -> str | None:
    """A description of the NVIDIA GPUs found by ``nvidia-smi -L``, or None."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 and "GPU" in out.stdout else None


def _has_torch_plugin() -> bool:
    return os.path.exists(os.path.join(TORCH_PLUGIN, "pyproject.toml"))


def _install(session: nox.Session, *args: str) -> None:
    t0 = time.perf_counter()
    session.install(*args)
    session.log(f"install took {time.perf_counter() - t0:.1f}s: {' '.join(args)}")


def _install_symm(session: nox.Session, *, torch_plugin: bool) -> None:
    _install(session, "-e", ".")
    if torch_plugin and _has_torch_plugin():
        _install(session, "-e", TORCH_PLUGIN)


def _pytest(session: nox.Session, backends: str, *, torch_plugin: bool) -> None:
    paths = ["tests"]
    plugin_tests = os.path.join(TORCH_PLUGIN, "tests")
    if torch_plugin and _has_torch_plugin() and os.path.isdir(plugin_tests):
        paths.append(plugin_tests)
    # One pytest run over all paths: tests/ always collects tests, so pytest's exit code 5 cannot occur.
    session.run(
        "python",
        "-m",
        "pytest",
        *paths,
        *PYTEST_REPORT,
        *session.posargs,
        env={"SYMM_BACKENDS": backends, "JAX_ENABLE_X64": "1", "PYTHONPATH": _ci_path()},
    )


def _ci_path() -> str:
    """``.ci`` (for the pytest plugin ``skip_summary``) in front of any ``PYTHONPATH`` already set."""
    ci = os.path.abspath(".ci")
    return os.pathsep.join(p for p in (ci, os.environ.get("PYTHONPATH", "")) if p)


def readme_plugin_install() -> list[str]:
    """The pip arguments of the README's plugin line (``pip install ... ./backends/torch ...``).

    The docs session installs the plugin with exactly this line, so the line is tested by ``nox``. A torch
    requirement in it is replaced by ``SYMM_TORCH_REQ`` when that is set (CI pins a CPU build).
    """
    import shlex

    with open(README, encoding="utf-8") as f:
        lines = [line for line in f if line.startswith("pip install") and "./backends/torch" in line]
    if len(lines) != 1:
        raise RuntimeError(
            f"{README} must have exactly one 'pip install ... ./backends/torch' line, found {len(lines)}"
        )
    words = shlex.split(lines[0].split("&&")[0].split("#")[0])[2:]  # drop "pip install"
    if os.environ.get("SYMM_TORCH_REQ"):
        words = [_torch_req() if w.startswith("torch") and not w.startswith("torch_") else w for w in words]
    return words


@nox.session(python=PYTHON)
@nox.parametrize(
    "backend",
    [nox.param(b, id=b) for b in CPU_BACKENDS] + [nox.param(b, id=b, tags=["gpu"]) for b in GPU_BACKENDS],
)
def tests(session: nox.Session, backend: str) -> None:
    """The numerical suite on one array backend (its own venv, only that backend installed)."""
    reqs, selection = BACKENDS[backend]
    if backend in GPU_BACKENDS:
        gpu = _nvidia_gpu()
        if gpu is None and not os.environ.get("SYMM_FORCE_GPU_SESSIONS"):
            # Skip before installing multi-GB CUDA wheels; SYMM_FORCE_GPU_SESSIONS=1 installs and runs anyway
            # (the GPU tests then skip inside pytest with the reason).
            session.skip(f"no CUDA GPU (nvidia-smi -L found none): {backend} needs one")
        session.log(f"GPUs: {gpu}")
    uses_torch = backend in ("torch", "torch-cuda")
    _install(session, *[_resolve(r) for r in reqs], *TEST_DEPS)
    _install_symm(session, torch_plugin=uses_torch)
    _pytest(session, selection, torch_plugin=uses_torch)
    if backend == "numpy":  # every docstring example of the core runs
        session.run(
            "python", "-m", "pytest", "--doctest-modules", "symm", "-q", *PYTEST_REPORT, env={"PYTHONPATH": _ci_path()}
        )


@nox.session(python=PYTHON)
def escnn(session: nox.Session) -> None:
    """NumPy and torch backends with escnn installed, for the interop tests (escnn needs numpy<2)."""
    # escnn's hard dependency py3nj needs a Fortran compiler, and escnn only imports it optionally:
    # install escnn without dependencies, then the dependencies it needs at import.
    # lie_learn is built against NumPy 1: pin numpy<2 for every install of this session.
    constraints = os.path.join(session.create_tmp(), "escnn-constraints.txt")
    with open(constraints, "w") as f:
        f.write("numpy<2\n")
    pin = ["-c", constraints]
    _install(session, *pin, "numpy<2", _torch_req(), *TEST_DEPS)
    _install(session, "--no-deps", "escnn")
    _install(session, *pin, "lie_learn", "joblib", "pymanopt", "autograd", "scipy")
    _install(session, *pin, "-e", ".")
    if _has_torch_plugin():
        _install(session, *pin, "-e", TORCH_PLUGIN)
    session.run(
        "python",
        "-c",
        "import escnn.gspaces, escnn.nn; G = escnn.group.cyclic_group(3); "
        "escnn.nn.FieldType(escnn.gspaces.no_base_space(G), [G.regular_representation])",
    )
    _pytest(session, "numpy,torch", torch_plugin=True)
    # The gallery's escnn example cannot run in the docs session (escnn needs numpy<2): it runs here.
    for script in sorted(glob.glob("docs/gallery/*escnn*.py")):
        session.run("python", script, env={"MPLBACKEND": "agg"})


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    _install(session, "ruff==0.17.6")
    paths = [p for p in LINT_PATHS if os.path.exists(p)]
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the Sphinx site with warnings as errors: the example gallery runs (sphinx-gallery), then every
    ``>>>`` example runs (doctest builder).

    symm and the torch plugin are installed with the README's plugin line, so that line is tested here; the
    gallery's EMLP example then runs a forward pass and training with the installed plugin.
    """
    _install(session, "-r", "docs/requirements.txt", "jax")
    plugin_line = readme_plugin_install() if _has_torch_plugin() else [".", _torch_req()]
    _install(session, *plugin_line)
    info = session.run("python", "-m", "symm", "info", "--no-devices", silent=True)
    if _has_torch_plugin() and "symm-torch" not in (info or ""):
        session.error(f"the README's plugin line ({' '.join(plugin_line)}) did not install a plugin symm finds")
    t0 = time.perf_counter()
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html", *session.posargs)
    session.log(f"html build (with the example gallery) took {time.perf_counter() - t0:.1f}s")
    # Every executed gallery example (plot_*.py) must have put its figure into the HTML.
    missing = [
        path
        for path in sorted(glob.glob("docs/gallery/plot_*.py"))
        if not os.path.exists(f"docs/_build/html/_images/sphx_glr_{os.path.basename(path)[:-3]}_001.png")
    ]
    if missing:
        session.error(f"gallery examples without a figure in docs/_build/html/_images: {', '.join(missing)}")
    session.run(
        "sphinx-build",
        "-W",
        "--keep-going",
        "-b",
        "doctest",
        "docs",
        "docs/_build/doctest",
        env={"JAX_ENABLE_X64": "1"},
    )


@nox.session(python=PYTHON, default=False, tags=["bench"])
def bench(session: nox.Session) -> None:
    """Benchmarks against the alternatives (not part of the default run)."""
    scripts = sorted(glob.glob("benchmarks/bench_*.py"))
    has_main = os.path.exists("benchmarks/__main__.py")
    if not has_main and not scripts:
        session.skip("no benchmarks yet (benchmarks/__main__.py or benchmarks/bench_*.py)")
    reqs = "benchmarks/requirements.txt"
    _install(session, _torch_req())
    if os.path.exists(reqs):
        _install(session, "-r", reqs)
    _install_symm(session, torch_plugin=True)
    if has_main:
        session.run("python", "-m", "benchmarks", *session.posargs)
    else:
        for script in scripts:
            session.run("python", script, *session.posargs)
