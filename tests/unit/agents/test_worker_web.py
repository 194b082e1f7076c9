"""The worker's web wiring, without a broker: the start-up warnings and Faust's own views switched off."""

from __future__ import annotations

import logging

import pytest

from streams.config import load_settings


def build(env: dict[str, str]) -> object:
    from agents.worker import Worker

    return Worker(load_settings(environ=env))


def test_warns_at_start_about_plain_http_to_another_machine_and_missing_credentials(
        caplog: pytest.LogCaptureFixture, tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDFI_CLIENT_ID", "id")  # the worker reads the Ed-Fi credentials when it is built
    monkeypatch.setenv("EDFI_CLIENT_SECRET", "secret")
    for name in ("TOKEN", "USER", "PASSWORD"):
        for role in ("VIEWER", "OPERATOR"):
            monkeypatch.delenv(f"EDFI_STREAM_WEB_{role}_{name}", raising=False)
    with caplog.at_level(logging.WARNING, logger="agents.web"):
        worker = build({"EDFI_STREAM_EDFI__BASE_URL": "http://ods.district.example/api",
                        "EDFI_STREAM_WORKER__DATA_DIR": str(tmp_path)})
    messages = [r.getMessage() for r in caplog.records]
    assert any("plain http" in m for m in messages), messages
    assert any("no web credentials" in m for m in messages), messages
    conf = worker.app.conf  # type: ignore[attr-defined]
    assert not (conf.web_tables_enabled or conf.web_router_enabled or conf.web_graph_enabled
                or conf.web_stats_enabled)


def test_no_warning_for_https_or_this_machine(caplog: pytest.LogCaptureFixture, tmp_path: object,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDFI_CLIENT_ID", "id")
    monkeypatch.setenv("EDFI_CLIENT_SECRET", "secret")
    monkeypatch.setenv("EDFI_STREAM_WEB_VIEWER_TOKEN", "t")  # the worker reads its credentials from the environment
    for url in ("https://ods.district.example/api", "http://localhost:8001"):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="agents.web"):
            build({"EDFI_STREAM_EDFI__BASE_URL": url, "EDFI_STREAM_WORKER__DATA_DIR": str(tmp_path)})
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING], url
