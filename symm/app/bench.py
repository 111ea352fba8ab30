"""``symm bench``: run the benchmark suite of a symm checkout and show its ratio tables.

The benchmarks are not part of the installed package: they live in ``benchmarks/`` at the root of a symm
checkout (``bench_stats.py``, ``bench_decompose.py``, ``bench_torch.py``, ...). ``symm bench`` looks for that
folder next to the imported ``symm`` package (an editable install or a checkout on ``sys.path``), then in the
current directory. It runs ``python -m benchmarks`` if the folder has a ``__main__.py``, otherwise every
``bench_*.py`` script in turn, in quick mode unless ``--full`` is given. Quick mode is announced to the
scripts both as the ``--quick`` option (for scripts that mention it) and as ``SYMM_BENCH_QUICK=1``.

Conventions of the scripts, which the summary reads: a script that cannot run here (a missing optional
library, no GPU) prints one line ``skipped: <reason>`` and exits 0; every row with a target ends in ``PASS``
or ``FAIL``, and the script ends with ``results: <n> PASS, <m> FAIL``. ``symm bench`` exits non-zero only
when a script crashed (a non-zero exit code), not when a row misses its target.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from symm.app.cli import CLIError, Command, write

__all__ = ["COMMAND", "find_benchmarks"]


def find_benchmarks(start: Path | None = None) -> Path | None:
    """The ``benchmarks/`` folder of the symm checkout in use, or ``None`` outside a checkout.

    Parameters
    ----------
    start : Path, optional
        Look here first (a checkout root); by default next to the imported package, then the current
        directory.
    """
    import symm

    candidates = [] if start is None else [Path(start)]
    candidates += [Path(symm.__file__).resolve().parent.parent, Path.cwd()]
    for root in candidates:
        folder = root / "benchmarks"
        if folder.is_dir() and ((folder / "__main__.py").exists() or any(folder.glob("bench_*.py"))):
            return folder
    return None


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--full", action="store_true", help="full sizes and repeats (default: quick mode)")
    p.add_argument(
        "--only",
        metavar="NAME",
        default=None,
        help="run only the scripts whose file name contains NAME (e.g. stats, torch)",
    )
    p.add_argument("--list", action="store_true", help="list the benchmark scripts and exit")
    p.add_argument("--path", metavar="DIR", default=None, help="a symm checkout to take benchmarks/ from")


_RESULTS = re.compile(r"^results: (\d+) PASS, (\d+) FAIL")


@dataclass
class _Outcome:
    """What one benchmark script did: its exit code, whether it skipped itself, and its PASS/FAIL counts."""

    code: int
    skipped: str | None = None
    passed: int = 0
    failed: int = 0

    def status(self) -> str:
        if self.code != 0:
            return f"CRASHED (exit {self.code})"
        if self.skipped is not None:
            return f"skipped: {self.skipped}"
        if self.passed or self.failed:
            return f"{self.passed} PASS, {self.failed} FAIL"
        return "ok"


def _stream(cmd: list[str], cwd: Path, env: dict[str, str]) -> _Outcome:
    """Run ``cmd``, forwarding its output line by line through the CLI's output function.

    A script that cannot run here (say, without torch) prints one line ``skipped: <reason>`` and exits 0; a
    script with targets ends with ``results: <n> PASS, <m> FAIL``. Both are read from the forwarded output.
    """
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    skipped, passed, failed = None, 0, 0
    out = proc.stdout
    if out is not None:
        for line in out:
            line = line.rstrip("\n")
            write(line)
            if line.startswith("skipped: "):
                skipped = line[len("skipped: ") :].strip()
            m = _RESULTS.match(line)
            if m:
                passed, failed = passed + int(m.group(1)), failed + int(m.group(2))
    return _Outcome(proc.wait(), skipped, passed, failed)


def machine_line() -> str:
    """Cores, the thread settings the benchmarks inherit, and the load: timings on a machine whose load
    exceeds its cores are dominated by threads waiting for a core (oversubscription), not by the code."""
    cores = os.cpu_count() or 1
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    threads = ", ".join(f"{k}={os.environ[k]}" for k in names if k in os.environ) or "library defaults"
    text = f"machine: {cores} cores; threads: {threads}"
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every platform
        return text
    text += f"; load {load:.2f}"
    if load > cores - 0.5:
        text += (
            " — WARNING: the machine is busy; multi-threaded timings will be dominated by oversubscription "
            "(rerun idle, or with OMP_NUM_THREADS=1)"
        )
    return text


def _run(args: argparse.Namespace) -> int:
    folder = find_benchmarks(Path(args.path) if args.path else None)
    if args.path and (folder is None or folder.parent.resolve() != Path(args.path).resolve()):
        raise CLIError(f"--path {args.path!r}: no benchmarks/ folder with bench_*.py scripts there")
    if folder is None:
        raise CLIError(
            "the benchmarks are not installed with the symm package; they live in benchmarks/ of a symm "
            "checkout: run `python -m symm bench` from the checkout root (or pass --path CHECKOUT)"
        )
    root = folder.parent
    quick = not args.full
    env = dict(os.environ)
    if quick:
        env["SYMM_BENCH_QUICK"] = "1"
    pythonpath = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(root) + (os.pathsep + pythonpath if pythonpath else "")

    if (folder / "__main__.py").exists() and not args.only and not args.list:
        cmd = [sys.executable, "-m", "benchmarks", *(["--quick"] if quick else [])]
        write(f"symm bench: {' '.join(cmd[1:])} (in {root}){' — quick mode' if quick else ''}")
        return 0 if _stream(cmd, root, env).code == 0 else 1

    scripts = sorted(folder.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if args.only in s.name]
        if not scripts:
            names = ", ".join(s.name for s in sorted(folder.glob("bench_*.py")))
            raise CLIError(f"--only {args.only!r}: no benchmark script in {folder} matches (scripts: {names})")
    if args.list:
        for s in scripts:
            write(str(s.relative_to(root)))
        return 0
    if not scripts:
        raise CLIError(f"{folder} holds no bench_*.py scripts")
    write(f"symm bench: {len(scripts)} script(s) from {folder}, {'quick' if quick else 'full'} mode")
    write(machine_line())
    summary = []
    for script in scripts:
        text = script.read_text(encoding="utf-8", errors="replace")
        extra = ["--quick"] if quick and "--quick" in text else []
        write("")
        write(f"== {script.name} {' '.join(extra)}".rstrip())
        t0 = time.perf_counter()
        outcome = _stream([sys.executable, str(script), *extra], root, env)
        summary.append((script.name, outcome, time.perf_counter() - t0))
    write("")
    write("summary (PASS/FAIL: rows against their targets; the exit code is non-zero only if a script crashed):")
    for name, outcome, dt in summary:
        write(f"  {name:<28} {dt:7.1f} s  {outcome.status()}")
    return 0 if all(outcome.code == 0 for _, outcome, _ in summary) else 1


#: the ``symm bench`` subcommand (registered in :data:`symm.app.cli.EXTERNAL_COMMANDS`)
COMMAND = Command("bench", "run the benchmark suite of a symm checkout (quick mode by default)", _run, _configure)
