"""The layout rules of docs/architecture.rst, checked on the source: no import cycle inside ``symm``, no private
name imported across modules (except from ``symm._xp``), nothing in the library imports ``symm.app`` (only
``python -m symm`` does), and the
torch plugin imports only ``symm`` and ``symm.internal``.

Every ``import`` statement counts, also the ones inside functions (a deferred import is still a dependency);
only blocks under ``if TYPE_CHECKING:`` are left out, since they never run.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "backends" / "torch" / "symm_torch"


def _module_name(path: Path, base: Path, package: str) -> str:
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([package, *parts])


def _modules(base: Path, package: str) -> dict[str, Path]:
    return {_module_name(p, base, package): p for p in sorted(base.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """``(module, names, line)`` for every import statement that can run (``names`` empty for ``import m``)."""
    found: list[tuple[str, list[str], int]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, [], child.lineno) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.append((child.module, [alias.name for alias in child.names], child.lineno))
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    return found


SYMM = _modules(ROOT / "symm", "symm")


def _targets(module: str, names: list[str]) -> list[str]:
    """The symm modules an import statement loads: the module itself, or the submodules it names."""
    subs = [f"{module}.{n}" for n in names if f"{module}.{n}" in SYMM]
    return subs or ([module] if module in SYMM else [])


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in SYMM}
    for mod, path in SYMM.items():
        for target, names, _ in _imports(path):
            if target == "symm" or target.startswith("symm."):
                graph[mod].update(t for t in _targets(target, names) if t != mod and t != "symm")
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def test_the_walker_sees_deferred_imports_and_cycles():
    """The checks below can fail: a cycle through a function-level import is found."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert ("symm._rep", ["Rep"], 2) in _imports_of("def f():\n    from symm._rep import Rep\n")
    assert _imports_of("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import symm._rep\n") == [
        ("typing", ["TYPE_CHECKING"], 1)
    ]


def _imports_of(source: str, tmp=Path("/tmp")) -> list[tuple[str, list[str], int]]:
    path = tmp / "symm_architecture_probe.py"
    path.write_text(source)
    return _imports(path)


def test_no_import_cycle_in_symm():
    cycles = _cycles(_graph())
    assert not cycles, f"import cycles in symm: {cycles}"


def test_no_private_name_imported_across_modules():
    bad = []
    for path in SYMM.values():
        for target, names, line in _imports(path):
            if not (target.startswith("symm.") or target == "symm") or target == "symm._xp":
                continue
            private = [n for n in names if n.startswith("_") and f"{target}.{n}" not in SYMM and n != "__version__"]
            if private:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {private} from {target}")
    assert not bad, "\n".join(bad)


def test_the_library_does_not_import_the_applications():
    bad = [
        f"{mod} imports {target}"
        for mod, path in SYMM.items()
        if not mod.startswith(("symm.app", "symm.__main__"))
        for target, names, _ in _imports(path)
        for t in _targets(target, names)
        if t.startswith("symm.app")
    ]
    assert not bad, bad


@pytest.mark.skipif(not PLUGIN.is_dir(), reason="the torch plugin is not in this checkout")
def test_the_plugin_imports_only_symm_and_symm_internal():
    bad = []
    for path in _modules(PLUGIN, "symm_torch").values():
        for target, names, line in _imports(path):
            if target.startswith("symm.") and target not in ("symm.internal", "symm.testing"):
                bad.append(f"{path.relative_to(ROOT)}:{line}: {target}")
            if target == "symm" and any(n.startswith("_") for n in names):
                bad.append(f"{path.relative_to(ROOT)}:{line}: private {names} from symm")
    assert not bad, "\n".join(bad)


def test_every_hook_is_bound_by_a_higher_layer():
    """The calls up the data model (symm._hooks) are bound once ``symm`` is imported, each by a module that imports
    every module calling it: a hook is used only where a plain import would close a cycle."""
    import symm  # noqa: F401
    from symm import _hooks

    hooks = [h for h in vars(_hooks).values() if isinstance(h, _hooks.Hook)]
    assert sorted(h.name for h in hooks) == sorted(n for n in _hooks.__all__ if n != "Hook")
    graph = _graph()
    for hook in hooks:
        assert hook._function is not None, hook
        binder = hook._function.__module__
        use = re.compile(rf"\bhooks\.{hook.name}\b(?!\.bind)")
        callers = [m for m, p in SYMM.items() if use.search(p.read_text())]
        assert callers, f"{hook} is never called"
        for caller in callers:
            assert caller in _reachable(graph, binder), f"{caller} can import {binder}: {hook} is not needed"


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def test_a_hook_refuses_to_run_unbound_and_to_be_rebound():
    from symm._hooks import Hook

    hook = Hook("probe", "``probe() -> int``")
    with pytest.raises(RuntimeError, match="hook 'probe' is not bound"):
        hook()
    hook.bind(len)
    assert hook([1, 2]) == 2
    with pytest.raises(RuntimeError, match="already bound"):
        hook.bind(abs)
