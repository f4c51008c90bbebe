"""Every stage's ``deps`` in dvc.yaml list exactly the code its script runs.

The import graph is static (``ast``): ``import a.b``, ``from a import b`` (``b`` a module or a name
in ``a``), imports inside functions (lazy ones) included, and the ``__init__.py`` of every package
on the way whenever it holds code. :func:`weaklabel.models.base.load_saved` loads a saved model's
class by name from ``weaklabel.models``, so importing that module counts as importing every model
module. A library edit then re-runs exactly the stages whose scripts can reach it.
"""

from __future__ import annotations

import ast
import shlex
from functools import cache
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

#: Top-level packages whose files are code a stage runs from the repository.
LOCAL = ("weaklabel", "pipelines")
#: A module that imports a class by name, and the modules it may import that way.
DYNAMIC = {"weaklabel/models/base.py": "weaklabel/models"}


def module_file(name: str) -> str | None:
    """``weaklabel/x/y.py`` or ``weaklabel/x/__init__.py`` for a dotted local module name, else None."""
    if name.split(".")[0] not in LOCAL:
        return None
    path = REPO / Path(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate.relative_to(REPO).as_posix()
    return None


def has_code(path: str) -> bool:
    """Whether a file holds more than a docstring and ``from __future__`` imports."""
    body = ast.parse((REPO / path).read_text()).body
    return any(
        not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")
        for node in body
    )


def executed(name: str) -> set[str]:
    """The files importing ``name`` runs by itself: the module and its packages' non-empty inits."""
    parts = name.split(".")
    files = {module_file(".".join(parts[:i])) for i in range(1, len(parts) + 1)}
    return {f for f in files if f is not None and (not f.endswith("__init__.py") or has_code(f))}


@cache
def direct_imports(path: str) -> frozenset[str]:
    """Local files that ``path`` imports anywhere in its body (functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse((REPO / path).read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found |= executed(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= executed(node.module)
            for alias in node.names:
                found |= executed(f"{node.module}.{alias.name}")
    if path in DYNAMIC:
        found |= {p.relative_to(REPO).as_posix() for p in (REPO / DYNAMIC[path]).glob("*.py")}
    found.discard(path)
    return frozenset(found)


def closure(path: str) -> set[str]:
    """``path`` and every local file it reaches through imports."""
    seen, todo = set(), [path]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(direct_imports(current))
    return seen


STAGES = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def stage_script(cmd: str) -> str:
    """The script a stage's ``cmd`` runs (``python -m pipelines.x ...`` -> ``pipelines/x.py``)."""
    words = shlex.split(cmd)
    assert words[:2] == ["python", "-m"], f"expected `python -m pipelines.<stage> ...`, got {cmd!r}"
    path = module_file(words[2])
    assert path is not None, f"{words[2]} is not a module of this repository"
    return path


@pytest.mark.parametrize("name", sorted(STAGES))
def test_deps_list_exactly_the_code_the_stage_runs(name):
    stage = STAGES[name]
    runs = closure(stage_script(stage["cmd"]))
    declared = {d for d in stage["deps"] if d.endswith(".py") and d.split("/")[0] in LOCAL}
    assert not runs - declared, f"stage {name}: add to deps {sorted(runs - declared)}"
    assert not declared - runs, f"stage {name}: deps list code the stage never runs {sorted(declared - runs)}"


def test_the_graph_follows_submodules_lazy_imports_and_dynamic_loading():
    stage = closure("pipelines/features.py")
    assert "weaklabel/features/vgg16.py" in stage  # imported inside a function of extract.py
    assert "weaklabel/errors.py" in stage
    assert "weaklabel/models/head.py" in closure("weaklabel/models/base.py")
    assert "weaklabel/sources/transcripts.py" in closure("weaklabel/sources/mosei.py")  # from pkg import mod
