"""The shape of the house, checked from the code's own imports (ast), so it cannot drift back.

- No import circle between modules of ``aggregator`` and ``providers`` (an import inside a
  function counts too: it is still a dependency).
- ``providers`` (the adapters) import nothing of ``aggregator`` but ``aggregator.page``.
- The engine never imports ``providers``: it finds adapters by entry point.
- The pure page core (``aggregator.page``) imports nothing of the engine above it.
- Each stage imports only the stages below it (the layer table in docs/architecture.md).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGES = ("aggregator", "providers")

# Layers from the bottom up; a module may import its own layer and those below it.
LAYERS = [
    ["aggregator.errors"],
    ["aggregator.page"],
    ["providers"],
    ["aggregator.netguard"],
    ["aggregator.adapters", "aggregator.http", "aggregator.poll.schedule", "aggregator.config",
     "aggregator.durations"],
    ["aggregator.store"],
    ["aggregator.catalog", "aggregator.poll"],
    ["aggregator.notify", "aggregator.history"],
    ["aggregator.core"],
    ["aggregator.safe_output"],
    ["aggregator.serve", "aggregator.mcp_server", "aggregator.cli", "aggregator"],
]


def module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """The project modules ``path`` imports (the longest known module of each dotted name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for dotted in names:
            parts = dotted.split(".")
            for i in range(len(parts), 0, -1):
                candidate = ".".join(parts[:i])
                if candidate in known:
                    targets.add(candidate)
                    break
    targets.discard(name)
    return targets


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(path, name, known) for name, path in mods.items()}


def layer_of(module: str) -> int:
    best, best_len = None, -1
    for index, layer in enumerate(LAYERS):
        for prefix in layer:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    assert best is not None, f"{module} is in no layer: add it to LAYERS and docs/architecture.md"
    return best


def test_every_module_has_a_layer() -> None:
    for name in modules():
        layer_of(name)


def test_no_import_circle() -> None:
    edges = graph()
    # Package __init__ modules re-export their contents: an edge into a package's own
    # submodules from its __init__ is how a public API is made, not a circle.
    for name, targets in edges.items():
        edges[name] = {t for t in targets if not t.startswith(name + ".")}
    visiting, done, circles = set(), set(), []

    def visit(node: str, stack: list[str]) -> None:
        visiting.add(node)
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if target in visiting:
                circles.append(stack[stack.index(target):] + [target])
            elif target not in done:
                visit(target, stack)
        stack.pop()
        visiting.discard(node)
        done.add(node)

    for node in sorted(edges):
        if node not in done:
            visit(node, [])
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)


def test_adapters_use_only_the_page_core_of_the_engine() -> None:
    bad = [f"{name} imports {target}" for name, targets in graph().items() if name.startswith("providers")
           for target in targets if target.startswith("aggregator") and not target.startswith("aggregator.page")
           and target != "aggregator"]
    assert not bad, "\n".join(bad)


def test_the_engine_never_imports_the_adapters_package() -> None:
    bad = [f"{name} imports {target}" for name, targets in graph().items() if name.startswith("aggregator")
           for target in targets if target.startswith("providers")]
    assert not bad, "\n".join(bad)


def test_each_stage_imports_only_the_stages_below_it() -> None:
    bad = []
    for name, targets in graph().items():
        if name == "aggregator":  # the public API re-exports from every layer
            continue
        for target in targets:
            if target == "aggregator":
                continue
            if layer_of(target) > layer_of(name):
                bad.append(f"{name} (layer {layer_of(name)}) imports {target} (layer {layer_of(target)})")
    assert not bad, "\n".join(sorted(bad))


def test_the_walker_sees_a_circle_and_a_forbidden_edge(tmp_path: Path) -> None:
    """The checks above can fail: the same walker on a made-up tree finds what they forbid."""
    (tmp_path / "a.py").write_text("import b\n")
    (tmp_path / "b.py").write_text("def f():\n    from a import x\n")
    known = {"a", "b"}
    assert imports_of(tmp_path / "a.py", "a", known) == {"b"}
    assert imports_of(tmp_path / "b.py", "b", known) == {"a"}
    assert layer_of("aggregator.cli.main") > layer_of("aggregator.store.writer")
