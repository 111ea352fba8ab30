"""The README's front door: its set-up block has exactly two commands, and every python block runs."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks(language: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def test_setup_block_has_exactly_two_commands():
    text = README.read_text(encoding="utf-8")
    section = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```bash\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1
    commands = [line for line in blocks[0].splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert len(commands) == 2
    assert "python -m symm demo" in commands[0]
    assert commands[1].strip().endswith("nox")


def test_readme_has_python_examples():
    assert len(_blocks("python")) >= 2


@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_readme_python_block_runs(index):
    code = _blocks("python")[index]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"README.md[python block {index}]", "exec"), {"__name__": "__readme__"})
    # Every "# True ..." comment in the block must match what the block printed.
    printed = out.getvalue()
    for claim in re.findall(r"print\(.*\)\s*#\s*(True.*)$", code, flags=re.MULTILINE):
        expected = claim.split("...")[0].strip()
        assert expected in printed, (expected, printed)
