"""The floors run one way: a module imports only its own floor and those below (architecture.md, "Floors").

Every module of every floor is parsed (``ast``), including imports inside functions, which would
otherwise hide an arrow. Tests and migrations are left out: a test may drive the whole house, and
a migration names other apps only as strings. A lower floor that needs to tell a higher one
something offers a hook (``containers.hooks``) the higher app registers into in its ``ready()``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Bottom to top. A new app goes into this list, at its floor, before it can land.
FLOORS = ["orchestrator_site", "tenancy", "containers", "registry", "health", "billing"]
RANK = {name: rank for rank, name in enumerate(FLOORS)}
SKIPPED_PARTS = {"tests", "migrations"}


def floor_modules() -> list[tuple[str, Path]]:
    modules = []
    for floor in FLOORS:
        base = ROOT / floor
        if not base.is_dir():
            continue  # a floor not built yet
        for path in sorted(base.rglob("*.py")):
            if SKIPPED_PARTS.isdisjoint(path.relative_to(ROOT).parts):
                modules.append((floor, path))
    return modules


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """``(line, dotted name)`` of every absolute import in the file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def upward_imports(floor: str, path: Path, root: Path = ROOT) -> list[str]:
    problems = []
    for line, name in imported_modules(path):
        target = name.split(".", 1)[0]
        if target in RANK and RANK[target] > RANK[floor]:
            problems.append(f"{path.relative_to(root)}:{line} ({floor}) imports {name} ({target} is a higher floor)")
    return problems


def test_every_app_has_a_floor() -> None:
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert apps <= set(FLOORS), f"put {sorted(apps - set(FLOORS))} into FLOORS (and architecture.md) at its floor"


def test_no_module_imports_from_a_higher_floor() -> None:
    modules = floor_modules()
    assert len(modules) > 50, "the walk found too few modules to be reading the project"
    problems = [problem for floor, path in modules for problem in upward_imports(floor, path)]
    assert not problems, "imports that run up the floors:\n" + "\n".join(problems)


def test_it_sees_an_import_hidden_in_a_function(tmp_path: Path) -> None:
    module = tmp_path / "containers" / "panel.py"
    module.parent.mkdir()
    module.write_text("import logging\n\n\ndef f():\n    from health.models import ContainerHealth\n")
    assert upward_imports("containers", module, root=tmp_path) == [
        "containers/panel.py:5 (containers) imports health.models.ContainerHealth (health is a higher floor)"
    ]


def test_it_allows_imports_from_its_own_floor_and_below() -> None:
    module = ROOT / "health" / "console.py"
    names = {name.split(".", 1)[0] for _, name in imported_modules(module)}
    assert {"containers", "health"} <= names
    assert upward_imports("health", module) == []
