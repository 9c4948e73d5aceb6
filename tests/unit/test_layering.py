"""The layering rules of DESIGN.md, checked on the import statements themselves."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("drivers", {"PySide6", "shiboken6", "screens", "kiosk", "offline"}),
        ("offline", {"PySide6", "shiboken6", "screens", "kiosk", "drivers"}),
    ],
)
def test_lower_layers_stay_clean(folder: str, forbidden: set[str]) -> None:
    for path in (ROOT / folder).rglob("*.py"):
        bad = imports_of(path) & forbidden
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_only_the_composition_root_in_kiosk_touches_qt_or_screens() -> None:
    for path in (ROOT / "kiosk").rglob("*.py"):
        if path.name == "app.py":
            continue
        bad = imports_of(path) & {"PySide6", "shiboken6", "screens"}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"
