"""``worker.replayFrom`` from the environment stays the text it was given: every environment value is read
as YAML, which makes an ISO time a datetime, and the setting refused it, so a replay from a time could only
be started with ``--replay-from``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from streams.config import load_settings


def test_an_iso_time_from_the_environment_is_kept_as_iso_text() -> None:
    for text in ("2026-12-01T20:28:00.123456+00:00", "2024-01-01T08:00:00", "2024-01-01", "beginning"):
        assert load_settings(None, environ={"EDFI_STREAM_WORKER__REPLAY_FROM": text}).worker.replay_from == text


def test_an_iso_time_in_the_configuration_file_names_the_same_instant(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("worker: {replayFrom: 2024-03-01T12:30:00+00:00}\n")
    found = load_settings(config, environ={}).worker.replay_from
    assert found is not None
    assert dt.datetime.fromisoformat(found) == dt.datetime(2024, 3, 1, 12, 30, tzinfo=dt.UTC)
