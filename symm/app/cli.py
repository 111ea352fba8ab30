"""The ``symm`` command line (``python -m symm`` / ``symm``).

Subcommands live in :data:`COMMANDS`. To add one, either decorate a function in this module::

    @command("demo", help="run a demo")
    def _demo(args: argparse.Namespace) -> int: ...

optionally with ``configure=`` (a function that adds arguments to the subparser), or register it from
another module, listed in :data:`EXTERNAL_COMMANDS` as ``"name": "module:attribute"`` where the attribute is
a :class:`Command`. External modules are imported only when the CLI runs; one that fails to import does not
break the others (running it reports the import error).

A subcommand returns an exit code. Raising :class:`CLIError` (or any exception) prints a one-line error to
stderr and exits with code 2, without a traceback (``SYMM_DEBUG=1`` shows it).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

__all__ = ["COMMANDS", "EXTERNAL_COMMANDS", "CLIError", "Command", "command", "main"]


class CLIError(Exception):
    """An error the user can act on; reported as one line, exit code 2."""


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    run: Callable[[argparse.Namespace], int | None]
    configure: Callable[[argparse.ArgumentParser], None] | None = None


COMMANDS: dict[str, Command] = {}

#: subcommands defined in other modules: name -> "module:attribute" (a Command)
EXTERNAL_COMMANDS: dict[str, str] = {
    "demo": "symm.app.demo:COMMAND",
    "bench": "symm.app.bench:COMMAND",
}


def command(name: str, *, help: str, configure: Callable[[argparse.ArgumentParser], None] | None = None):
    """Register the decorated function as subcommand ``name``."""

    def deco(func: Callable[[argparse.Namespace], int | None]):
        COMMANDS[name] = Command(name, help, func, configure)
        return func

    return deco


def _out(stream: TextIO | None = None) -> TextIO:
    return sys.stdout if stream is None else stream


def write(line: str = "", stream: TextIO | None = None) -> None:
    _out(stream).write(line + "\n")


# --------------------------------------------------------------------------------------------- info


def _configure_info(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--no-devices", action="store_true", help="do not import array libraries to list devices")


def info_report(*, probe_devices: bool = True) -> dict[str, Any]:
    """Everything ``symm info`` shows, as a JSON-friendly dict."""
    import platform

    from symm import _plugins
    from symm.app import environment

    try:
        symm_version = importlib.metadata.version("symm")
    except importlib.metadata.PackageNotFoundError:
        symm_version = None
    backends = environment.array_backends(probe_devices=probe_devices)
    plugins = _plugins.plugins()
    known_missing = sorted(set(_plugins.KNOWN_PLUGINS) - set(plugins))
    return {
        "symm": symm_version,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "backends": {k: v.as_dict() for k, v in backends.items()},
        "plugins": {
            k: {"distribution": v.distribution, "version": v.version, "entry_point": v.value}
            for k, v in plugins.items()
        },
        "plugins_not_installed": {k: _plugins.KNOWN_PLUGINS[k].install_hint().replace("`", "") for k in known_missing},
        "escnn": environment.escnn_info(),
    }


@command("info", help="show array backends, devices, plugins and escnn availability", configure=_configure_info)
def _info(args: argparse.Namespace) -> int:
    report = info_report(probe_devices=not args.no_devices)
    if args.json:
        write(json.dumps(report, indent=2))
        return 0
    write(f"symm {report['symm'] or '(not installed as a distribution)'}")
    write(f"python {report['python']} on {report['platform']}")
    write("")
    write("array backends:")
    for name, b in report["backends"].items():
        if not b["installed"]:
            write(f"  {name:<18} not installed")
            continue
        if b["devices"] is None:
            devices = "(not probed)"
        else:
            devices = ", ".join(b["devices"]) or "none"
        line = f"  {name:<18} {b['version'] or '?':<12} devices: {devices}"
        if b["note"]:
            line += f"  ({b['note']})"
        write(line)
    write("")
    write("plugins (entry points 'symm.backends'):")
    if not report["plugins"] and not report["plugins_not_installed"]:
        write("  none")
    for name, p in report["plugins"].items():
        write(f"  {name:<18} {p['distribution'] or '?'} {p['version'] or '?'}  ({p['entry_point']})")
    for name, hint in report["plugins_not_installed"].items():
        write(f"  {name:<18} not installed: {hint}")
    write("")
    e = report["escnn"]
    write(f"escnn: {('available, ' + str(e['version'])) if e['available'] else 'not installed'}")
    return 0


# --------------------------------------------------------------------------------------------- main


def _load_external() -> None:
    for name, target in EXTERNAL_COMMANDS.items():
        if name in COMMANDS:
            continue
        module, _, attr = target.partition(":")
        try:
            cmd = getattr(importlib.import_module(module), attr)
        except Exception as exc:
            message = f"subcommand {name!r} is unavailable: {type(exc).__name__}: {exc}"

            def unavailable(args: argparse.Namespace, _message: str = message) -> int:
                raise CLIError(_message)

            cmd = Command(name, f"(unavailable: {type(exc).__name__})", unavailable)
        COMMANDS[name] = cmd


def version_line() -> str:
    """``symm <version>`` and the installed plugins' versions, as ``symm --version`` prints it."""
    import symm
    from symm import _plugins

    line = f"symm {getattr(symm, '__version__', '?')}"
    try:
        plugins = _plugins.plugins()
    except Exception:  # a broken plugin must not break --version
        plugins = {}
    extra = [f"{p.distribution or name} {p.version or '?'}" for name, p in sorted(plugins.items())]
    return line + (f" (plugins: {', '.join(extra)})" if extra else "")


def build_parser() -> argparse.ArgumentParser:
    _load_external()
    parser = argparse.ArgumentParser(prog="symm", description="symm: statistics and learning with symmetry priors")
    parser.add_argument("--version", action="version", version=version_line(), help="show the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in sorted(COMMANDS):
        cmd = COMMANDS[name]
        p = sub.add_parser(name, help=cmd.help, description=cmd.help)
        if cmd.configure is not None:
            cmd.configure(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 success, 2 usage or runtime error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or usage error (2)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        code = COMMANDS[args.command].run(args)
    except BrokenPipeError:  # e.g. `symm info | head`
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("symm: interrupted\n")
        return 130
    except Exception as exc:
        if os.environ.get("SYMM_DEBUG"):
            raise
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        kind = "" if isinstance(exc, CLIError) else f"{type(exc).__name__}: "
        sys.stderr.write(f"symm {args.command}: error: {kind}{msg}\n")
        return 2
    return 0 if code is None else int(code)
