"""The ODS read shape of a studentAssessment (API-BEHAVIOUR.md 1.7): what GET answers for a stored body.

The ODS answers every reference with a read-only ``link: {rel, href}`` and every collection member, empty
ones as ``[]`` (ODS Postman ResponseTests "Reference Links"); a client that compares what it reads with
what it sent must ignore both. The emulator adds them unless built with ``ods_read_shape=False`` (the ids
in ``href`` are stable per referenced key, not real). Descriptor values read back as the descriptor was
loaded (the ODS stores a descriptor id and answers its ``namespace#codeValue``): :func:`publish_descriptors`
stores them so; dates and date-times are stored as they read back by :mod:`.datetimes`.
"""

from __future__ import annotations

import functools
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streams.emulator.reference import OdsReference

# reference member -> (link rel, resource of the href)
REFERENCES: dict[str, tuple[str, str]] = {
    "assessmentReference": ("Assessment", "assessments"),
    "studentReference": ("Student", "students"),
    "reportedSchoolReference": ("School", "schools"),
    "schoolYearTypeReference": ("SchoolYearType", "schoolYearTypes"),
    "objectiveAssessmentReference": ("ObjectiveAssessment", "objectiveAssessments"),
    "assessmentItemReference": ("AssessmentItem", "assessmentItems"),
}
TOP_COLLECTIONS = ("accommodations", "items", "performanceLevels", "scoreResults", "studentObjectiveAssessments")
OBJECTIVE_COLLECTIONS = ("performanceLevels", "scoreResults")
LINK_NAMESPACE = uuid.UUID("5d1f2b1c-6a53-4d9e-9a0e-2f1c5e0b7a11")


def link_for(rel: str, resource: str, ref: dict[str, Any]) -> dict[str, str]:
    """The link of a reference; the id is stable per key (the seeding Location uses the same id)."""
    key = "|".join(f"{k}={str(ref[k]).lower()}" for k in sorted(ref) if k != "link")
    return {"rel": rel, "href": f"/ed-fi/{resource}/{_link_id(resource, key)}"}


@functools.lru_cache(maxsize=65536)
def _link_id(resource: str, key: str) -> str:
    return uuid.uuid5(LINK_NAMESPACE, resource + "|" + key).hex


def _shaped(node: Any) -> Any:
    """A copy of ``node`` with a ``link`` in every reference (one pass, no deep copy first)."""
    if isinstance(node, dict):
        out = {}
        for member, value in node.items():
            if member in REFERENCES and isinstance(value, dict):
                out[member] = {**value, "link": link_for(*REFERENCES[member], value)}
            else:
                out[member] = _shaped(value)
        return out
    if isinstance(node, list):
        return [_shaped(item) for item in node]
    return node


def with_links_and_empty_collections(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = _shaped(body)
    for member in TOP_COLLECTIONS:
        out.setdefault(member, [])
    for objective in out["studentObjectiveAssessments"]:
        if isinstance(objective, dict):
            for member in OBJECTIVE_COLLECTIONS:
                objective.setdefault(member, [])
    return out


def publish_descriptors(node: Any, reference: OdsReference) -> None:
    """Replace, in place, every descriptor value with the URI as the descriptor was loaded (its case)."""
    if isinstance(node, dict):
        for member, value in node.items():
            if isinstance(value, str):
                if member.endswith("Descriptor"):
                    node[member] = reference.published_uri(value.lower())
            elif isinstance(value, (dict, list)):  # only containers are walked into
                publish_descriptors(value, reference)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, (dict, list)):
                publish_descriptors(item, reference)
