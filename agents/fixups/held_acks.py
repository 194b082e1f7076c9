"""Keep the events an agent is working on unacknowledged until its body is done with them.

Symptom: Faust acknowledges the events a stream handed to an agent in a ``finally`` around its ``yield``,
both in ``Stream.take_events`` (every event of the batch) and in ``Stream.__aiter__`` (the current event).
When the body stops half-way (the worker is stopped with SIGTERM and Faust cancels its agents, or the body
raises), the generator is closed, the ``finally`` acknowledges the events anyway, and the consumer's commit
at shutdown commits past them: they are never processed by anyone.
``tests/faults/test_broker_faults.py::test_worker_started_before_the_broker`` (a worker stopped a few
seconds after records were published) lost 12 to 463 of its 925 ODS records this way (session 8): a join
batch of student events cancelled in ``process_batch`` was committed.

The fix: :func:`held` takes one more reference on each event's message (Faust's own reference count,
``Message.incref``, as the egress does for a write waiting on the ODS) for the duration of the body, and
gives it back only when the body finished normally. Stopped half-way, the ``finally``'s acknowledgement
leaves the count above zero, the offset is not committed, and the next worker reads the events again (a
repeated write, never a lost one). A body that raises leaves its events unacknowledged, so that partition's
commits stay behind them until the worker restarts: no exception is expected there (every per-record error
is a dead letter), and a stalled commit shows in the lag metric, where a loss shows nowhere.

Faust: ``faust.streams.Stream.take_events`` and ``Stream._py_aiter`` (``finally: ... event.ack()``);
``faust.types.tuples.Message.incref`` / ``Message.decref`` / ``Message.refcount``.

Seen with: faust-streaming 0.15.3.

Remove when: Faust acknowledges an event only once the body asked for the next one (not in a ``finally``
that also runs when the generator is closed). The proof: ``tests/integration/test_held_acks.py``'s
``test_faust_commits_what_a_stopped_agent_never_finished`` fails (Faust fixed), then this module and its
callers in agents/ingest.py, agents/join.py and agents/egress.py can go.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any


@asynccontextmanager
async def held(events: Iterable[Any]) -> AsyncIterator[None]:
    """``async with held(events):`` the body; the events' acknowledgements count only if it finishes."""
    messages = [event.message for event in events]
    for message in messages:
        message.incref()
    yield
    for message in messages:
        message.decref()


def references(event: Any) -> int:
    """How many acknowledgements the event's message still waits for (0: acknowledged or never tracked)."""
    count: int = event.message.refcount
    return count
