"""Shared fixtures: one embedded broker per test session, and names that no two tests share.

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

from streams.broker.embedded import EmbeddedBroker

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
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """The embedded tansu broker, started once per session (its log is in the session's temp dir)."""
    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    with EmbeddedBroker(log_path=log) as running:
        yield running


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """``unique_name("group")`` -> ``group-<uuid hex>``: for group ids, app ids, file names."""

    def make(prefix: str = "test") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    return make


@pytest.fixture
def unique_topic(broker: EmbeddedBroker, unique_name: Callable[[str], str]) -> Callable[..., str]:
    """``unique_topic("scores", partitions=2)`` creates a fresh topic on the session broker, returns its name."""
    from streams.broker.admin import ensure_topics

    def make(prefix: str = "topic", partitions: int = 1) -> str:
        name = unique_name(prefix)
        ensure_topics(broker.bootstrap_servers, [name], partitions)
        return name

    return make
