"""What of a studentAssessment read back from the ODS/API to compare with what the rules would send.

A real ODS/API does not answer a body as it was sent (API-BEHAVIOUR.md 1.7): it adds ``id``, ``_etag``,
``_lastModifiedDate`` and a ``link`` in every reference, answers every collection (``[]`` when empty),
writes date-times in UTC with a ``Z`` (``2021-09-28`` sent reads back ``2021-09-28T00:00:00Z``,
``2022-09-05T16:44:33`` reads back ``...33Z``) and dates as ``yyyy-MM-dd``, and answers a descriptor with
the case it was loaded in (descriptors match case-insensitively). :func:`comparable` removes all of that
from either side, so a record and its read-back compare equal, and only a difference in what the Ed-Fi
members say is a difference (a resync PUT).

Why not in the rules: the rules produce exactly one form; this is what the egress and the resync must
accept from whichever ODS answers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

SERVER_MEMBERS = frozenset({"id", "_etag", "_lastModifiedDate", "link"})
# members of StudentAssessment (DS 4.0-5.2) of OpenAPI format date-time and date
DATE_TIME_MEMBERS = frozenset({"administrationDate", "administrationEndDate"})
DATE_MEMBERS = frozenset({"beginDate", "endDate"})
_ISO_DAY = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})")


def _instant(text: str) -> str:
    """A date-time in one form: UTC, seconds, ``Z``; a value that does not parse is compared as it is."""
    value = text.strip().replace("/", "-")
    try:
        moment = dt.datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", value))
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _day(text: str) -> str:
    match = _ISO_DAY.match(text.strip())
    if not match:
        return text
    return "-".join((match[1], match[2].zfill(2), match[3].zfill(2)))


def _clean(member: str, value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _clean(k, v) for k, v in value.items()
                if k not in SERVER_MEMBERS and v is not None and not (isinstance(v, list) and not v)}
    if isinstance(value, list):
        return [_clean(member, v) for v in value]
    if isinstance(value, str):
        if member in DATE_TIME_MEMBERS:
            return _instant(value)
        if member in DATE_MEMBERS:
            return _day(value)
        if member.endswith("Descriptor"):
            return value.lower()
    return value


def comparable(body: Mapping[str, Any]) -> dict[str, Any]:
    """The Ed-Fi members of ``body`` in one form: without what the ODS adds on read (ids, etags, dates of
    change, ``link`` at any depth, empty collections, nulls), with date-times in UTC ``Z`` form, dates as
    ``yyyy-MM-dd`` and descriptors lower-cased."""
    return dict(_clean("", body))
