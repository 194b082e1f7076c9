"""Whose is each score and enrollment: remembered from the events seen, for partial before images.

PostgreSQL's default replica identity (and MySQL's ``binlog_row_image=minimal``) gives a delete a before
image with only the primary key (other NOT NULL columns 0/false: ``personID: 0``) and an update no
before image at all. The rules need the old owner: a delete must reach the student who had the row, a
score moved to another student must leave the first one. So every event's after image records
``row -> personID`` here, and :meth:`OwnerIndex.resolve` fills in the owner an event does not carry.

A delete whose owner neither the event nor the index knows is poison (``unknown_owner``) with a reason
naming the table and the setting that fixes it, never a routing to an invented student.

The index is any mutable mapping: a dict for ``simulate`` and ``resync``, a Faust table in the worker
(agents/ingest.py) so that it survives restarts. Keys are ``"<t>:<primary key>"`` strings, values ints.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import replace
from typing import Any

from streams.errors import PoisonInput
from streams.sis.events import ChangeEvent, PriorOwner
from streams.topics import ENROLLMENTS, SIS_TABLE_NAMES, TEST_SCORES

_PREFIX = {ENROLLMENTS: "e:", TEST_SCORES: "t:"}


def owner_key(topic: str, key: int) -> str:
    return f"{_PREFIX[topic]}{key}"


class OwnerIndex:
    """``resolve`` then ``record``: the event with its owner, then the index updated by the event."""

    def __init__(self, store: MutableMapping[Any, Any] | None = None) -> None:
        self.store: MutableMapping[Any, Any] = {} if store is None else store
        # the row last read or written (store, topic, primary key, store key, value): ``record`` right after
        # ``resolve`` of the same row builds no key and does no second lookup (a Faust table's is not free).
        # Every write goes through here.
        self._last: tuple[Any, Any, Any, str, Any] = (None, None, None, "", None)

    def resolve(self, event: ChangeEvent) -> ChangeEvent:
        prefix = _PREFIX.get(event.topic)
        if prefix is None:
            return event
        store = self.store
        key = f"{prefix}{event.key}"
        known = store.get(key)
        self._last = (store, event.topic, event.key, key, known)
        before: Any = event.before  # a score's or enrollment's row, or a PriorOwner: both have person_id
        before_owner = None if before is None else before.person_id
        if event.op == "d":
            if before_owner is not None:
                return event
            if known is None:
                table = SIS_TABLE_NAMES[event.topic]
                raise PoisonInput("unknown_owner", (
                    f"a delete of {table} {event.key} has no full before image and this row was never seen, "
                    f"so whose it was is unknown; run ALTER TABLE \"{table}\" REPLICA IDENTITY FULL in the SIS "
                    "database (PostgreSQL) or binlog_row_image=FULL (MySQL), then `edfi-stream resync`"))
            return replace(event, before=PriorOwner(int(known)))
        if known is not None and before_owner != known:
            after: Any = event.after
            if after is None or known != after.person_id:
                # the row moved to another student (or was re-read after moving): the old owner must hear of it
                return replace(event, before=PriorOwner(int(known)))
        return event

    def record(self, event: ChangeEvent) -> None:
        if event.op == "d":
            # kept, not forgotten: a delete read again after a crash (at-least-once) must still find its owner
            return
        after: Any = event.after
        if after is None:
            return
        store, topic, row, key, known = self._last
        if store is not self.store or topic != event.topic or row != event.key:
            prefix = _PREFIX.get(event.topic)
            if prefix is None:
                return
            store, key = self.store, f"{prefix}{event.key}"
            known = store.get(key)
        owner = after.person_id
        if known != owner:
            store[key] = owner
        self._last = (store, event.topic, event.key, key, owner)

    def apply(self, event: ChangeEvent) -> ChangeEvent:
        """:meth:`resolve`, then :meth:`record`; raises PoisonInput (``unknown_owner``)."""
        resolved = self.resolve(event)
        self.record(resolved)
        return resolved


def before_image(event: ChangeEvent, raw_before: Any) -> Any:
    """The before image to forward for ``event`` after :meth:`OwnerIndex.resolve`: the raw one, or only
    its owner (``{"personID": n}``, which the join reads back as a :class:`PriorOwner`)."""
    if isinstance(event.before, PriorOwner):
        return {"personID": event.before.person_id}
    return raw_before


__all__ = ["OwnerIndex", "before_image", "owner_key"]
