"""EgressService: credentials read at construction (fail fast), writes in flight drained within a bound on
stop, then the Ed-Fi client closed (issue 17 part 3). Against the emulator in-process."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from agents.egress_service import EgressService
from streams.config import EdfiSettings
from streams.emulator.core import EdfiEmulator
from streams.emulator.transport import EmulatorTransport
from streams.errors import ConfigurationError
from streams.writes import Action, NaturalKey, WriteCommand

CREDENTIALS = {"EDFI_CLIENT_ID": "key", "EDFI_CLIENT_SECRET": "secret"}


class SlowTransport(EmulatorTransport):
    """The emulator, with every data request held until ``release`` is set."""

    def __init__(self, emulator: EdfiEmulator) -> None:
        super().__init__(emulator)
        self.release = asyncio.Event()

    async def handle_async_request(self, request: Any) -> Any:
        if "/data/" in request.url.path:
            await self.release.wait()
        return await super().handle_async_request(request)


def service(monkeypatch: pytest.MonkeyPatch, transport: Any, drain_seconds: float) -> EgressService:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    settings = EdfiSettings(base_url="http://ods", drain_timeout_seconds=drain_seconds, concurrency="fixed",
                            max_in_flight=4)
    return EgressService(settings, transport=transport)


def command(action: Action, student: str = "00000001") -> WriteCommand:
    payload = {"studentAssessmentIdentifier": f"Math_{student}_2024",
               "assessmentReference": {"assessmentIdentifier": "State Mathematics Assessment",
                                       "namespace": "uri://ksde.org/Assessment/Assessment.xml"},
               "studentReference": {"studentUniqueId": student},
               "scoreResults": [{"assessmentReportingMethodDescriptor":
                                 "uri://ed-fi.org/AssessmentReportingMethodDescriptor#Scale score",
                                 "resultDatatypeTypeDescriptor":
                                 "uri://ed-fi.org/ResultDatatypeTypeDescriptor#Integer", "result": "250"}]}
    return WriteCommand(action, NaturalKey.of_payload(payload), payload, "test")


async def no_dead_letter(cmd: Any, result: Any) -> None:
    raise AssertionError(f"unexpected dead letter: {result}")


def test_missing_credentials_fail_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDFI_CLIENT_ID", raising=False)
    monkeypatch.delenv("EDFI_CLIENT_SECRET", raising=False)
    with pytest.raises(ConfigurationError, match="EDFI_CLIENT_SECRET"):
        EgressService(EdfiSettings())


async def test_stop_drains_the_writes_in_flight_then_closes_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    emu = EdfiEmulator()
    emu.add_client("key", "secret")
    emu.add_student("00000001")
    emu.add_student("00000002")
    transport = SlowTransport(emu)
    egress = service(monkeypatch, transport, drain_seconds=10)
    dispatcher = egress.build({}, no_dead_letter)
    assert egress.build({}, no_dead_letter) is dispatcher  # built once
    await egress.start()
    assert await egress.check_token() is True and egress.authorized() == (True, "")
    await dispatcher.submit(command("POST", student="00000001"), (0, 0))
    await dispatcher.submit(command("POST", student="00000002"), (0, 1))
    asyncio.get_running_loop().call_later(0.3, transport.release.set)
    await egress.stop()
    assert egress.drained is True and dispatcher.in_flight == 0 and len(emu.records()) == 2
    assert egress.client is not None and egress.client.http.is_closed


async def test_stop_is_bounded_when_a_write_never_finishes(monkeypatch: pytest.MonkeyPatch) -> None:
    emu = EdfiEmulator()
    emu.add_client("key", "secret")
    egress = service(monkeypatch, SlowTransport(emu), drain_seconds=0.5)  # never released
    dispatcher = egress.build({}, no_dead_letter)
    await egress.start()
    await dispatcher.submit(command("POST"), (0, 0))
    started = time.monotonic()
    await egress.stop()
    assert time.monotonic() - started < 3
    assert egress.drained is False and dispatcher.committable() == {0: -1}  # not committed: repeated later
    assert egress.client is not None and egress.client.http.is_closed


async def test_a_cancelled_write_never_becomes_committable(monkeypatch: pytest.MonkeyPatch) -> None:
    emu = EdfiEmulator()
    emu.add_client("key", "secret")
    egress = service(monkeypatch, SlowTransport(emu), drain_seconds=0.1)
    dispatcher = egress.build({}, no_dead_letter)
    await dispatcher.submit(command("POST"), (0, 5))
    await asyncio.sleep(0.05)
    for task in list(dispatcher._chains.values()):
        task.cancel()
    await asyncio.sleep(0.05)
    assert dispatcher.committable() == {0: 4}
    await egress.stop()


async def test_stop_does_not_wait_for_writes_held_by_refused_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    emu = EdfiEmulator()
    emu.add_client("key", "another-secret")  # ours is refused
    egress = service(monkeypatch, EmulatorTransport(emu), drain_seconds=30)
    dispatcher = egress.build({}, no_dead_letter)
    await dispatcher.submit(command("POST"), (0, 0))
    for _ in range(100):
        if dispatcher.gate.paused:
            break
        await asyncio.sleep(0.02)
    started = time.monotonic()
    await egress.stop()
    assert dispatcher.gate.reason == "credentials_refused" and egress.drained is False
    assert time.monotonic() - started < 2 and dispatcher.committable() == {0: -1}
