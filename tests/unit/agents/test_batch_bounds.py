"""Micro-batched hops (issue 20): a batch closes when it is full or on its short time bound, and the bounds
are the settings' (``worker.batchMaxEvents``, ``worker.batchMaxWaitMs``)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import faust
import pytest
from faust.transport.consumer import Consumer as FaustConsumer
from faust.transport.drivers import aiokafka as faust_aiokafka

from agents.app import create_app
from agents.fixups import gap_check
from streams.config import load_settings
from streams.errors import ConfigurationError


def test_the_bounds_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # create_app installs the fetch-wait fix (a module swap) and the gap check: undone after the test
    monkeypatch.setattr(faust_aiokafka, "aiokafka", faust_aiokafka.aiokafka)
    monkeypatch.setattr(FaustConsumer, "_add_gap", FaustConsumer._add_gap)
    monkeypatch.setattr(gap_check, "_reader", gap_check._reader)
    default = load_settings(None, environ={})
    assert (default.worker.batch_max_events, default.worker.batch_max_wait_ms) == (500, 10)
    settings = load_settings(None, environ={"EDFI_STREAM_WORKER__BATCH_MAX_EVENTS": "64",
                                            "EDFI_STREAM_WORKER__BATCH_MAX_WAIT_MS": "25"})
    parts = create_app(settings)
    assert (parts.batch_max_events, parts.batch_max_wait_seconds) == (64, 0.025)
    with pytest.raises(ConfigurationError):
        load_settings(None, environ={"EDFI_STREAM_WORKER__BATCH_MAX_WAIT_MS": "0"})


def batches_of(max_events: int, within: float, values: list[bytes], together: bool) -> list[tuple[float, list[Any]]]:
    """The batches an agent taking ``max_events`` ``within`` seconds sees (seconds since the first put)."""
    app = faust.App(f"batch-bounds-{max_events}", broker="kafka://localhost:1", store="memory://",
                    web_enabled=False)
    topic = app.topic("batch-bounds", key_type=bytes, value_type=bytes, key_serializer="raw",
                      value_serializer="raw")
    seen: list[tuple[float, list[Any]]] = []
    started = [0.0]

    @app.agent(topic)
    async def agent(stream: Any) -> Any:
        async for events in stream.take_events(max_events, within=within):
            seen.append((time.monotonic() - started[0], [e.value for e in events]))
            yield len(events)

    async def scenario() -> None:
        async with agent.test_context() as running:
            started[0] = time.monotonic()
            if together:
                await asyncio.gather(*(running.put(v) for v in values))
            else:
                for value in values:
                    await running.put(value)
            for _ in range(200):
                if sum(len(b) for _, b in seen) >= len(values):
                    break
                await asyncio.sleep(0.01)

    asyncio.run(scenario())
    return seen


def test_a_batch_that_does_not_fill_closes_on_its_time_bound() -> None:
    seen = batches_of(500, 0.05, [b"only"], together=False)
    assert [b for _, b in seen] == [[b"only"]]
    assert 0.03 <= seen[0][0] < 2.0, "one event waits for the time bound, not for 500 events"


def test_a_full_batch_closes_at_its_size_and_keeps_the_order() -> None:
    values = [str(i).encode() for i in range(5)]
    seen = batches_of(2, 5.0, values, together=True)
    flat = [v for _, batch in seen for v in batch]
    assert flat == values, "one partition's events keep their order across batches"
    assert all(len(batch) <= 2 for _, batch in seen)
    assert seen[0][0] < 4.0, "a full batch does not wait for the time bound"
