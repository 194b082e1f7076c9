"""Render decision trails in plain words for district data stewards.

Decisions come from ``simulate`` (DIR/decisions.jsonl: every decision after every event, in order) or
from a running worker's ``/explain`` endpoint (the decisions for the student's current state). Each line
says what happened and why: "sent as POST ... because ...", "held: no active enrollment on ...".
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def load_decisions(out_dir: str | Path) -> list[dict[str, Any]]:
    path = Path(out_dir) / "decisions.jsonl"
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def fetch_worker_decisions(url: str, *, score_id: int | None = None, person_id: int | None = None,
                           said: str | None = None, headers: dict[str, str] | None = None
                           ) -> list[dict[str, Any]]:
    """POST the ids to the worker's /explain (never in the URL: URLs end up in logs); ``headers`` carry the
    credentials (streams/web/client.py)."""
    query = {k: v for k, v in {"scoreID": score_id, "personID": person_id, "id": said}.items() if v is not None}
    request = urllib.request.Request(url.rstrip("/") + "/explain", data=json.dumps(query).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return list(json.loads(response.read())["decisions"])


def select(decisions: Iterable[dict[str, Any]], *, score_id: int | None = None, person_id: int | None = None,
           said: str | None = None) -> list[dict[str, Any]]:
    out = []
    for d in decisions:
        if score_id is not None and d.get("scoreID") != score_id:
            continue
        if person_id is not None and d.get("personID") != person_id:
            continue
        if said is not None and d.get("studentAssessmentIdentifier") != said and said not in d.get("ids", ()):
            continue
        out.append(d)
    return out


def render_line(d: dict[str, Any]) -> str:
    where = f"event #{d['seq']} ({d.get('event', '')})" if "seq" in d else "current state"
    subject = f"score {d.get('scoreID')}" if d.get("scoreID") is not None else f"student {d.get('personID')}"
    said = d.get("studentAssessmentIdentifier")
    text = f"{where}: {subject}"
    if said:
        text += f" -> {said}"
    text += f": {d.get('message') or d.get('outcome')}"
    actions = d.get("actions") or []
    if actions:
        text += " [" + ", ".join(actions) + "]"
    return text


def explain_from_decisions(decisions: list[dict[str, Any]], *, score_id: int | None = None,
                           person_id: int | None = None, said: str | None = None) -> str:
    chosen = select(decisions, score_id=score_id, person_id=person_id, said=said)
    if not chosen:
        return "no decisions found for that selection (is the id right, and was its event in the input?)"
    collapsed: list[dict[str, Any]] = []
    last: dict[tuple[Any, Any], dict[str, Any]] = {}
    for d in chosen:  # a decision repeated after an unrelated event of the student says nothing new
        key = (d.get("scoreID"), d.get("studentAssessmentIdentifier"))
        if key in last and _same(last[key], d) and not d.get("actions"):
            continue
        last[key] = d
        collapsed.append(d)
    return "\n".join(render_line(d) for d in collapsed)


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = ("scoreID", "personID", "studentAssessmentIdentifier", "outcome", "reason", "message")
    return all(a.get(k) == b.get(k) for k in keys)
