"""The README's front door: its set-up block has exactly two commands, the plugin installs in one line, the
quick check names a real session, and every python block runs (the torch block where the plugin is installed).

The plugin line itself is executed by ``nox -s docs``, which installs symm and the plugin with exactly that
line (``noxfile.readme_plugin_install``) and checks that ``python -m symm info`` then lists the plugin.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PLUGIN_README = ROOT / "backends" / "torch" / "README.md"


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


def _plugin_lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.startswith("pip install") and "./backends/torch" in line]


@pytest.mark.parametrize("path", [README, PLUGIN_README], ids=["README", "backends/torch/README"])
def test_plugin_installs_in_one_line(path):
    lines = _plugin_lines(path)
    assert len(lines) == 1, lines
    words = shlex.split(lines[0].split("&&")[0])[2:]
    assert "." in words, "the line installs the core too: symm is not on PyPI"
    torch_reqs = [w for w in words if re.fullmatch(r"torch\s*==\s*[\w.+]+", w)]
    assert len(torch_reqs) == 1, f"the torch requirement is pinned (an unpinned torch pulls a CUDA build): {words}"
    assert (ROOT / "backends" / "torch" / "pyproject.toml").exists()
    assert "python -m symm info" in lines[0]
    assert "pip install symm-torch" not in path.read_text(encoding="utf-8"), "not on PyPI yet"


def test_both_readmes_give_the_same_plugin_line():
    assert _plugin_lines(README) == _plugin_lines(PLUGIN_README)


def test_quick_check_names_default_sessions():
    text = README.read_text(encoding="utf-8")
    noxfile = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    backends = re.search(r"^CPU_BACKENDS = \[(.*?)\]", noxfile, flags=re.MULTILINE).group(1)
    sessions = {f"tests({b})" for b in re.findall(r'"([\w-]+)"', backends)} | {"escnn", "lint", "docs"}
    named = set(re.findall(r"`(tests\([\w-]+\)|escnn|lint|docs)`", text))
    assert named == sessions, (named, sessions)
    assert 'nox -s "tests(numpy)"' in text
    assert re.search(r"about \d+ minutes and \d+ GB", text), "the README states what the full nox costs"


@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_readme_python_block_runs(index):
    code = _blocks("python")[index]
    if "symm_torch" in code and importlib.util.find_spec("symm_torch") is None:
        pytest.skip("needs the torch plugin (the README's plugin line)")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"README.md[python block {index}]", "exec"), {"__name__": "__readme__"})
    # Every "# True ..." comment in the block must match what the block printed.
    printed = out.getvalue()
    for claim in re.findall(r"print\(.*\)\s*#\s*(True.*)$", code, flags=re.MULTILINE):
        expected = claim.split("...")[0].strip()
        assert expected in printed, (expected, printed)
