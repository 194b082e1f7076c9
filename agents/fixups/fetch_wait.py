"""The consumer's ``fetch_max_wait_ms``, which Faust hard-codes, from ``kafka.fetchMaxWaitMs``.

Symptom: Faust builds every aiokafka consumer with ``fetch_max_wait_ms=1500`` and no setting to change it.
The embedded tansu broker holds a fetch for the full wait even when records arrive meanwhile, so every hop
(ingest -> join -> egress) could add up to 1.5 s of latency; against a real Kafka a fetch returns as soon
as data is there and a shorter wait only costs a few idle fetches. The fix gives Faust's driver a copy of
the ``aiokafka`` module whose ``AIOKafkaConsumer`` overrides that one argument.

Faust: ``faust.transport.drivers.aiokafka.AIOKafkaConsumerThread._create_worker_consumer`` (and
``_create_client_consumer``), which call ``aiokafka.AIOKafkaConsumer`` through the driver module's global
``aiokafka``.

Seen with: faust-streaming 0.15.3, aiokafka 0.14.0.

Remove when: Faust has a ``consumer_fetch_max_wait_ms`` setting (pass it in agents/app.py instead), or the
project's brokers all answer a fetch as soon as records arrive: ``benchmarks/pipeline_throughput.py --latency
--rate 100 --fetch-max-wait-ms 1500`` shows the same p99 on tansu as with 20.
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


def driver_module() -> Any:
    """What Faust's aiokafka driver calls ``aiokafka`` now (the module, or this fix's copy of it)."""
    return faust_aiokafka.aiokafka
