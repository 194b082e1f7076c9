"""worker.commitRepair: the commit repair is attached by default and left out when the setting is off."""

from __future__ import annotations

from typing import Any

import pytest

from streams.config import load_settings


@pytest.mark.parametrize(("value", "attached"), [(None, True), ("true", True), ("false", False)])
def test_commit_repair_follows_the_setting(value: str | None, attached: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    import agents.worker

    calls: list[Any] = []
    monkeypatch.setattr(agents.worker, "attach_commit_repair", lambda app, on_repair: calls.append(app))
    env = {"EDFI_CLIENT_ID": "id", "EDFI_CLIENT_SECRET": "secret"}
    if value is not None:
        env["EDFI_STREAM_WORKER__COMMIT_REPAIR"] = value
    monkeypatch.setenv("EDFI_CLIENT_ID", "id")
    monkeypatch.setenv("EDFI_CLIENT_SECRET", "secret")
    worker = agents.worker.Worker(load_settings(None, environ=env))
    assert (calls == [worker.app]) is attached
