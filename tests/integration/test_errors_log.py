"""The district user's error log on the real broker: dead letters from bad input and from Ed-Fi
rejections, grouped by cause, retried and archived (`edfi-stream errors`)."""

from __future__ import annotations

from pathlib import Path

from confluent_kafka import Producer
from typer.testing import CliRunner

from streams.cli.main import app
from streams.deadletters.log import group, read_dead_letters, render
from streams.demo.stack import LocalStack
from tests.support.scenario import build


def test_dead_letters_listed_retried_and_archived(tmp_path: Path) -> None:
    events = build(tmp_path / "events.jsonl")
    config = tmp_path / "config.yaml"
    # testID 1 (Math) mapped to a period the ODS does not know: every Math write is rejected with a 400
    config.write_text("schoolYear: {startDate: 2023-07-01, endDate: 2024-06-30, endYear: 2024}\n"
                      "periods: {1: Quarter 9}\n")
    with LocalStack(config, events, partitions=2) as stack:
        producer = Producer({**stack.kafka_config, "batch.num.messages": 1, "log_level": 0})
        producer.produce("sis.test_scores", key=b'{"scoreID": 1}', value=b'{"op": "c", "after": {broken')
        producer.produce("sis.students", key=b"\x00\x00\x00\x03\xe9", value=b"\x00\x00\x00\x03\xe9\xff\xff")
        producer.flush(10)
        stack.produce(events)
        stack.wait_idle()
        letters = read_dead_letters(stack.kafka_config)
        causes = sorted((d.stage, d.cause) for d in letters)
        assert ("decode", "bad_json") in causes and ("decode", "bad_avro") in causes
        egress = [d for d in letters if d.stage == "egress"]
        assert egress and all(d.cause == "data-validation-failed" and d.record["status"] == 400 for d in egress)
        assert {d.record["assessmentIdentifier"] for d in egress} == {"State Mathematics Assessment"}
        text = render(group(letters))
        assert "data-validation-failed" in text and "bad_json" in text

        runner = CliRunner()
        env = {**stack.env}
        listed = runner.invoke(app, ["errors", "--stage", "decode"], env=env)
        assert listed.exit_code == 0 and "2 dead letters" in listed.output, listed.output
        archived = runner.invoke(app, ["errors", "archive", "--cause", "bad_avro"], env=env)
        assert archived.exit_code == 0 and "archived 1" in archived.output
        remaining = read_dead_letters(stack.kafka_config)
        assert not any(d.cause == "bad_avro" for d in remaining)

        before = len([d for d in remaining if d.stage == "egress"])
        retried = runner.invoke(app, ["errors", "retry", "--stage", "egress"], env=env)
        assert retried.exit_code == 0 and f"re-sent {before}" in retried.output, retried.output
        stack.wait_idle()
        again = [d for d in read_dead_letters(stack.kafka_config) if d.stage == "egress"]
        assert len(again) == before  # the ODS still rejects them: they come back, nothing is lost
        assert stack.emulator.records(), "the other records reached the ODS"

        # the CLI's actions are on the console's audit trail too, under the machine's login and role "cli"
        from streams.console.audit import AUDIT_TOPIC, audit_events
        from streams.console.durable import read_all

        trail = audit_events(read_all(stack.kafka_config, AUDIT_TOPIC, "test-audit-reader"))
        cli = [(e.role, e.action, e.what, e.count) for e in trail]
        assert ("cli", "archive", "letters cause=bad_avro", 1) in cli, cli
        assert ("cli", "retry", "letters stage=egress", before) in cli, cli
        toggled = runner.invoke(app, ["toggle", "studentAssessments", "on"], env=env)
        assert toggled.exit_code == 0, toggled.output
        trail = audit_events(read_all(stack.kafka_config, AUDIT_TOPIC, "test-audit-reader"))
        assert trail[0].action == "toggle" and trail[0].what == "studentAssessments on" and trail[0].role == "cli"
