"""The identity map: studentAssessmentIdentifier -> the ODS id and the hash of the last acknowledged body.

Learnt from Location headers. It makes PUT and DELETE possible without a lookup and lets the sender skip a
write whose payload the ODS already has. It is a cache of the ODS, never the truth: an unknown or stale id
is found again by GET on the natural key.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class IdentityEntry:
    ods_id: str
    payload_hash: str | None
    # the natural key the id belongs to ("|"-joined): a DELETE of another key must not use this id
    key: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.ods_id, "h": self.payload_hash, "k": self.key}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IdentityEntry:
        return cls(str(data["id"]), data.get("h"), str(data.get("k") or ""))


IdentityMap = MutableMapping[str, IdentityEntry]
InMemoryIdentityMap = dict
