"""`streams`, `agents` and `schemas` are generic names: no other installed distribution may provide them,
and the modules must be the ones of this repository (not a same-named package from site-packages)."""

from __future__ import annotations

import fnmatch
import importlib
import importlib.metadata
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OURS = ("streams", "agents", "schemas")


def test_no_other_distribution_provides_our_top_level_packages() -> None:
    providers = importlib.metadata.packages_distributions()
    for name in OURS:
        others = sorted(set(providers.get(name, [])) - {"edfi-stream"})
        assert not others, f"top-level package '{name}' is also provided by {others}"


@pytest.mark.parametrize("name", OURS)
def test_modules_import_from_this_repository(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().parent == REPO / name


def test_schema_files_are_package_data() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["schemas"]
    data_files = [p.name for p in (REPO / "schemas").iterdir() if p.is_file() and p.suffix != ".py"]
    missing = [f for f in data_files if not any(fnmatch.fnmatch(f, pat) for pat in patterns)]
    assert not missing, f"not shipped in the wheel: {missing}"
