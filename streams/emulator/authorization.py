"""Education-organization authorization of the emulated ODS (API-BEHAVIOUR.md 1.10, 2.7.5).

A district's ODS gives each API client a claim set and the education organizations it may act for; a
client limited to some schools gets ``403 urn:ed-fi:api:security:authorization`` when a studentAssessment
it writes, reads by id or deletes reports a school outside them, and a GET of the collection silently
leaves such items out (DMS ``Features/Authorization/RoleNamedSecurity/StudentAssessmentAuthorization.feature``
scenarios 05-08; ODS Postman "Custom View-Based Authorization Test Suite", "Student Assessment Lifecyle").
The emulator checks ``reportedSchoolReference.schoolId`` against the client's education organizations
(``EdfiEmulator.add_client(key, secret, education_organization_ids=...)``, or the token's ``scope``); a
client with no list may act for every school, as the emulator's clients always could.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streams.emulator.problems import problem
from streams.emulator.responses import EmulatorResponse, _json

AUTHORIZATION = "urn:ed-fi:api:security:authorization"


def covers(allowed: frozenset[int] | None, body: Mapping[str, Any]) -> bool:
    if allowed is None:
        return True
    school = (body.get("reportedSchoolReference") or {}).get("schoolId")
    return isinstance(school, int) and school in allowed


def denied(allowed: frozenset[int] | None, body: Mapping[str, Any], legacy: bool) -> EmulatorResponse | None:
    """The 403 answer when the caller's education organizations do not cover the record, else None."""
    if covers(allowed, body):
        return None
    claims = ", ".join(f"'{edorg}'" for edorg in sorted(allowed or ()))
    return _json(403, problem(403, AUTHORIZATION, "Access to the requested data could not be authorized.",
                              errors=[f"No relationships have been established between the caller's education "
                                      f"organization id claims ({claims}) and the resource item's "
                                      "'ReportedSchool' value."], legacy=legacy))
