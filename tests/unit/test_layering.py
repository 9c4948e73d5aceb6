"""The import contracts of README "Architecture" (pyproject's [tool.importlinter]) hold on this
tree, and they bite: the same tree with one forbidden import fails them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("contracts", "runtime", "kiosk", "drivers", "screens", "offline", "central")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}  # the copy's packages before the editable ones
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


def copy_of_the_tree(into: Path) -> Path:
    for name in PACKAGES:
        shutil.copytree(ROOT / name, into / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", into)
    return into


def test_the_tree_keeps_every_import_contract(tmp_path: Path) -> None:
    result = lint_imports(copy_of_the_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "forbidden", "contract"),
    [
        ("screens/sim_panel.py", "from central import services", "never imports the platform"),
        ("central/api.py", "from kiosk.config import settings", "only the contracts of ours"),
        ("drivers/idcard.py", "from PySide6 import QtCore", "drivers have no Qt"),
        ("offline/http.py", "import kiosk.texts", "offline has no Qt"),
        ("kiosk/visit/session.py", "from screens import theme", "the terminal's core has no Qt"),
        ("contracts/wire.py", "import offline.outbox", "contracts import nothing"),
        ("runtime/supervisor.py", "import drivers.base", "runtime (the supervisor)"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(
    tmp_path: Path, module: str, forbidden: str, contract: str
) -> None:
    tree = copy_of_the_tree(tmp_path)
    path = tree / module
    source = path.read_text("utf-8")
    cut = source.index("\nfrom __future__ import annotations\n") + 36
    path.write_text(f"{source[:cut]}\n{forbidden}  # noqa\n{source[cut:]}", "utf-8")
    result = lint_imports(tree)
    assert result.returncode == 1, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1].replace("\n", " ")
    assert contract in broken, result.stdout


def test_no_two_modules_share_a_name() -> None:
    """A name says what a module is for; two modules with one name would mean one thing twice."""
    seen: dict[str, Path] = {}
    clashes = []
    for folder in (*PACKAGES, "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.name in ("__init__.py", "__main__.py", "conftest.py"):
                continue
            if path.name in seen:
                clashes.append(f"{seen[path.name].relative_to(ROOT)} and {path.relative_to(ROOT)}")
            seen.setdefault(path.name, path)
    assert not clashes, clashes
