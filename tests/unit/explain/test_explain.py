"""`explain` over simulate output: the trail of a score, a student, an identifier, in plain words."""

from __future__ import annotations

from pathlib import Path

from streams.config import load_settings
from streams.explain.render import explain_from_decisions, load_decisions
from streams.sample.district import SAMPLE_CONFIG, SAMPLE_EVENTS
from streams.simulate.run import run_simulation


def test_explain_the_sample(tmp_path: Path) -> None:
    summary = run_simulation(SAMPLE_EVENTS, load_settings(SAMPLE_CONFIG, environ={}), tmp_path)
    assert summary.ods_records > 100 and not summary.dead_letters
    decisions = load_decisions(tmp_path)
    sent = next(d for d in decisions if d["actions"] == ["POST"])
    trail = explain_from_decisions(decisions, score_id=sent["scoreID"])
    assert "[POST]" in trail and f"score {sent['scoreID']}" in trail
    held = next(d for d in decisions if d["reason"] == "excluded_school")
    text = explain_from_decisions(decisions, person_id=held["personID"])
    assert "marked Exclude" in text
    lines = text.splitlines()
    assert len(lines) == len(set(lines))  # repeated, unchanged decisions are collapsed
    said = sent["studentAssessmentIdentifier"]
    assert all(said in line for line in explain_from_decisions(decisions, said=said).splitlines())
    assert "no decisions found" in explain_from_decisions(decisions, score_id=-1)
    rendered = summary.render()
    assert "sent" in rendered and "held: excluded_school" in rendered
