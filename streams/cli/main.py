"""``edfi-stream``: one program, one verb per job (contract section 5).

Verbs stay thin: they parse options, load the one Settings object and call the library. Heavy imports
(Faust, the emulator) happen inside the verb so that ``edfi-stream --help`` is instant.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from streams.config import KafkaSettings, Settings, load_settings
from streams.errors import ConfigurationError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Move SIS assessment results into the Ed-Fi API, by the Kansas v3.6 rules.")

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="YAML configuration file")]


def _settings(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigurationError as exc:
        typer.secho(f"configuration error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc


def _kafka_settings(config: Path | None) -> Settings:
    """The settings of a verb that talks to Kafka, after one metadata request (streams/kafka/doctor.py): a
    refused password or certificate stops the verb with one clear line instead of librdkafka's retries."""

    return _check_kafka(_settings(config))


def _check_kafka(settings: Settings) -> Settings:
    from streams.kafka.doctor import check_connection

    check_connection(settings.kafka)
    return settings


def _logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@app.command()
def produce(
    file: Annotated[Path, typer.Argument(help="events file (JSON Lines: topic, key, value)")],
    config: ConfigOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="avro (Confluent wire format) or json")] = "avro",
) -> None:
    """Publish an events file to its topics."""
    if fmt not in ("avro", "json"):
        raise typer.BadParameter("--format must be avro or json")
    from streams.io.events_file import read_events
    from streams.io.produce import produce_events
    from streams.kafka.topics import ensure_product_topics

    settings = _kafka_settings(config)
    events = list(read_events(file))
    topics = sorted({e.topic for e in events if hasattr(e, "topic")})
    ensure_product_topics(settings.kafka, topics)
    report = produce_events(events, settings.kafka, fmt="json" if fmt == "json" else "avro",
                            topics=settings.topic_map())
    for topic, count in sorted(report.by_topic.items()):
        typer.echo(f"{topic}: {count}")
    typer.echo(f"produced {report.produced} events")
    if report.rejected:
        typer.secho(f"{len(report.rejected)} lines rejected:", fg="yellow", err=True)
        for line in report.rejected[:20]:
            typer.echo(f"  {line}", err=True)
        raise typer.Exit(1)


@app.command()
def worker(
    config: ConfigOpt = None, verbose: bool = False,
    replay_from: Annotated[str | None, typer.Option(
        "--replay-from", help="'beginning' or an ISO time: rebuild state from the SIS topics (replay)")] = None,
) -> None:
    """Run the Faust worker against the configured Kafka and Ed-Fi API."""
    from agents.worker import run_worker

    _logging(verbose)
    settings = _settings(config)
    # refused credentials stop the worker with one line; a broker not reachable yet is waited for
    from streams.kafka.doctor import wait_for_broker

    settings.edfi.credentials()  # missing Ed-Fi credentials: one line before anything waits on Kafka
    wait_for_broker(settings.kafka)
    from streams.kafka.topics import prepare_worker_topics

    # the configured SIS topics checked, every topic of the worker created before Faust's group assignment
    for problem in prepare_worker_topics(settings.kafka, settings.worker.app_id, settings.topic_map()):
        logging.getLogger("edfi_stream.startup").warning("start-up check: %s", problem)
    if replay_from:
        settings = settings.model_copy(update={"worker": settings.worker.model_copy(
            update={"replay_from": replay_from})})
    run_worker(settings)


@app.command()
def demo(
    serve: Annotated[bool, typer.Option("--serve", help="keep everything running after the sample")] = False,
    source: Annotated[str, typer.Option("--source", help="sample (the events file) or postgres (a real SIS "
                                        "database captured live by Debezium)")] = "sample",
    broker: Annotated[str, typer.Option(
        "--broker", help="tansu (embedded, pip only) or kafka (Apache Kafka 4: Java 17 + Maven)")] = "tansu",
) -> None:
    """Start a local broker, a local Ed-Fi API and the worker; load the sample district; summarise."""
    from streams.demo.run import run_demo
    from streams.demo.signals import interrupt_on_termination

    if source not in ("sample", "postgres"):
        raise typer.BadParameter("--source must be 'sample' or 'postgres'")
    if broker not in ("tansu", "kafka"):
        raise typer.BadParameter("--broker must be tansu or kafka")

    def run() -> int:
        if source == "postgres":
            from streams.demo.postgres_demo import run_postgres_demo

            return 1 if run_postgres_demo(echo=typer.echo) < 0 else 0
        result = run_demo(serve=serve, echo=typer.echo, broker="kafka" if broker == "kafka" else "tansu")
        return 1 if result.matches_simulate is False else 0

    try:
        with interrupt_on_termination():  # SIGINT, SIGTERM, SIGHUP: stop every child; later ones ignored
            code = run()
    except KeyboardInterrupt:
        typer.echo("stopped")
        raise typer.Exit(130) from None
    if code:
        raise typer.Exit(code)


@app.command()
def toggle(
    resource: Annotated[str, typer.Argument(help="the Ed-Fi resource, e.g. studentAssessments")],
    state: Annotated[str, typer.Argument(help="on or off")],
    config: ConfigOpt = None,
) -> None:
    """Publish a control event turning a resource on or off for every worker."""
    from streams.io.control import publish_toggle

    if state not in ("on", "off"):
        raise typer.BadParameter("state must be 'on' or 'off'")
    kafka = _kafka_settings(config).kafka
    publish_toggle(kafka, resource, state == "on")
    typer.echo(f"{resource} turned {state}")
    _audit(kafka, "toggle", f"{resource} {state}", 1)


@app.command()
def simulate(
    file: Annotated[Path, typer.Argument(help="events file (JSON Lines)")],
    config: ConfigOpt = None,
    out: Annotated[Path, typer.Option("--out", help="output directory")] = Path("out"),
) -> None:
    """Run the rules and the egress over an events file with no Kafka, against an in-process Ed-Fi API."""
    from streams.simulate.run import run_simulation

    summary = run_simulation(file, _settings(config), out)
    typer.echo(summary.render())


@app.command()
def explain(
    score_id: Annotated[int | None, typer.Option("--score-id", help="a TestScore scoreID")] = None,
    person_id: Annotated[int | None, typer.Option("--person-id", help="a student's personID")] = None,
    said: Annotated[str | None, typer.Option("--id", help="a studentAssessmentIdentifier")] = None,
    out: Annotated[Path | None, typer.Option("--from", help="a simulate output directory")] = None,
    worker_url: Annotated[str | None, typer.Option("--worker", help="a running worker, http://host:6066")
                          ] = None,
) -> None:
    """The decision trail for a score, a student or a studentAssessmentIdentifier, in plain words."""
    from streams.explain.render import explain_from_decisions, fetch_worker_decisions, load_decisions

    if out is None and worker_url is None:
        raise typer.BadParameter("give --from DIR (simulate output) or --worker URL")
    if worker_url:
        from streams.web.client import auth_headers

        decisions = fetch_worker_decisions(worker_url, score_id=score_id, person_id=person_id, said=said,
                                           headers=auth_headers())
    else:
        assert out is not None
        decisions = load_decisions(out)
    typer.echo(explain_from_decisions(decisions, score_id=score_id, person_id=person_id, said=said))


errors_app = typer.Typer(help="The dead letters grouped by cause, with retry and archive.",
                         invoke_without_command=True)
app.add_typer(errors_app, name="errors")

StageOpt = Annotated[str | None, typer.Option(help="decode, rules or egress")]
CauseOpt = Annotated[str | None, typer.Option(help="a cause as listed, e.g. unresolved-reference")]
KeyOpt = Annotated[str | None, typer.Option("--key", help="one dead letter's key")]
SchoolOpt = Annotated[int | None, typer.Option(help="a stateSchoolID")]


def _letters(config: Path | None, stage: str | None, cause: str | None, key: str | None,
             school: int | None) -> tuple[Settings, list]:  # type: ignore[type-arg]
    from streams.deadletters.log import read_dead_letters, select

    settings = _kafka_settings(config)
    letters = read_dead_letters(settings.kafka.confluent_config())
    return settings, select(letters, stage=stage, cause=cause, key=key, school=school)


@errors_app.callback()
def errors_list(ctx: typer.Context, config: ConfigOpt = None, stage: StageOpt = None, cause: CauseOpt = None,
                school: SchoolOpt = None,
                as_json: Annotated[bool, typer.Option("--json", help="every record as JSON")] = False) -> None:
    """List the dead letters grouped by stage, status, Ed-Fi error type, school and assessment."""
    if ctx.invoked_subcommand is not None:
        return
    from streams.deadletters.log import as_json as to_json
    from streams.deadletters.log import group, render

    _, letters = _letters(config, stage, cause, None, school)
    typer.echo(to_json(letters) if as_json else render(group(letters)))


@errors_app.command("retry")
def errors_retry(config: ConfigOpt = None, stage: StageOpt = None, cause: CauseOpt = None, key: KeyOpt = None,
                 school: SchoolOpt = None) -> None:
    """Re-send the selected dead letters (inputs to their topic, Ed-Fi writes to the write-command topic)."""
    from streams.deadletters.actions import retry

    settings, letters = _letters(config, stage, cause, key, school)
    sent, skipped = retry(letters, settings.kafka, settings.kafka.value_format)
    typer.echo(f"re-sent {sent} dead letters")
    for line in skipped:
        typer.echo(f"  skipped {line}", err=True)
    _audit(settings.kafka, "retry", _selection(stage, cause, key, school), sent)


@errors_app.command("archive")
def errors_archive(config: ConfigOpt = None, stage: StageOpt = None, cause: CauseOpt = None, key: KeyOpt = None,
                   school: SchoolOpt = None) -> None:
    """Drop the selected dead letters from the list (a tombstone per key; the history stays in Kafka)."""
    from streams.deadletters.actions import archive

    if not any((stage, cause, key, school)):
        raise typer.BadParameter("select what to archive: --key, --stage, --cause or --school")
    settings, letters = _letters(config, stage, cause, key, school)
    count = archive(letters, settings.kafka)
    typer.echo(f"archived {count} dead letters")
    _audit(settings.kafka, "archive", _selection(stage, cause, key, school), count)


def _selection(stage: str | None, cause: str | None, key: str | None, school: int | None) -> str:
    """The audit trail's words for a CLI selection (causes, stages, schools and letter coordinates: no student
    data)."""
    parts = [f"{name}={value}" for name, value in
             (("stage", stage), ("cause", cause), ("key", key), ("school", school)) if value is not None]
    return "letters " + (" ".join(parts) or "all")


def _audit(kafka: KafkaSettings, action: str, what: str, count: int) -> None:
    from streams.console.audit import record_cli_action

    failed = record_cli_action(kafka, action, what, count)
    if failed:
        typer.echo(failed, err=True)


@app.command()
def resync(
    config: ConfigOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the difference, write nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="the plan as JSON (with --dry-run)")] = False,
    school: Annotated[int | None, typer.Option(help="only this stateSchoolID")] = None,
    student: Annotated[str | None, typer.Option(help="only this State Student Identifier")] = None,
    force: Annotated[bool, typer.Option("--force", help="allow deleting more than resync.maxDeleteShare")] = False,
) -> None:
    """Replay the SIS topics and reconcile the ODS with what the rules say (seed 003, Resync Logic)."""
    from streams.resync.run import (
        ResyncRefused,
        Scope,
        build_plan,
        check_enabled,
        check_safety,
        commands_for,
        publish,
        read_identity_map,
        render_plan,
    )

    settings = _settings(config)
    settings.edfi.credentials()  # fail fast, before replaying the SIS topics
    _check_kafka(settings)
    plan = build_plan(settings, Scope(school, student))
    if dry_run:
        typer.echo(json.dumps([a.to_dict() for a in plan.actions], indent=2) if as_json else render_plan(plan))
        return
    try:
        check_enabled(settings)
        check_safety(plan, settings, force)
    except ResyncRefused as exc:
        typer.secho(f"refused: {exc}", fg="red", err=True)
        raise typer.Exit(3) from exc
    identity = read_identity_map(settings.kafka.confluent_config(), settings.worker.app_id)
    sent = publish(commands_for(plan, identity), settings)
    typer.echo(render_plan(plan))
    typer.echo(f"published {sent} resync commands to edfi-stream.write-commands; the worker applies them in order")


@app.command()
def replay(
    config: ConfigOpt = None,
    since: Annotated[str | None, typer.Option(help="ISO timestamp; default: from the beginning")] = None,
    follow_progress: Annotated[bool, typer.Option("--follow", help="then show the replay's progress bar")] = False,
) -> None:
    """Rewind the worker's consumer group on the SIS topics (workers must be stopped) to rebuild its state."""
    from streams.resync.replay import ReplayRefused, follow, rewind

    settings = _kafka_settings(config)
    try:
        moved = rewind(settings, since)
    except ReplayRefused as exc:
        typer.secho(f"refused: {exc}", fg="red", err=True)
        raise typer.Exit(3) from exc
    typer.echo(f"rewound {moved} partitions of group {settings.worker.app_id}; start the worker to replay "
               "(payloads the ODS already has are not sent again)")
    if follow_progress:
        typer.echo(f"replayed {follow(settings)} events")


@app.command()
def emulator(
    host: str = "127.0.0.1",
    port: int = 8001,
    db: Annotated[Path | None, typer.Option(help="SQLite file for durable state")] = None,
    seed_sample: Annotated[bool, typer.Option(help="load the sample district's students and schools")] = True,
    client_schools: Annotated[str | None, typer.Option(
        help="comma-separated schoolIds the API client's claims cover (403 for others); default: every school")] = None,
) -> None:
    """Serve the local Ed-Fi ODS/API emulator."""
    from streams.emulator.cli import run_from_cli

    run_from_cli(host=host, port=port, db=db, seed_sample=seed_sample, client_schools=client_schools)


def main(argv: list[str] | None = None) -> None:
    """The console script (``edfi-stream``): every expected failure is one line and its exit code
    (streams/cli/failures.py); only a bug keeps its traceback."""
    from streams.cli.failures import describe

    try:
        app(args=argv)
    except Exception as exc:
        described = describe(exc)
        if described is None:
            raise
        message, code = described
        print(message, file=sys.stderr)
        sys.exit(code)


_ = json


if __name__ == "__main__":  # pragma: no cover - `python -m streams.cli.main` (the demo's child process)
    main()
