"""Consumer settings Faust does not expose, applied to the aiokafka consumers it creates.

Faust hard-codes ``fetch_max_wait_ms=1500``. The embedded tansu broker holds a fetch for the full wait
even when records arrive meanwhile, so every hop (ingest -> join -> egress) could add up to 1.5 s of
latency; against a real Kafka a fetch returns as soon as data is there and a shorter wait only costs a
few idle fetches. ``kafka.fetchMaxWaitMs`` sets it for every Faust consumer.
"""

from __future__ import annotations

import types
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka

_ORIGINAL = faust_aiokafka.aiokafka


def set_fetch_max_wait_ms(value: int) -> None:
    def consumer(*args: Any, **kwargs: Any) -> Any:
        kwargs["fetch_max_wait_ms"] = value
        return _ORIGINAL.AIOKafkaConsumer(*args, **kwargs)

    proxy = types.SimpleNamespace(**{name: getattr(_ORIGINAL, name) for name in dir(_ORIGINAL)
                                     if not name.startswith("__")})
    proxy.AIOKafkaConsumer = consumer
    faust_aiokafka.aiokafka = proxy  # type: ignore[assignment]
