"""Dashboard and alert rules: they name only exported metrics, promtool accepts them, the rule tests pass."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from streams.observability.metrics import METRIC_NAMES
from tests.unit.deploy.deploy_tools import (
    CHART,
    RULE_TESTS,
    RULES,
    as_promtool_expr,
    dashboard,
    dashboard_queries,
    metric_names,
    promtool,
    rule_exprs,
)

HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def exported(name: str) -> bool:
    if name in METRIC_NAMES:
        return True
    return any(name.endswith(s) and METRIC_NAMES.get(name.removesuffix(s)) == "histogram"
               for s in HISTOGRAM_SUFFIXES)


def test_metric_name_parser() -> None:
    expr = ('histogram_quantile(0.99, sum by (le, method) '
            '(rate(a_seconds_bucket{method="POST",x=~"y|z"}[5m])))'
            ' / on (method) group_left sum without (pod) (b_total offset 1h) > bool 0 and c unless absent(d)')
    assert metric_names(expr) == {"a_seconds_bucket", "b_total", "c", "d"}
    assert metric_names('sum(rate(x_total[$__rate_interval])) or vector(0)') == {"x_total"}


def test_exported_allows_histogram_suffixes_only_on_histograms() -> None:
    assert exported("edfi_stream_end_to_end_latency_seconds_bucket")
    assert not exported("edfi_stream_parked_writes_bucket")
    assert not exported("edfi_stream_no_such_metric")


def test_dashboard_names_only_exported_metrics() -> None:
    queries = dashboard_queries()
    assert len(queries) >= 15
    for title, expr in queries:
        names = metric_names(expr)
        assert names, f"panel {title!r}: no metric found in {expr!r}"
        unknown = {n for n in names if not exported(n)}
        assert not unknown, f"panel {title!r} names metrics the worker does not export: {unknown}"


def test_dashboard_covers_what_operators_need() -> None:
    used = {n for _, expr in dashboard_queries() for n in metric_names(expr)}
    base = {n for n in used if n in METRIC_NAMES} | {
        n.rsplit("_", 1)[0] for n in used if n.endswith(HISTOGRAM_SUFFIXES)}
    assert set(METRIC_NAMES) <= base, f"metrics with no panel: {set(METRIC_NAMES) - base}"
    data = dashboard()
    ids = [p["id"] for p in data["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    assert data["uid"] == "edfi-stream"
    for panel in data["panels"]:
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "${datasource}"


def test_rules_name_only_exported_metrics() -> None:
    exprs = rule_exprs()
    assert {name for name, _ in exprs} >= {
        "EdfiStreamConsumerLagGrowing", "EdfiStreamNoEventsConsumed", "EdfiStreamDeadLetterRateHigh",
        "EdfiStreamEdfiServerErrors", "EdfiStreamTokenRejected", "EdfiStreamTokenErrors"}
    for name, expr in exprs:
        names = metric_names(expr)
        assert names, name
        unknown = {n for n in names if not exported(n)}
        assert not unknown, f"rule {name} names metrics the worker does not export: {unknown}"


def test_every_alert_has_a_runbook_section_and_a_promtool_test() -> None:
    doc = (RULES.parents[2] / "docs" / "observability.md").read_text(encoding="utf-8").lower()
    tested = "".join(p.read_text(encoding="utf-8") for p in RULE_TESTS.glob("*.yaml"))
    for name, _ in rule_exprs():
        assert f"### {name.lower()}" in doc, f"docs/observability.md has no runbook section for {name}"
        assert f"alertname: {name}" in tested, f"no promtool test for {name}"


def test_helm_chart_ships_the_same_rules() -> None:
    assert (CHART / "files" / "edfi-stream-rules.yaml").read_bytes() == RULES.read_bytes()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


def test_promtool_check_rules() -> None:
    result = run(promtool(), "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rule_unit_tests() -> None:
    files = sorted(RULE_TESTS.glob("*.yaml"))
    assert files
    result = run(promtool(), "test", "rules", *map(str, files))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_accepts_every_dashboard_query(tmp_path: Path) -> None:
    tool = promtool()
    rules = [{"record": f"edfi_stream:dashboard_query_{i}", "expr": as_promtool_expr(expr)}
             for i, (_, expr) in enumerate(dashboard_queries())]
    path = tmp_path / "dashboard-rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    result = run(tool, "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout


def test_promtool_rejects_a_broken_query(tmp_path: Path) -> None:
    """The check above can fail: a malformed query is refused."""
    tool = promtool()
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "x", "rules": [
        {"record": "x:y", "expr": "sum by (le (rate(edfi_stream_parked_writes[5m])"}]}]}), encoding="utf-8")
    assert run(tool, "check", "rules", str(path)).returncode != 0


@pytest.mark.parametrize("flag", ["1", "0"])
def test_missing_promtool_fails_only_when_required(monkeypatch: pytest.MonkeyPatch, flag: str) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("EDFI_STREAM_REQUIRE_PROMTOOL", flag)
    expected = pytest.fail.Exception if flag == "1" else pytest.skip.Exception
    with pytest.raises(expected):
        promtool()
