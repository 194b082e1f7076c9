"""The domain is pure: streams/rules, streams/sis, streams/writes.py (and streams/errors.py, which they raise)
import only the standard library and each other: nothing of Faust, Kafka, httpx, Prometheus, pydantic or YAML,
and none of the product's I/O layers. `make lint` keeps the same with import-linter ([tool.importlinter] in
pyproject.toml); this test says it with an allow-list, so a new third-party import fails here too."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import streams

ROOT = Path(streams.__file__).parent
DOMAIN_FILES = sorted([*ROOT.joinpath("rules").glob("*.py"), *ROOT.joinpath("sis").glob("*.py"),
                       ROOT / "writes.py", ROOT / "errors.py"])
# the domain's own modules; streams.topics is the one home of topic names that another branch may add
DOMAIN = ("streams.rules", "streams.sis", "streams.writes", "streams.errors", "streams.topics")
NAMED_IN_THE_ISSUE = ("faust", "mode", "aiokafka", "confluent_kafka", "kafka", "httpx", "prometheus_client",
                      "pydantic", "pydantic_settings", "yaml")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # a relative import stays inside its own package
                package = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts[:-node.level])
                names.add(f"{package}.{node.module}" if node.module else package)
            elif node.module:
                names.add(node.module)
    return names


def allowed(module: str) -> bool:
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top == "__future__":
        return True
    return any(module == d or module.startswith(d + ".") for d in DOMAIN)


def test_the_domain_covers_rules_sis_and_writes() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in DOMAIN_FILES}
    assert {"rules/evaluate.py", "rules/config.py", "rules/assessments.py", "sis/rows.py", "writes.py"} <= names


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_domain_module_imports_only_the_standard_library_and_the_domain(path: Path) -> None:
    offenders = sorted(m for m in imported_modules(path) if not allowed(m))
    assert offenders == []


def test_the_check_would_catch_the_libraries_the_issue_names(tmp_path: Path) -> None:
    """The allow-list refuses every library the rules must not use (and the settings module, which uses
    pydantic and YAML: streams/rules/config.py once imported it)."""
    for name in (*NAMED_IN_THE_ISSUE, "streams.config", "streams.edfi.client", "agents.join"):
        assert not allowed(name), name
