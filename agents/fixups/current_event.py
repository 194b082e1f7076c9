"""Making an event Faust's "current event" outside its stream's iteration.

Symptom: a table change goes to the changelog partition of the *current event*, which Faust sets only
while a stream hands an event to its agent. The join writes a batch's buffered table changes after the
batch's sends are acknowledged (agents/join_batch.py), when the current event is some later one, possibly
of another partition; Faust has no public API to make an event current, so the change would land in the
wrong changelog partition (and recover into the wrong worker after a rebalance).

Faust: ``faust.streams._current_event`` (a ``ContextVar`` of a weak reference to the event, read by
``faust.streams.current_event()`` and ``Table._send_changelog`` through ``Collection.partition_for_key``).

Seen with: faust-streaming 0.15.3.

Remove when: Faust offers a public way to set the current event or to give a table write its partition
(``Table.__setitem__`` with an explicit partition, say); the proof is tests/unit/agents/test_join_batch.py
with this module's context manager replaced by that API.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from faust import streams as faust_streams


@contextmanager
def as_current_event(event: Any) -> Iterator[None]:
    """Within the block, ``faust.streams.current_event()`` is ``event``; afterwards what it was before."""
    token = faust_streams._current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        faust_streams._current_event.reset(token)
