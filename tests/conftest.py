"""Shared fixtures: one broker per test session, and names that no two tests share.

The broker is Apache Kafka 4 (one KRaft node, jars from Maven Central) unless ``EDFI_STREAM_TEST_BROKER=tansu``
(streams/broker/select.py); the stacks of the integration and fault tests start the same kind.

Integration tests (everything under tests/integration/, marked ``integration`` automatically) need the
real broker. When it cannot start they must fail, never skip: a skipped integration suite looks green
while testing nothing. The hook below turns any skip of an integration test into a failure.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from streams.broker.select import LocalBroker, local_broker, test_broker_kind

INTEGRATION_DIR = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if report.skipped and item.get_closest_marker("integration") and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = call.excinfo.exconly() if call.excinfo is not None else "skipped"
        report.longrepr = f"integration test skipped, which counts as a failure here: {reason}"


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """The session's broker (``$EDFI_STREAM_TEST_BROKER``: kafka or tansu), started once; its log and data are in
    the session's temp dir. Both kinds have one interface (``bootstrap_servers``, ``kind``, ``start``/``stop``)."""
    running = local_broker(test_broker_kind(), tmp_path_factory.mktemp("broker"))
    with running:
        yield running


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """``unique_name("group")`` -> ``group-<uuid hex>``: for group ids, app ids, file names."""

    def make(prefix: str = "test") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    return make


@pytest.fixture
def unique_topic(broker: LocalBroker, unique_name: Callable[[str], str]) -> Callable[..., str]:
    """``unique_topic("scores", partitions=2)`` creates a fresh topic on the session broker, returns its name."""
    from streams.broker.admin import ensure_topics

    def make(prefix: str = "topic", partitions: int = 1) -> str:
        name = unique_name(prefix)
        ensure_topics(broker.bootstrap_servers, [name], partitions)
        return name

    return make
