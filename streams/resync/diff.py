"""The resync decision, as pure code: desired records, ODS records and identity map in; actions out.

Seed 003, Resync Logic:
* "When a record is in the Ed-Fi Identity Mapping table and not in the ODS, it is deleted from the Ed-Fi
  Identity Mapping table" -> ``forget`` (and ``post`` again if the rules still want the record);
* "When a record is in the ODS and it does not have a matching record in Campus or the Ed-Fi Identity
  Mapping table, it is deleted from the ODS" -> ``delete``;
* records whose ODS body differs from what the rules say -> ``put``; wanted but missing -> ``post``. The
  bodies are compared as :func:`streams.edfi.readback.comparable` gives them: what a real ODS adds or
  rewrites on read (ids, etags, ``link``, empty collections, date-time and descriptor forms) is no
  difference;
* a record kept by 003's scope-year exception ("a delete isn't sent ... as the record is tied to a student":
  its test moved out of scope, a score still qualifies) has its matching record in Campus: left as it is.

Only records of the configured namespace are ever touched (the caller filters the ODS listing).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from streams.edfi.dependencies import DependencyOrder
from streams.edfi.readback import comparable
from streams.rules.evaluate import DesiredRecord
from streams.writes import NaturalKey, canonical_payload_hash

ResyncAction = Literal["post", "put", "delete", "forget"]


@dataclass(frozen=True)
class Action:
    action: ResyncAction
    natural_key: NaturalKey
    reason: str
    payload: dict[str, Any] | None = None
    ods_id: str | None = None
    school_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "studentAssessmentIdentifier": self.natural_key.student_assessment_identifier,
                "assessmentIdentifier": self.natural_key.assessment_identifier,
                "studentUniqueId": self.natural_key.student_unique_id, "reason": self.reason,
                "odsId": self.ods_id, "schoolId": self.school_id}


@dataclass
class ResyncPlan:
    actions: list[Action] = field(default_factory=list)
    ods_count: int = 0
    desired_count: int = 0
    order: DependencyOrder = field(default_factory=DependencyOrder)   # the API's, for publishing commands

    def counts(self) -> Counter[str]:
        return Counter(a.action for a in self.actions)

    @property
    def delete_share(self) -> float:
        return self.counts()["delete"] / self.ods_count if self.ods_count else 0.0


def _ods_key(record: Mapping[str, Any]) -> NaturalKey:
    return NaturalKey.of_payload(dict(record))


def plan_resync(desired: Mapping[str, DesiredRecord], ods_records: Iterable[Mapping[str, Any]],
                identity: Mapping[str, Any], kept: Collection[str] = ()) -> ResyncPlan:
    """``identity``: studentAssessmentIdentifier -> anything truthy (the worker's identity map keys);
    ``kept``: identifiers the rules keep as the ODS has them (``Evaluation.retained``)."""
    plan = ResyncPlan(desired_count=len(desired))
    ods_by_key: dict[NaturalKey, Mapping[str, Any]] = {}
    for record in ods_records:
        plan.ods_count += 1
        ods_by_key[_ods_key(record)] = record
    wanted_keys = {r.natural_key: said for said, r in desired.items()}
    for key, record in sorted(ods_by_key.items()):
        if key not in wanted_keys and key.student_assessment_identifier not in kept:
            plan.actions.append(Action("delete", key, "in the ODS but not wanted by the rules for the SIS",
                                       ods_id=str(record.get("id")),
                                       school_id=(record.get("reportedSchoolReference") or {}).get("schoolId")))
    for _said, rec in sorted(desired.items()):
        current = ods_by_key.get(rec.natural_key)
        if current is None:
            plan.actions.append(Action("post", rec.natural_key, "wanted by the rules, missing in the ODS",
                                       rec.payload, school_id=rec.school_id))
        elif canonical_payload_hash(comparable(current)) != canonical_payload_hash(comparable(rec.payload)):
            plan.actions.append(Action("put", rec.natural_key, "the ODS differs from the rules", rec.payload,
                                       ods_id=str(current.get("id")), school_id=rec.school_id))
    present = {k.student_assessment_identifier for k in ods_by_key}
    for said in sorted(identity):
        if said not in present:
            target = desired.get(said)
            key = target.natural_key if target else NaturalKey("", "", said, "")
            plan.actions.append(Action("forget", key, "in the identity map but not in the ODS"))
    return plan
