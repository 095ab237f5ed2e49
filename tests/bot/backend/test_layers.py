"""The backend's imports run one way: the contract at the bottom, no cycle, nothing from the layers above."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

BACKEND = Path(__file__).resolve().parents[3] / "bot" / "backend"
ABOVE_THE_BACKEND = ("actions", "bot.identity", "bot.cli", "bot.channels", "bot.widget", "bot.analytics", "rasa")


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _backend_graph() -> dict[str, set[str]]:
    modules = {f"bot.backend.{p.stem}": p for p in BACKEND.glob("*.py") if p.stem != "__init__"}
    return {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}


def test_the_contract_imports_nothing_of_the_backend():
    assert not {m for m in _imports(BACKEND / "api.py") if m.startswith("bot.")}


def test_no_import_cycle_in_the_backend():
    graph = _backend_graph()
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        if module in done:
            return
        assert module not in visiting, f"import cycle: {' -> '.join([*visiting, module])}"
        visiting.append(module)
        for imported in sorted(graph[module]):
            visit(imported)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


@pytest.mark.parametrize("path", sorted(BACKEND.rglob("*.py")), ids=lambda p: p.name)
def test_no_arrow_runs_back_up_from_the_backend(path):
    upward = {m for m in _imports(path) if any(m == a or m.startswith(f"{a}.") for a in ABOVE_THE_BACKEND)}
    assert upward == set()
