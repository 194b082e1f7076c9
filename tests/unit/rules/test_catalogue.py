"""Issue 16, item 3: one catalogue of the state assessments, one list of decision reasons.

The catalogue (streams/rules/assessments.py) is checked against seed 003's Assessment Identifier table; the
evaluation, the arrays, the configuration defaults and resync read it; the metrics count every reason the
rules can give under its own name.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import streams
from streams.observability import metrics
from streams.rules import assessments
from streams.rules.config import RuleConfig
from streams.rules.reasons import HOLD_REASONS, REASONS

ROOT = Path(streams.__file__).parent
SEED = Path(__file__).resolve().parents[4] / "shared" / "seeds" / "003_c605670477822ab2.txt"


def seed_identifier_table() -> list[tuple[str, str]]:
    """(AssessmentIdentifier, Assessment Title) rows of 003's Assessment Identifier Table."""
    text = SEED.read_text(encoding="utf-8")
    table = text[text.index("Assessment Identifier Table"):text.index("\nArrays")]
    rows = []
    for line in table.splitlines():
        m = re.match(r"^(.+?)\s+uri://ksde\.org/Assessment/Assessment\.xml(.+)$", line.strip())
        if m:
            rows.append((m.group(1).strip(), m.group(2).strip()))
    return rows


@pytest.mark.skipif(not SEED.exists(), reason="../shared/seeds is not beside the repository")
def test_the_catalogue_is_003s_assessment_identifier_table() -> None:
    seed = seed_identifier_table()
    assert len(seed) == 16
    assert sorted(assessments.STATE_CODES) == sorted(code for code, _ in seed)
    assert {a.state_code: a.title for a in assessments.CATALOGUE} == dict(seed)


def test_catalogue_facts_of_003() -> None:
    by = assessments.BY_STATE_CODE
    screeners = [a for a in assessments.CATALOGUE if a.state_code.startswith("Dyslexia Screener_")]
    assert len(screeners) == 8
    assert {a.default_key for a in screeners} == {"Dyslexia"}
    assert all(a.grades == frozenset({"05", "06", "07", "08", "13"}) and a.objectives == assessments.DYSLEXIA
               for a in screeners)
    assert by["State History/Gov Assessment"].objectives == assessments.HIST_GOV
    assert assessments.HIST_GOV.codes == ("01", "02", "03")
    assert [a.state_code for a in assessments.CATALOGUE if a.reports_proctor] == [
        "Kansas English Language Proficiency Assessment (KELPA)"]
    fields = {a.state_code: a.request_field for a in assessments.CATALOGUE if a.request_field}
    assert fields["Kansas English Language Proficiency Assessment (KELPA)"] == "kelpa_exam"
    assert len(fields) == 7  # Math, ELA, Science, KELPA and the three agriculture assessments


def test_configuration_defaults_and_resync_read_the_catalogue() -> None:
    cfg = RuleConfig()
    assert cfg.assessment_keys == assessments.default_keys()
    assert all(cfg.reports(code) for code in assessments.STATE_CODES)
    assert not cfg.reports("Local Reading Inventory")
    assert not cfg.reports("Dyslexia Screener_Made Up")  # not in 003's table, not configured: not ours


def test_no_module_keeps_its_own_copy_of_the_catalogue() -> None:
    """No literal 'Dyslexia Screener_' or stateCode outside the catalogue in the rules and resync."""
    offenders = []
    for path in [*ROOT.joinpath("rules").glob("*.py"), *ROOT.joinpath("resync").glob("*.py")]:
        if path.name == "assessments.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                    node.value.startswith("Dyslexia Screener") or node.value in assessments.STATE_CODES):
                offenders.append(f"{path.name}: {node.value!r}")
    assert offenders == []


def test_every_reason_the_rules_give_is_counted_under_its_own_name() -> None:
    with metrics.use_registry() as m:
        for reason in REASONS:
            metrics.record_decision(reason)
        for reason in REASONS:
            assert m.registry.get_sample_value("edfi_stream_rule_decisions_total", {"outcome": reason}) == 1
        assert m.registry.get_sample_value("edfi_stream_rule_decisions_total", {"outcome": "other"}) is None
    assert "sent" not in HOLD_REASONS and set(HOLD_REASONS) | {"sent"} == set(REASONS)


def test_every_reason_literal_in_the_rules_is_listed() -> None:
    """The reasons passed to _Held, Decision and refusals in streams/rules are all in REASONS (mypy checks the
    Literal too; this also covers a reason written in a new module)."""
    found: set[str] = set()
    for path in ROOT.joinpath("rules").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                    "_Held", "Decision", "replace"):
                for arg in [*node.args, *(k.value for k in node.keywords if k.arg == "reason")]:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and re.fullmatch(
                            r"[a-z_]+", arg.value):
                        found.add(arg.value)
            if isinstance(node, ast.Tuple) and node.elts and isinstance(node.elts[0], ast.Constant) and \
                    isinstance(node.elts[0].value, str) and node.elts[0].value.endswith(("_unknown", "_enrollment",
                                                                                         "_calendar", "_school")):
                found.add(node.elts[0].value)
    outcomes = {"held", "not_reported"}
    assert found - outcomes - {"sent"} <= set(REASONS)
    assert len(found - outcomes) >= 10
