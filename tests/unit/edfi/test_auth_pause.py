"""Authentication failures pause the egress instead of rejecting data (issue 13 part 4), against the emulator
in-process with the real client, sender and dispatcher: the writes wait (no dead letter, nothing committable
past them), the gate and the metrics say why, and they all go through once the API accepts us again. A 403
for one record stays a dead letter of that record."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx

from streams.config import EdfiSettings
from streams.edfi.auth_pause import AuthGate
from streams.edfi.client import EdfiClient
from streams.edfi.dispatcher import EgressDispatcher
from streams.edfi.sender import SendResult, WriteSender
from streams.emulator.core import EdfiEmulator
from streams.emulator.transport import EmulatorTransport
from streams.observability import metrics
from streams.writes import WriteCommand
from tests.unit.edfi.commands_factory import command

Rule = Callable[[httpx.Request], "httpx.Response | None"]


class Answering(EmulatorTransport):
    """The emulator, except that ``rule`` may answer a request itself (an ODS whose security refuses us)."""

    def __init__(self, emulator: EdfiEmulator) -> None:
        super().__init__(emulator)
        self.rule: Rule = lambda request: None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.rule(request)
        return answer if answer is not None else await super().handle_async_request(request)


def problem(status: int, type_: str, errors: list[str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"detail": "refused", "type": type_, "title": "refused", "status": status,
                                        "errors": errors or []})


def is_write(request: httpx.Request) -> bool:
    return request.method in ("POST", "PUT", "DELETE") and "/data/" in request.url.path


class Egress:
    def __init__(self, emu: EdfiEmulator, secret: str = "secret", forbidden_after: int = 3) -> None:
        async def no_sleep(seconds: float) -> None:
            return None

        self.emu = emu
        self.transport = Answering(emu)
        self.client = EdfiClient(EdfiSettings(base_url="http://ods", max_retries=1), "key", secret,
                                 transport=self.transport, sleep=no_sleep)
        self.dead: list[tuple[WriteCommand, SendResult]] = []
        self.gate = AuthGate(probe_seconds=0.1, forbidden_after=forbidden_after)

        async def dead_letter(cmd: WriteCommand, result: SendResult) -> None:
            self.dead.append((cmd, result))

        self.dispatcher = EgressDispatcher(WriteSender(self.client, {}), max_in_flight=4, on_dead_letter=dead_letter,
                                           gate=self.gate)

    async def submit(self, students: range) -> None:
        for n in students:
            await self.dispatcher.submit(command("POST", student=f"{n:08d}"), (0, n))

    async def accepted_again(self, records: int) -> None:
        """The API answers as the emulator again: every held write goes through, none is a dead letter."""
        self.transport.rule = lambda r: None
        await asyncio.wait_for(self.dispatcher.drain(), 5)
        assert len(self.emu.records()) == records and not self.dead
        await self.client.aclose()


async def until(check: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


async def test_refused_credentials_hold_every_write_until_the_api_accepts_them(emu: EdfiEmulator) -> None:
    with metrics.use_registry() as m:
        egress = Egress(emu, secret="rotated-away")
        await egress.submit(range(1, 11))
        await until(lambda: egress.gate.waiting == 10)
        await asyncio.sleep(0.3)  # a few probes, all refused
        assert egress.gate.reason == "credentials_refused" and not egress.dead and not emu.records()
        assert egress.dispatcher.committable() == {0: 0}  # nothing past the first held write
        assert m.registry.get_sample_value("edfi_stream_egress_paused", {"reason": "credentials_refused"}) == 1
        assert m.registry.get_sample_value("edfi_stream_writes_waiting_on_auth") == 10
        ready, why = egress.gate.status()
        assert not ready and "client id/secret" in why
        emu.add_client("key", "rotated-away")  # the ODS admin sets the secret the worker has
        await asyncio.wait_for(egress.dispatcher.drain(), 5)
        assert len(emu.records()) == 10 and not egress.dead
        assert egress.dispatcher.committable() == {0: 10} and egress.gate.status() == (True, "")
        assert m.registry.get_sample_value("edfi_stream_egress_paused", {"reason": "credentials_refused"}) == 0
    await egress.client.aclose()


async def test_401_on_every_write_with_a_fresh_token_pauses(emu: EdfiEmulator) -> None:
    egress = Egress(emu)
    egress.transport.rule = lambda r: problem(401, "urn:ed-fi:api:security:authentication") if is_write(r) else None
    await egress.submit(range(1, 6))
    await until(lambda: egress.gate.waiting == 5)
    assert egress.gate.reason == "unauthorized" and not egress.dead
    assert emu.stats.get("tokens_issued", 0) >= 2  # the client did get a fresh token before giving up
    await egress.accepted_again(5)


async def test_a_claim_set_403_pauses_at_once(emu: EdfiEmulator) -> None:
    egress = Egress(emu, forbidden_after=100)
    denied = "urn:ed-fi:api:security:authorization:access-denied:action"
    egress.transport.rule = lambda r: problem(403, denied) if is_write(r) else None
    await egress.submit(range(1, 4))
    await until(lambda: egress.gate.waiting == 3)
    assert egress.gate.reason == "forbidden" and not egress.dead
    await egress.accepted_again(3)


async def test_a_plain_403_on_every_write_pauses_after_a_few_records(emu: EdfiEmulator) -> None:
    egress = Egress(emu, forbidden_after=3)
    egress.transport.rule = lambda r: problem(403, "urn:ed-fi:api:security:authorization") if is_write(r) else None
    await egress.submit(range(1, 9))
    await until(lambda: egress.gate.reason == "forbidden")
    await until(lambda: egress.gate.waiting == 8)
    assert not egress.dead
    await egress.accepted_again(8)


async def test_a_403_for_one_record_is_that_records_dead_letter(emu: EdfiEmulator) -> None:
    egress = Egress(emu, forbidden_after=3)

    def outside_claims(request: httpx.Request) -> httpx.Response | None:
        if is_write(request) and b"00000004" in request.content:
            return problem(403, "urn:ed-fi:api:security:authorization", [
                "No relationships have been established between the caller's education organization id claim "
                "('255901044') and the resource item's 'ReportedSchool' value."])
        return None

    egress.transport.rule = outside_claims
    await egress.submit(range(1, 9))
    await asyncio.wait_for(egress.dispatcher.drain(), 5)
    assert [cmd.natural_key.student_unique_id for cmd, _ in egress.dead] == ["00000004"]
    result: Any = egress.dead[0][1]
    assert result.outcome == "dead_letter" and result.status == 403 and "relationships" in json.dumps(
        result.error.to_dict())
    assert len(emu.records()) == 7 and not egress.gate.paused
    assert egress.dispatcher.committable() == {0: 8}
    await egress.client.aclose()
