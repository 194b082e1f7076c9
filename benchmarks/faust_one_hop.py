"""The framework's own ceiling: a trivial one-hop Faust agent (read every SIS input topic, forward each record to
one topic) on the same broker as the pipeline benchmark. Run by ``pipeline_throughput.py --one-hop`` as a child
process (its own event loop and Kafka clients, like the worker):

    python benchmarks/faust_one_hop.py BOOTSTRAP EXPECTED [--tansu]

Prints one JSON line: events forwarded, events/s from the worker's start and from its first record.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    import faust

    from agents.topics import INPUT_TOPICS
    from streams.broker.admin import ensure_topics

    bootstrap, expected = sys.argv[1], int(sys.argv[2])
    extra: dict[str, Any] = {}
    if "--tansu" in sys.argv:  # the same tansu workarounds the worker gets (streams/kafka/tansu.py)
        from agents.fixups.fetch_wait import set_fetch_max_wait_ms

        set_fetch_max_wait_ms(100)
    started = time.perf_counter()
    app = faust.App(f"one-hop-{uuid.uuid4().hex[:8]}", broker=f"kafka://{bootstrap}", store="memory://",
                    web_enabled=False, topic_partitions=4, consumer_auto_offset_reset="earliest",
                    broker_session_timeout=2.0, broker_heartbeat_interval=0.5, key_serializer="raw",
                    value_serializer="raw", **extra)
    source = app.topic(*INPUT_TOPICS, key_type=bytes, value_type=bytes, allow_empty=True)
    sink_name = f"bench.one-hop-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap, [sink_name], 4)  # Faust creates only internal topics, and only at its start
    sink = app.topic(sink_name, partitions=4, key_type=bytes, value_type=bytes)
    state = {"count": 0, "first": 0.0}

    @app.agent(source)
    async def forward(stream: Any) -> None:
        async for event in stream.events():
            await sink.send(key=event.key, value=event.value)
            state["count"] += 1
            if state["count"] == 1:
                state["first"] = time.perf_counter()
            if state["count"] >= expected:
                await app.producer.flush()
                now = time.perf_counter()
                line = json.dumps({"benchmark": "faust_one_hop", "events": state["count"],
                                   "events_per_second": round(state["count"] / (now - started)),
                                   "after_first_record_events_per_second":
                                       round(state["count"] / max(now - state["first"], 1e-9))})
                os.write(1, (line + "\n").encode())  # straight to fd 1: Faust's worker redirects sys.stdout
                os._exit(0)

    faust.Worker(app, loglevel="WARNING", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
