"""Every third-party module the package imports is declared in pyproject.toml (dependencies or an extra).

The imports are read with ``ast`` from the package folders (conditional and lazy imports included); each module is
mapped to the distributions that provide it by ``importlib.metadata.packages_distributions()`` (a module of an
optional extra that is not installed here, such as vllm, must carry its distribution's name).
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys

import pytest

from conftest import REPO_ROOT

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

PACKAGE_FOLDERS = ("coursemate", "cli", "retrieval", "tools", "agents", "ui", "eval")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_distributions() -> set[str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"].values()
    requirements = [*project["dependencies"], *(r for extra in extras for r in extra)]
    return {normalized(re.match(r"[A-Za-z0-9._-]+", r).group()) for r in requirements}


def imported_modules() -> dict[str, str]:
    """Top-level names of the absolute imports of the package folders, each with one file that imports it."""
    found: dict[str, str] = {}
    for folder in PACKAGE_FOLDERS:
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(REPO_ROOT)))
    return found


def test_every_import_is_declared_in_pyproject():
    declared = declared_distributions()
    providers = importlib.metadata.packages_distributions()
    third_party = {m: f for m, f in imported_modules().items()
                   if m not in sys.stdlib_module_names and m != "coursemate"}
    undeclared = {
        module: where for module, where in third_party.items()
        if not {normalized(d) for d in providers.get(module, [module])} & declared
    }
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


def test_the_check_sees_the_imports():
    modules = imported_modules()
    assert {"torch", "faiss", "gradio", "smolagents", "yaml", "sklearn"} <= set(modules)
    assert "langchain_classic" in modules  # imported lazily, inside a function
