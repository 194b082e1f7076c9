"""Shared helpers of the deploy tests: where things are, tools that CI must have, PromQL metric names."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
RULES = DEPLOY / "prometheus" / "edfi-stream-rules.yaml"
RULE_TESTS = DEPLOY / "prometheus" / "tests"
DASHBOARD = DEPLOY / "grafana" / "edfi-stream.json"
CHART = DEPLOY / "helm" / "edfi-stream"

# Grafana's variables, replaced by a fixed duration so promtool can parse the query.
GRAFANA_DURATIONS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "6h"}


def require(what: str, env: str, available: bool) -> None:
    """Skip when ``what`` is missing, or fail when the environment variable ``env`` is 1 (CI)."""
    if available:
        return
    message = f"{what} is not installed"
    if os.environ.get(env) == "1":
        pytest.fail(f"{message}, and {env}=1 says it must be")
    pytest.skip(message)


def promtool() -> str:
    path = shutil.which("promtool")
    require("promtool (Debian package prometheus)", "EDFI_STREAM_REQUIRE_PROMTOOL", path is not None)
    assert path is not None
    return path


_KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "by", "without", "on", "ignoring",
             "group_left", "group_right", "le"}


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (enough PromQL for our queries; not a full parser)."""
    s = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)       # string literals
    s = re.sub(r"'(?:\\.|[^'\\])*'", "''", s)
    s = re.sub(r"\{[^}]*\}", " ", s)                   # label matchers
    s = re.sub(r"\[[^\]]*\]", " ", s)                  # range and subquery durations
    s = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    s = re.sub(r"\$\{?\w+\}?", " ", s)                 # Grafana variables
    s = re.sub(r"\b\d[\w.]*", " ", s)                  # numbers and durations (5m, 1e3, 0.99)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*(?!\s*\()", s):
        # a name followed by "(" is a function or aggregation; the lookahead backtracks on prefixes, so
        # check the whole token
        token = match.group(0)
        end = match.end()
        if end < len(s) and (s[end].isalnum() or s[end] in "_:"):
            continue
        if token.lower() not in _KEYWORDS:
            names.add(token)
    return names


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return data


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, expr) of every target of every panel, rows' nested panels included."""
    out: list[tuple[str, str]] = []

    def walk(panels: list[dict[str, Any]]) -> None:
        for panel in panels:
            for target in panel.get("targets", []):
                out.append((panel.get("title", "?"), target["expr"]))
            walk(panel.get("panels", []))

    walk(dashboard()["panels"])
    return out


def rule_exprs(path: Path = RULES) -> list[tuple[str, str]]:
    """(alert or record name, expr) of every rule of a Prometheus rule file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(rule.get("alert") or rule.get("record"), rule["expr"])
            for group in data["groups"] for rule in group["rules"]]


def as_promtool_expr(expr: str) -> str:
    for var, duration in GRAFANA_DURATIONS.items():
        expr = expr.replace(var, duration)
    return expr
