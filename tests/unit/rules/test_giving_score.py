"""Issue 16, item 1: every member of a record taken from a score comes from the one score that gives the record.

003: one record per student assessment; proctorStaffReference "Reports for KELPA" (the proctor of that
administration). The most recent score (date, then scoreID) gives administrationDate, scoreResults,
reportedSchoolReference, proctorStaffReference and assessmentRequestDescriptor, all of them; before the fix a
KELPA record whose most recent score had no proctor reported the proctor of an older score.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.rules.config import RuleConfig
from streams.rules.engine import InMemoryStores, RuleEngine
from streams.sis.events import ChangeEvent
from tests.unit.rules.helpers import assessment_row, calendar, enrollment, ev, school, score, student

KELPA = "Kansas English Language Proficiency Assessment (KELPA)"
SAID = "KELPA_00000001_2024"
STAFF = {77: "ST77", 78: "ST78"}  # 79 is a proctor whose staff row never arrives


def district(kelpa_exam: str | None = "KELPA for current ESOL students only") -> list[ChangeEvent]:
    return [ev("sis.schools", "c", school()), ev("sis.calendars", "c", calendar()),
            ev("sis.students", "c", student()), ev("sis.enrollments", "c", enrollment(kelpaExam=kelpa_exam)),
            *(ev("sis.staff", "c", {"personID": p, "staffStateID": s}) for p, s in STAFF.items()),
            ev("sis.tests", "c", assessment_row(5, KELPA))]


def kelpa_score(sid: int, date: str | None, proctor: int | None, scale: str) -> dict[str, Any]:
    extra: dict[str, Any] = {"proctorPersonID": proctor} if proctor is not None else {}
    return score(sid, date=date, scale=scale, **extra)


def run(events: list[ChangeEvent]) -> tuple[RuleEngine, dict[str, dict[str, Any]]]:
    """The engine and the ODS its commands build (studentAssessmentIdentifier -> body)."""
    engine = RuleEngine(RuleConfig(), **InMemoryStores().as_kwargs())
    ods: dict[str, dict[str, Any]] = {}
    for e in events:
        for cmd in engine.on_change(e).commands:
            if cmd.action == "DELETE":
                ods.pop(cmd.key, None)
            else:
                assert cmd.payload is not None
                ods[cmd.key] = cmd.payload
    return engine, ods


# (id, scores as (scoreID, date, proctor, scale), the score expected to give the record, its proctor's staff id)
CASES = [
    ("latest_has_a_proctor", [(1, "2024-03-10", None, "300"), (2, "2024-03-20", 77, "310")], 2, "ST77"),
    ("latest_has_no_proctor_older_has", [(1, "2024-03-10", 77, "300"), (2, "2024-03-20", None, "310")], 2, None),
    ("each_its_own_proctor", [(1, "2024-03-10", 78, "300"), (2, "2024-03-20", 77, "310")], 2, "ST77"),
    ("same_date_highest_score_id", [(5, "2024-03-20", 77, "300"), (4, "2024-03-20", 78, "310")], 5, "ST77"),
    ("same_date_highest_id_has_none", [(4, "2024-03-20", 77, "300"), (5, "2024-03-20", None, "310")], 5, None),
    ("latest_proctor_unknown_older_known", [(1, "2024-03-10", 77, "300"), (2, "2024-03-20", 79, "310")], 2, None),
    ("undated_score_uses_the_test_start", [(1, "2024-03-20", None, "300"), (2, None, 77, "310")], 1, None),
    ("older_score_arrives_last", [(2, "2024-03-20", None, "310"), (1, "2024-03-10", 77, "300")], 2, None),
    ("three_scores_middle_has_a_proctor", [(1, "2024-03-01", None, "290"), (2, "2024-03-10", 78, "300"),
                                           (3, "2024-04-02", None, "320")], 3, None),
]


@pytest.mark.parametrize(("name", "scores", "giver", "proctor"), CASES, ids=[c[0] for c in CASES])
def test_every_member_comes_from_the_score_that_gives_the_record(
        name: str, scores: list[tuple[int, str | None, int | None, str]], giver: int, proctor: str | None) -> None:
    events = [*district(), *(ev("sis.test_scores", "c", kelpa_score(*s)) for s in scores)]
    engine, ods = run(events)
    body = ods[SAID]
    given_by = next(s for s in scores if s[0] == giver)
    date = given_by[1] or "2024-03-01"  # the test's startDate (assessment_row's default)
    assert body["administrationDate"] == f"{date}T00:00:00Z"
    assert [r["result"] for r in body["scoreResults"]] == [given_by[3]]
    assert body["_ext"]["ksde"].get("proctorStaffReference") == ({"staffUniqueId": proctor} if proctor else None)
    decisions = {d.score_id: d for d in engine.evaluate_person(1).decisions}
    assert decisions[giver].outcome == "sent"
    assert {sid for sid, d in decisions.items() if d.reason == "superseded"} == {s[0] for s in scores} - {giver}


def test_the_proctor_leaves_when_a_newer_score_without_one_arrives() -> None:
    _, first = run([*district(), ev("sis.test_scores", "c", kelpa_score(1, "2024-03-10", 77, "300"))])
    assert first[SAID]["_ext"]["ksde"]["proctorStaffReference"] == {"staffUniqueId": "ST77"}
    engine = RuleEngine(RuleConfig(), **InMemoryStores().as_kwargs())
    for e in [*district(), ev("sis.test_scores", "c", kelpa_score(1, "2024-03-10", 77, "300"))]:
        engine.on_change(e)
    out = engine.on_change(ev("sis.test_scores", "c", kelpa_score(2, "2024-03-20", None, "310")))
    [cmd] = out.commands
    assert cmd.action == "POST"  # the administration date changed (003: Post when the test Date is changed)
    assert cmd.payload is not None and "proctorStaffReference" not in cmd.payload["_ext"]["ksde"]


def test_the_assessment_request_comes_from_the_enrollment_of_the_giving_score() -> None:
    """An older score in an enrollment with kelpaExam, the newer one in an enrollment without: no request."""
    events = [ev("sis.schools", "c", school()), ev("sis.calendars", "c", calendar()),
              ev("sis.students", "c", student()),
              ev("sis.enrollments", "c", enrollment(100, end="2024-02-01", kelpaExam="KELPA for current ESOL "
                                                                                  "students only")),
              ev("sis.enrollments", "c", enrollment(101, start="2024-02-02")),
              ev("sis.tests", "c", assessment_row(5, KELPA)),
              ev("sis.test_scores", "c", kelpa_score(1, "2024-01-10", None, "300")),
              ev("sis.test_scores", "c", kelpa_score(2, "2024-03-20", None, "310"))]
    _, ods = run(events)
    assert "_ext" not in ods[SAID]


def test_hist_gov_record_date_and_results_from_the_parent_level_score() -> None:
    """A child (objective) score more recent than the parent-level score does not lend the record its date:
    administrationDate and scoreResults come from the same parent-level score."""
    events = [ev("sis.schools", "c", school()), ev("sis.calendars", "c", calendar()),
              ev("sis.students", "c", student()), ev("sis.enrollments", "c", enrollment()),
              ev("sis.tests", "c", assessment_row(30, "State History/Gov Assessment")),
              ev("sis.tests", "c", assessment_row(31, None, parent=30, code="01", subject="Hist/Gov")),
              ev("sis.test_scores", "c", score(1, tid=30, date="2024-03-10", scale="33")),
              ev("sis.test_scores", "c", score(2, tid=31, date="2024-04-22", scale=None, result="04"))]
    _, ods = run(events)
    body = ods["HistGov_00000001_2024"]
    assert body["administrationDate"] == "2024-03-10T00:00:00Z"
    assert [r["result"] for r in body["scoreResults"]] == ["33"]
    assert body["studentObjectiveAssessments"][0]["performanceLevels"][0]["performanceLevelDescriptor"].endswith(
        "#Performance Level 4")


DATES = ["2023-09-01", "2023-11-15", "2024-01-10", "2024-03-20", None]
kelpa_scores = st.lists(
    st.tuples(st.sampled_from(DATES), st.sampled_from([None, None, 77, 78, 79]), st.sampled_from(["", "300", "410"])),
    min_size=1, max_size=5)


@settings(max_examples=300, deadline=None)
@given(scores=kelpa_scores, order=st.randoms(use_true_random=False), deleted=st.sets(st.integers(0, 4)))
def test_any_kelpa_scores_in_any_order_report_the_giving_scores_members(
        scores: list[tuple[str | None, int | None, str]], order: Any, deleted: set[int]) -> None:
    """Oracle from 003 alone: the most recent surviving score (its date, else the test's start date; then the
    highest scoreID) gives the date, the results and the proctor (when its staff row is known)."""
    rows = [kelpa_score(1000 + i, d, p, s) for i, (d, p, s) in enumerate(scores)]
    events = [ev("sis.test_scores", "c", r) for r in rows]
    order.shuffle(events)
    events += [ev("sis.test_scores", "d", before=rows[i]) for i in sorted(deleted) if i < len(rows)]
    _, ods = run([*district(), *events])
    alive = [r for i, r in enumerate(rows) if i not in deleted]
    if not alive:
        assert ods == {}
        return
    giver = max(alive, key=lambda r: (r["date"] or "2024-03-01", r["scoreID"]))
    body = ods[SAID]
    assert body["administrationDate"] == f"{giver['date'] or '2024-03-01'}T00:00:00Z"
    assert [r["result"] for r in body.get("scoreResults", [])] == ([giver["scaleScore"]] if giver["scaleScore"]
                                                                   else [])
    proctor = STAFF.get(giver.get("proctorPersonID") or 0)
    assert body["_ext"]["ksde"].get("proctorStaffReference") == ({"staffUniqueId": proctor} if proctor else None)
