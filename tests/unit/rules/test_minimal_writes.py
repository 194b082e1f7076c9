"""Seed 003 Natural Key Changes and the Put/Post/Delete rows: the minimal write commands."""

from __future__ import annotations

from streams.rules.config import RuleConfig
from streams.rules.engine import InMemoryStores, RuleEngine
from tests.unit.rules.helpers import assessment_row, calendar, enrollment, ev, school, score, student


def engine_with_record() -> RuleEngine:
    engine = RuleEngine(RuleConfig(), **InMemoryStores().as_kwargs())
    for e in [ev("sis.schools", "c", school()), ev("sis.calendars", "c", calendar()),
              ev("sis.students", "c", student()), ev("sis.enrollments", "c", enrollment()),
              ev("sis.tests", "c", assessment_row()),
              ev("sis.tests", "c", assessment_row(6, "Dyslexia Screener_iReady")),
              ev("sis.test_scores", "c", score())]:
        engine.on_change(e)
    return engine


def actions(engine: RuleEngine, event: object) -> list[tuple[str, str]]:
    return [(c.action, c.key) for c in engine.on_change(event).commands]  # type: ignore[arg-type]


def test_non_key_change_is_a_put() -> None:
    engine = engine_with_record()
    assert actions(engine, ev("sis.test_scores", "u", score(scale="251"), before=score())) == [
        ("PUT", "Math_00000001_2024")]


def test_test_date_change_is_a_post() -> None:
    engine = engine_with_record()
    assert actions(engine, ev("sis.test_scores", "u", score(date="2024-03-22"), before=score())) == [
        ("POST", "Math_00000001_2024")]


def test_date_leaving_the_scope_year_is_a_delete() -> None:
    engine = engine_with_record()
    assert actions(engine, ev("sis.test_scores", "u", score(date="2024-07-02"), before=score())) == [
        ("DELETE", "Math_00000001_2024")]


def test_state_student_identifier_change_deletes_then_posts() -> None:
    engine = engine_with_record()
    got = actions(engine, ev("sis.students", "u", student(state_id="00000002"), before=student()))
    assert got == [("DELETE", "Math_00000001_2024"), ("POST", "Math_00000002_2024")]


def test_natural_key_change_under_the_same_identifier_deletes_then_posts() -> None:
    engine = RuleEngine(RuleConfig(), **InMemoryStores().as_kwargs())
    for e in [ev("sis.schools", "c", school()), ev("sis.calendars", "c", calendar()),
              ev("sis.students", "c", student()), ev("sis.enrollments", "c", enrollment()),
              ev("sis.tests", "c", assessment_row(20, "Dyslexia Screener_Acadience")),
              ev("sis.tests", "c", assessment_row(21, "Dyslexia Screener_iReady"))]:
        engine.on_change(e)
    assert actions(engine, ev("sis.test_scores", "c", score(tid=20))) == [("POST", "Dyslexia_00000001_2024")]
    out = engine.on_change(ev("sis.test_scores", "c", score(1001, tid=21, date="2024-04-01")))
    assert [(c.action, c.natural_key.assessment_identifier) for c in out.commands] == [
        ("DELETE", "Dyslexia Screener_Acadience"), ("POST", "Dyslexia Screener_iReady")]


def test_all_valid_assessments_removed_is_a_delete() -> None:
    engine = engine_with_record()
    assert actions(engine, ev("sis.test_scores", "d", before=score())) == [("DELETE", "Math_00000001_2024")]
    assert engine.sent == {}


def test_replays_and_resent_snapshots_send_nothing() -> None:
    engine = engine_with_record()
    for op in ("r", "u", "r"):
        assert actions(engine, ev("sis.test_scores", op, score(), before=score())) == []
    assert actions(engine, ev("sis.students", "r", student(), before=student())) == []
    assert actions(engine, ev("sis.schools", "r", school(), before=school())) == []


def test_toggle_off_sends_nothing_and_keeps_state() -> None:
    engine = engine_with_record()
    engine.set_enabled(False)
    out = engine.on_change(ev("sis.test_scores", "u", score(scale="260"), before=score()))
    assert out.commands == []
    assert {d.reason for d in out.decisions} == {"toggled_off"}
    engine.set_enabled(True)
    # the next change of this student is planned against what was really sent
    assert actions(engine, ev("sis.test_scores", "u", score(scale="261"), before=score(scale="260"))) == [
        ("PUT", "Math_00000001_2024")]


def test_a_score_moving_to_another_student_moves_the_record() -> None:
    engine = engine_with_record()
    engine.on_change(ev("sis.students", "c", student(2, "00000002")))
    engine.on_change(ev("sis.enrollments", "c", enrollment(200, person=2)))
    moved = score(person=2)
    got = actions(engine, ev("sis.test_scores", "u", moved, before=score()))
    assert sorted(got) == [("DELETE", "Math_00000001_2024"), ("POST", "Math_00000002_2024")]


def test_an_older_change_arriving_late_changes_nothing() -> None:
    """A replay re-delivers old versions of rows: they must not take the ODS back in time."""
    engine = engine_with_record()
    old = ev("sis.test_scores", "u", score(scale="240"), before=score())
    newer = ev("sis.test_scores", "u", score(scale="260"), before=score(scale="240"))
    assert actions(engine, newer) == [("PUT", "Math_00000001_2024")]
    assert actions(engine, old) == []
    assert engine.evaluate_person(1).records["Math_00000001_2024"].payload["scoreResults"][0]["result"] == "260"
    deleted = ev("sis.test_scores", "d", before=score(scale="260"))
    assert actions(engine, deleted) == [("DELETE", "Math_00000001_2024")]
    assert actions(engine, old) == [], "a replayed create must not bring a deleted score back"
