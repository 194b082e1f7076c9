"""WriteSender: each branch of an idempotent write, against the emulator in-process."""

from __future__ import annotations

from streams.edfi.client import EdfiClient
from streams.edfi.identity import IdentityEntry
from streams.edfi.sender import WriteSender
from streams.emulator.core import EdfiEmulator
from tests.unit.edfi.commands_factory import command


async def test_post_learns_the_id_and_skips_an_unchanged_payload(client: EdfiClient, emu: EdfiEmulator) -> None:
    identity: dict[str, IdentityEntry] = {}
    sender = WriteSender(client, identity)
    first = await sender.send(command("POST"))
    assert first.outcome == "acked" and first.status == 201
    assert identity["Math_00000001_2024"].ods_id == emu.records()[0]["id"]
    again = await sender.send(command("POST"))
    assert again.outcome == "unchanged"
    posts = [e for e in emu.request_log if e[0] == "POST" and "studentAssessments" in e[1]]
    assert len(posts) == 1


async def test_put_without_an_identity_entry_finds_the_id_by_natural_key(client: EdfiClient, emu: EdfiEmulator) -> None:
    await WriteSender(client, {}).send(command("POST"))
    sender = WriteSender(client, {})
    result = await sender.send(command("PUT", result="260"))
    assert result.outcome == "acked" and result.status == 204
    assert emu.records()[0]["scoreResults"][0]["result"] == "260"
    assert any(e[0] == "GET" for e in emu.request_log)


async def test_put_of_a_missing_record_posts_it(client: EdfiClient, emu: EdfiEmulator) -> None:
    result = await WriteSender(client, {}).send(command("PUT"))
    assert result.outcome == "acked" and result.status == 201 and len(emu.records()) == 1


async def test_stale_id_on_put_posts_again(client: EdfiClient, emu: EdfiEmulator) -> None:
    identity: dict[str, IdentityEntry] = {}
    sender = WriteSender(client, identity)
    await sender.send(command("POST"))
    emu.reset()  # somebody emptied the ODS: our id is stale
    result = await sender.send(command("PUT", result="270"))
    assert result.outcome == "acked" and result.status == 201
    assert identity["Math_00000001_2024"].ods_id == emu.records()[0]["id"]


async def test_delete_is_idempotent(client: EdfiClient, emu: EdfiEmulator) -> None:
    identity: dict[str, IdentityEntry] = {}
    sender = WriteSender(client, identity)
    await sender.send(command("POST"))
    assert (await sender.send(command("DELETE"))).status == 204
    assert emu.records() == [] and identity == {}
    assert (await sender.send(command("DELETE"))).outcome == "acked"  # already gone: still done


async def test_unresolved_reference_is_parked_and_rejection_is_dead_lettered(client: EdfiClient) -> None:
    sender = WriteSender(client, {})
    parked = await sender.send(command("POST", student="99999999"))
    assert parked.outcome == "parked" and parked.status == 409
    bad = command("POST")
    assert bad.payload is not None
    bad.payload["scoreResults"][0]["resultDatatypeTypeDescriptor"] = "uri://ed-fi.org/ResultDatatypeTypeDescriptor#X"
    dead = await sender.send(bad)
    assert dead.outcome == "dead_letter" and dead.status == 400 and dead.error is not None
    assert "$.scoreResults[0].resultDatatypeTypeDescriptor" in dead.error.validation_errors
    assert dead.request["method"] == "POST" and dead.request["body"] == bad.payload


async def test_retries_through_faults_then_succeeds(client: EdfiClient, emu: EdfiEmulator) -> None:
    from streams.emulator.faults import FaultSettings

    emu.faults.configure(FaultSettings(error_rate=0.3, throttle_rate=0.2, drop_rate=0.1, seed=5))
    sender = WriteSender(client, {})
    for n in range(1, 30):
        result = await sender.send(command("POST", student=f"{n:08d}"))
        assert result.outcome == "acked"
    assert len(emu.records()) == 29
    assert sum(emu.faults.injected.values()) > 10
