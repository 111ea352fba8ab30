"""``python -m symm`` / the ``symm`` console script."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from symm.app import cli as _cli


def run_module(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symm", *args], capture_output=True, text=True, timeout=300)


def test_info_subprocess_lists_numpy():
    out = run_module("info")
    assert out.returncode == 0, out.stderr
    assert "numpy" in out.stdout
    assert "plugins" in out.stdout
    assert "escnn" in out.stdout
    assert "Traceback" not in out.stderr


def test_info_json(capsys):
    assert _cli.main(["info", "--json", "--no-devices"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["backends"]["numpy"]["installed"] is True
    assert report["backends"]["numpy"]["version"]
    assert set(report) >= {"backends", "plugins", "escnn", "python"}
    assert isinstance(report["escnn"]["available"], bool)


def test_info_text(capsys):
    assert _cli.main(["info"]) == 0
    text = capsys.readouterr().out
    assert "numpy" in text and "devices: cpu" in text


def test_unknown_subcommand_exit_2(capsys):
    assert _cli.main(["no-such-command"]) == 2


def test_no_subcommand_exit_2(capsys):
    assert _cli.main([]) == 2


def test_help_exit_0(capsys):
    assert _cli.main(["--help"]) == 0
    assert "info" in capsys.readouterr().out


def test_error_is_one_line_exit_2(monkeypatch, capsys):
    def boom(args):
        raise ValueError("bad things\nsecond line")

    monkeypatch.setitem(_cli.COMMANDS, "boom", _cli.Command("boom", "fails", boom))
    assert _cli.main(["boom"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "symm boom: error: ValueError: bad things"


def test_cli_error_message(monkeypatch, capsys):
    def boom(args):
        raise _cli.CLIError("no such group 'X'")

    monkeypatch.setitem(_cli.COMMANDS, "boom", _cli.Command("boom", "fails", boom))
    assert _cli.main(["boom"]) == 2
    assert capsys.readouterr().err.strip() == "symm boom: error: no such group 'X'"


def test_external_command_that_fails_to_import(monkeypatch, capsys):
    monkeypatch.setitem(_cli.EXTERNAL_COMMANDS, "ghost", "symm_no_such_module_xyz:cmd")
    monkeypatch.setattr(_cli, "COMMANDS", dict(_cli.COMMANDS))
    assert _cli.main(["info", "--no-devices"]) == 0  # the others still work
    capsys.readouterr()
    assert _cli.main(["ghost"]) == 2
    assert "unavailable" in capsys.readouterr().err


def test_console_script_entry():
    from symm.__main__ import main

    assert main is _cli.main


@pytest.mark.parametrize("argv", [["info", "--bogus-flag"]])
def test_bad_flag_exit_2(argv, capsys):
    assert _cli.main(argv) == 2


def test_version(capsys):
    import symm

    assert _cli.main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"symm {symm.__version__}")
