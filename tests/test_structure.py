"""The package structure: every import points down the layers, and no two packages import each other.

Layers, bottom up: the kernel (``coursemate/``: config, errors, io, prompts; the shipped notes) < retrieval < tools <
agents < the applications (the UI, the evaluation harness) < the CLI (the command line of all of them: ``coursemate
ui``, ``coursemate eval``). A module may import its own layer or a lower one; within a layer, the import graph of
its packages (``coursemate.tools``, ``coursemate.tools.grounding``, ...) has no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import tomllib

REPO_ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"kernel": 0, "notes": 0, "retrieval": 1, "tools": 2, "agents": 3, "ui": 4, "eval": 4, "cli": 5}


def package_dirs() -> dict[str, Path]:
    """Each package of the wheel and its folder in the checkout (pyproject.toml's package-dir)."""
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return {name: REPO_ROOT / folder for name, folder in config["package-dir"].items()
            if name in config["packages"]}


def modules() -> dict[str, Path]:
    """Every module of the package by its dotted name."""
    found = {}
    for package, folder in package_dirs().items():
        for path in folder.glob("*.py"):
            found[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The ``coursemate`` modules ``path`` imports, relative imports resolved: ``from a.b import c`` counts as the
    module ``a.b.c`` when that is one, else as ``a.b``."""
    package = name if path.stem == "__init__" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names)
    return {i for i in found if i in known and i != name}


def package_of(name: str, known: dict[str, Path]) -> str:
    """The package a module belongs to (a package is its own)."""
    path = known.get(name)
    return name if path is not None and path.stem == "__init__" else name.rpartition(".")[0]


def layer_of(name: str) -> int:
    parts = name.split(".")
    return LAYERS[parts[1]] if len(parts) > 1 and parts[1] in LAYERS else LAYERS["kernel"]


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of the package it imports."""
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def test_every_import_points_down_the_layers():
    upward = sorted(f"{m} ({layer_of(m)}) imports {i} ({layer_of(i)})"
                    for m, imported in import_graph().items() for i in imported if layer_of(i) > layer_of(m))
    assert not upward, "\n".join(upward)


def test_no_cycle_between_packages():
    known = modules()
    graph: dict[str, set[str]] = {}
    for m, imported in import_graph().items():
        source = package_of(m, known)
        graph.setdefault(source, set()).update(
            p for p in (package_of(i, known) for i in imported) if p != source and not source.startswith(p + "."))
    cycles = find_cycles(graph)
    assert not cycles, "\n".join(cycles)


def test_no_cycle_between_modules():
    graph = import_graph()
    cycles = find_cycles(graph)
    assert not cycles, "\n".join(cycles)


def find_cycles(graph: dict[str, set[str]]) -> list[str]:
    """Every cycle through each node of ``graph``, as "a -> b -> a", sorted."""
    cycles = []
    for start in graph:
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    cycles.append(" -> ".join([*path, start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    return sorted(cycles)
