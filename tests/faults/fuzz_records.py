"""Hypothesis strategies for the poison fuzz (issue 13, part 3): keys and values for every SIS input topic,
as raw bytes, JSON and Avro, built from valid rows with some fields replaced by awkward values (integers
beyond 64 bits, digits that are not ASCII, thousands of digits, wrong types, impossible dates)."""

from __future__ import annotations

import json
import struct
from typing import Any

from hypothesis import strategies as st

import schemas
from streams.codec import codec_for

ROWS: dict[str, tuple[str, dict[str, Any]]] = {
    "sis.schools": ("schoolID", {"schoolID": 1, "stateSchoolID": 101, "name": "S", "exclude": False}),
    "sis.calendars": ("calendarID", {"calendarID": 10, "schoolID": 1, "endYear": 2024, "exclude": False}),
    "sis.staff": ("personID", {"personID": 900, "staffStateID": "ST900"}),
    "sis.students": ("personID", {"personID": 1, "stateID": "S1", "lastName": "L", "firstName": "F"}),
    "sis.enrollments": ("enrollmentID", {"enrollmentID": 100, "personID": 1, "calendarID": 10, "grade": "06",
                                         "startDate": "2023-08-15", "endDate": None, "serviceType": "P",
                                         "stateExclude": False, "noShow": False}),
    "sis.tests": ("testID", {"testID": 5, "parentID": None, "name": "T", "code": None, "subject": None,
                             "stateCode": "State Mathematics Assessment", "startDate": "2024-03-01",
                             "endDate": "2024-04-30", "endYear": 2024}),
    "sis.test_scores": ("scoreID", {"scoreID": 1000, "personID": 1, "testID": 5, "date": "2024-03-20",
                                    "scaleScore": "250", "result": None}),
}
TOPICS = tuple(ROWS)

AWKWARD = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([2**63, -(2**63) - 1, 2**70, "\u00b2", "\u0661\u0662", " 12 ", "-0", "9" * 25, "2024-02-30",
                     "", "\x00", "null", 1.5, float("inf"), float("nan"), True]),
    st.text(max_size=20), st.none(), st.booleans(),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)
SMALL_INT = st.integers(min_value=1, max_value=50)


@st.composite
def row(draw: Any, topic: str) -> dict[str, Any]:
    pk, template = ROWS[topic]
    out = dict(template)
    out[pk] = draw(SMALL_INT)
    for name in list(out):
        if draw(st.integers(0, 5)) == 0:
            out[name] = draw(AWKWARD)
    if draw(st.integers(0, 9)) == 0:
        out[draw(st.text(max_size=5))] = draw(AWKWARD)
    return out


@st.composite
def envelope(draw: Any, topic: str) -> Any:
    after = draw(st.one_of(row(topic), st.none(), AWKWARD)) if draw(st.booleans()) else draw(row(topic))
    value: dict[str, Any] = {
        "op": draw(st.sampled_from(["c", "u", "r", "d", "x", None, 1])),
        "before": draw(st.one_of(st.none(), row(topic))),
        "after": after,
        "ts_ms": draw(st.one_of(st.integers(0, 2**41), AWKWARD)),
        "source": draw(st.one_of(st.fixed_dictionaries({"seq": st.one_of(st.integers(0, 99), AWKWARD)}), AWKWARD)),
    }
    if draw(st.integers(0, 7)) == 0:
        return draw(AWKWARD)  # not an object at all
    return value


def _json(value: Any) -> bytes | None:
    try:
        return json.dumps(value).encode()
    except (TypeError, ValueError):
        return None


@st.composite
def record(draw: Any) -> tuple[str, bytes | None, bytes | None]:
    """(topic, key bytes, value bytes) as a careless producer could write them."""
    topic = draw(st.sampled_from(TOPICS))
    pk = ROWS[topic][0]
    key_id = draw(st.one_of(SMALL_INT, AWKWARD))
    kind = draw(st.sampled_from(["bytes", "framed", "json", "avro"]))
    key: bytes | None = draw(st.one_of(
        st.none(), st.binary(max_size=12), st.just(_json({pk: key_id}) or b"{}")))
    if kind == "bytes":
        return topic, key, draw(st.binary(max_size=200))
    if kind == "framed":  # the Avro wire format's header in front of garbage
        schema_id = draw(st.sampled_from([*schemas.ids().values(), 4242]))
        return topic, key, struct.pack(">bI", 0, schema_id) + draw(st.binary(max_size=120))
    value = draw(envelope(topic))
    if kind == "avro":
        try:
            key = codec_for(topic).encode_key({pk: draw(SMALL_INT)})
            return topic, key, codec_for(topic).encode_value(value)
        except (TypeError, ValueError, OverflowError, AttributeError, KeyError):
            pass  # not an Avro-shaped value: send it as JSON
    return topic, key, _json(value) or draw(st.binary(max_size=50))


INTERNAL = ("edfi-stream.student-events", "edfi-stream.write-commands")


@st.composite
def internal_record(draw: Any) -> tuple[str, bytes | None, bytes | None]:
    """A damaged record on a topic the worker itself reads (repartitioned changes, write commands)."""
    topic = draw(st.sampled_from(INTERNAL))
    key = draw(st.one_of(st.sampled_from([b"1", b"2", b"x", b"\xff", b"99999999999999999999999"]),
                         st.binary(max_size=8)))
    if topic == INTERNAL[0]:
        fields = {"sourceTopic": draw(st.sampled_from([*TOPICS, "sis.nothing"])), "key": draw(SMALL_INT),
                  "op": "c", "before": None, "after": json.dumps(ROWS["sis.students"][1]), "tsMs": 1, "seq": None,
                  "broadcast": False}
    else:
        # an action no command has: the record can never reach the ODS, whichever field is damaged
        fields = {"action": "BOGUS", "resource": "studentAssessments", "naturalKey": {
            "assessmentIdentifier": "A", "namespace": "uri://x", "studentAssessmentIdentifier": "K",
            "studentUniqueId": "S"}, "payload": '{"a": 1}', "reason": "r", "sourceTsMs": 1, "schoolId": None,
            "extra": "{}"}
    name = draw(st.sampled_from(sorted(fields)))
    fields[name] = draw(st.one_of(st.sampled_from(['{"broken', "[1]", "1" * 5000, "null"]), AWKWARD))
    if draw(st.booleans()):
        try:
            return topic, key, codec_for(topic).encode_value(fields)
        except (TypeError, ValueError, OverflowError, AttributeError, KeyError):
            pass
    return topic, key, _json(fields) or draw(st.binary(max_size=40))
