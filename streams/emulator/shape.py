"""The ODS read shape of a studentAssessment (API-BEHAVIOUR.md 1.7): what GET adds to the stored body.

The ODS answers every reference with a read-only ``link: {rel, href}`` and every collection member, empty
ones as ``[]``; a client that compares what it reads with what it sent must ignore both. The emulator adds
them when built with ``ods_read_shape=True`` (the ids in ``href`` are stable per referenced key, not real).
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

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
    return {"rel": rel, "href": f"/ed-fi/{resource}/{uuid.uuid5(LINK_NAMESPACE, resource + '|' + key).hex}"}


def _add_links(node: Any) -> None:
    if isinstance(node, dict):
        for member, value in node.items():
            if member in REFERENCES and isinstance(value, dict):
                value["link"] = link_for(*REFERENCES[member], value)
            else:
                _add_links(value)
    elif isinstance(node, list):
        for item in node:
            _add_links(item)


def with_links_and_empty_collections(body: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(body)
    for member in TOP_COLLECTIONS:
        out.setdefault(member, [])
    for objective in out["studentObjectiveAssessments"]:
        if isinstance(objective, dict):
            for member in OBJECTIVE_COLLECTIONS:
                objective.setdefault(member, [])
    _add_links(out)
    return out
