"""The house rules that keep the code readable (issue 17, part 7; docs/architecture.md): small modules, and a
tests/ package that imports its helpers by their package name (no sys.path games)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAX_LINES = 400
CODE = ("streams", "agents")


def over_the_limit(root: Path, packages: tuple[str, ...] = CODE, limit: int = MAX_LINES) -> dict[str, int]:
    """Every module under ``packages`` longer than ``limit`` lines, with its length."""
    found: dict[str, int] = {}
    for package in packages:
        for module in sorted((root / package).rglob("*.py")):
            lines = len(module.read_text(encoding="utf-8").splitlines())
            if lines > limit:
                found[module.relative_to(root).as_posix()] = lines
    return found


def test_no_module_of_the_code_is_over_400_lines() -> None:
    assert (REPO / "streams" / "__init__.py").exists() and (REPO / "agents" / "__init__.py").exists()
    assert over_the_limit(REPO) == {}, "split these modules (one concern each), see docs/architecture.md"


def test_the_line_count_sees_a_long_module(tmp_path: Path) -> None:
    (tmp_path / "streams" / "deep").mkdir(parents=True)
    (tmp_path / "agents").mkdir()
    (tmp_path / "streams" / "deep" / "long.py").write_text("x = 1\n" * 401)
    (tmp_path / "agents" / "short.py").write_text("x = 1\n" * 400)
    assert over_the_limit(tmp_path) == {"streams/deep/long.py": 401}


def test_every_test_folder_is_a_package() -> None:
    tests = REPO / "tests"
    folders = {p.parent for p in tests.rglob("*.py")} | {tests}
    missing = sorted(f.relative_to(REPO).as_posix() for f in folders
                     if "__pycache__" not in f.parts and not (f / "__init__.py").exists())
    assert missing == [], "add an __init__.py: helpers import as tests.<folder>.<module>"


def test_no_test_edits_sys_path() -> None:
    pattern = re.compile(r"sys\.path\.(insert|append)")
    found = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "tests").rglob("*.py")
                   if p != Path(__file__).resolve() and pattern.search(p.read_text(encoding="utf-8")))
    assert found == [], "import helpers as `from tests.support.scenario import build` (pyproject: pythonpath)"
