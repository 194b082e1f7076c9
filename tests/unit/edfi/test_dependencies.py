"""The egress writes in the API's dependency order, read from the API (ODS
``tests/EdFi.Ods.WebApi.IntegrationTests/Controllers/Standard/5.2.0/``
``AggregateDependencyControllerTests.Should_Get_Dependencies.approved.txt``, served by the emulator)."""

from __future__ import annotations

import httpx

from streams.edfi.dependencies import DependencyOrder, read_order
from streams.emulator.core import EdfiEmulator
from streams.emulator.transport import EmulatorTransport
from streams.writes import Action, WriteCommand
from tests.unit.edfi.commands_factory import command


def of(resource: str, action: Action, student: str = "00000001") -> WriteCommand:
    cmd = command(action, student=student)
    return WriteCommand(cmd.action, cmd.natural_key, cmd.payload, cmd.reason, resource=resource)


async def test_the_order_is_the_one_the_api_serves(emu: EdfiEmulator) -> None:
    async with httpx.AsyncClient(transport=EmulatorTransport(emu)) as http:
        order = await read_order(http, "http://ods")
    assert order.rank("studentAssessments", "POST") == 14
    assert (order.rank("students", "POST"), order.rank("students", "PUT")) == (3, 14)
    assert order.rank("schools", "POST") == 5 and order.rank("assessments", "PUT") == 11
    assert order.rank("studentAssessments", "DELETE") == -14


def test_deletes_go_first_most_dependent_first_then_creates_by_order() -> None:
    order = DependencyOrder.from_document([
        {"resource": "/ed-fi/students", "order": 3, "operations": ["Create"]},
        {"resource": "/ed-fi/schools", "order": 5, "operations": ["Create", "Update"]},
        {"resource": "/ed-fi/studentAssessments", "order": 14, "operations": ["Create", "Update"]},
        {"resource": "/ed-fi/students", "order": 14, "operations": ["Update"]}])
    batch = [of("studentAssessments", "POST", "1"), of("students", "POST"), of("schools", "DELETE"),
             of("studentAssessments", "DELETE"), of("schools", "PUT"), of("studentAssessments", "POST", "2"),
             of("students", "PUT")]
    ordered = [(c.resource, c.action, c.natural_key.student_unique_id) for c in order.sort(batch)]
    assert ordered == [("studentAssessments", "DELETE", "00000001"), ("schools", "DELETE", "00000001"),
                       ("students", "POST", "00000001"), ("schools", "PUT", "00000001"),
                       ("studentAssessments", "POST", "1"), ("studentAssessments", "POST", "2"),
                       ("students", "PUT", "00000001")]


async def test_an_api_without_a_dependency_document_keeps_the_commands_order() -> None:
    async def not_found(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={})

    async with httpx.AsyncClient(transport=httpx.MockTransport(not_found)) as http:
        order = await read_order(http, "http://ods")
    batch = [of("studentAssessments", "POST", "2"), of("studentAssessments", "DELETE"), of("a", "POST")]
    assert order.sort(batch)[1:] == [batch[0], batch[2]] and order.sort(batch)[0] is batch[1]
