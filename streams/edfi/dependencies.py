"""The order in which the Ed-Fi API wants resources written: its ``/metadata/data/v3/dependencies``.

An ODS/API answers, for each resource, the ``order`` in which a loader must create or update it (ODS
``AggregateDependencyControllerTests.Should_Get_Dependencies.approved.txt``: descriptors 1, students 3
for Create and 14 for Update, schools 5, assessments 11, studentAssessments 14, ...). Ed-Fi's own loaders
write a lower order first, and the change-query sync recipe deletes in the reverse order
(API-BEHAVIOUR.md 3, 5). The egress does the same with a batch of commands of several resources (a resync
publishes one): :meth:`DependencyOrder.sort`, with the order read from the API it writes to
(:func:`read_order`), never a copy of our own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from streams.writes import WriteCommand

UNKNOWN = 1_000_000   # a resource the document does not list goes after every listed one


@dataclass(frozen=True)
class DependencyOrder:
    create: Mapping[str, int] = field(default_factory=dict)   # resource (lower-case) -> order of Create
    update: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_document(cls, entries: Iterable[Mapping[str, Any]]) -> DependencyOrder:
        create: dict[str, int] = {}
        update: dict[str, int] = {}
        for entry in entries:
            resource = str(entry.get("resource", "")).rsplit("/", 1)[-1].lower()
            order, operations = entry.get("order"), entry.get("operations") or []
            if not resource or not isinstance(order, int):
                continue
            if "Create" in operations:
                create[resource] = min(order, create.get(resource, order))
            if "Update" in operations:
                update[resource] = min(order, update.get(resource, order))
        return cls(create, update)

    def rank(self, resource: str, action: str) -> int:
        """The order of writing ``resource`` with ``action`` (POST creates, PUT updates, DELETE reverses)."""
        name = resource.lower()
        if action == "PUT":
            return self.update.get(name, self.create.get(name, UNKNOWN))
        created = self.create.get(name, self.update.get(name, UNKNOWN))
        return -created if action == "DELETE" else created

    def sort(self, commands: Sequence[WriteCommand]) -> list[WriteCommand]:
        """Deletes first, the most dependent resource first; then creates and updates by their order. Stable:
        commands of one resource keep their order (one record's commands stay in sequence)."""
        return sorted(commands, key=lambda c: (c.action != "DELETE", self.rank(c.resource, c.action)))


async def read_order(http: httpx.AsyncClient, base_url: str) -> DependencyOrder:
    """The API's dependency order (its discovery document names the URL); empty (every resource alike,
    commands keep their order) when the API does not serve one."""
    try:
        root = await http.get(base_url.rstrip("/") + "/")
        url = ((root.json() or {}).get("urls") or {}).get("dependencies") if root.status_code == 200 else None
        answer = await http.get(url or base_url.rstrip("/") + "/metadata/data/v3/dependencies")
        if answer.status_code != 200 or not isinstance(answer.json(), list):
            return DependencyOrder()
        return DependencyOrder.from_document(answer.json())
    except (httpx.HTTPError, ValueError):
        return DependencyOrder()
