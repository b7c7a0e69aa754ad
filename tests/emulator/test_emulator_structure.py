"""The emulator's modules import in one direction, and its runtime never imports the app."""

from __future__ import annotations

import ast
from pathlib import Path

import stripe_emulator

PACKAGE = Path(stripe_emulator.__file__).parent


def _module_name(path: Path) -> str:
    parts = ["stripe_emulator", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module of the package or of the project that ``path`` imports, TYPE_CHECKING included."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            module = f"{base}.{node.module}" if node.level and node.module else (node.module or base)
            for alias in node.names:  # `from . import money` names a module, `from .x import y` an attribute
                candidate = f"{module}.{alias.name}"
                found.add(candidate if _exists(candidate) else module)
    return found


def _exists(module: str) -> bool:
    relative = Path(*module.split(".")[1:])
    return module.startswith("stripe_emulator.") and (
        (PACKAGE / relative).with_suffix(".py").exists() or (PACKAGE / relative / "__init__.py").exists()
    )


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}


def test_no_import_cycles_between_the_emulators_modules():
    graph = _graph()
    # a package __init__ that re-exports its children is not a cycle: children never need it
    for name in graph:
        graph[name] = {m for m in graph[name] if not (name.startswith(m + ".") and graph[m] >= {name})}
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(trail[trail.index(nxt) :] + [nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []
    assert "stripe_emulator.emulator" not in set(graph["stripe_emulator.emulator"])
    assert not graph["stripe_emulator.emulator"] & {
        "stripe_emulator.control",
        "stripe_emulator.stripe_api",
        "stripe_emulator.wsgi",
        "stripe_emulator.server",
    }
    assert {"stripe_emulator.control", "stripe_emulator.stripe_api"} <= graph["stripe_emulator.wsgi"]


def test_the_emulator_runtime_never_imports_the_app():
    for path in PACKAGE.rglob("*.py"):
        modules = _imports(path)
        assert not {m for m in modules if m == "app" or m.startswith("app.")}, path
        assert not {m for m in modules if m == "stripe" or m.startswith("stripe.")} or path.name == "testing.py", path
