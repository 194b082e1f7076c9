"""EgressDispatcher: an unexpected exception around a send (not an Ed-Fi answer) must not finish the
command. Before the fix, such an exception (seen in the fault suite: the identity table's changelog send
failing with a TypeError for want of producer metadata) ended the command's task, so its offset became
committable with the write unrecorded, or never sent at all."""

from __future__ import annotations

from streams.edfi.dispatcher import EgressDispatcher
from streams.edfi.retry import RetryPolicy
from streams.edfi.sender import SendResult
from streams.writes import WriteCommand
from tests.unit.edfi.commands_factory import command


class FlakySender:
    """Fails ``failures`` times with an unexpected error before the request goes out, then acknowledges."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.applied: list[str] = []

    async def send(self, cmd: WriteCommand) -> SendResult:
        if self.failures:
            self.failures -= 1
            raise TypeError("'NoneType' object is not iterable")
        self.applied.append(cmd.payload["scoreResults"][0]["result"])  # type: ignore[index]
        return SendResult("acked")


def numbered(n: int) -> WriteCommand:
    return command("PUT", student="00000001", result=str(n))


async def test_an_unexpected_error_is_retried_and_holds_the_commit_position() -> None:
    sender = FlakySender(failures=3)
    dispatcher = EgressDispatcher(sender, max_in_flight=4,  # type: ignore[arg-type]
                                  outage_policy=RetryPolicy(1000, 0.001, 0.002))
    await dispatcher.submit(numbered(1), (0, 5))
    await dispatcher.submit(numbered(2), (0, 6))
    await dispatcher.drain()
    assert sender.applied == ["1", "2"], "the failed write is sent again, and before the next one"
    assert dispatcher.results == {"acked": 2}
    assert dispatcher.committable() == {0: 6}


async def test_the_commit_position_waits_while_the_error_persists() -> None:
    import asyncio

    sender = FlakySender(failures=1_000_000)
    dispatcher = EgressDispatcher(sender, max_in_flight=4,  # type: ignore[arg-type]
                                  outage_policy=RetryPolicy(1000, 0.001, 0.002))
    await dispatcher.submit(numbered(1), (0, 5))
    await asyncio.sleep(0.05)
    assert dispatcher.committable() == {0: 4}, "an unfinished write is never committable"
    assert dispatcher.in_flight == 1 and sender.applied == []
    sender.failures = 0
    await dispatcher.drain()
    assert dispatcher.committable() == {0: 5} and sender.applied == ["1"]
