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

from streams.config import Settings, load_settings
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
    from streams.broker.admin import ensure_topics
    from streams.io.events_file import read_events
    from streams.io.produce import produce_events

    settings = _settings(config)
    events = list(read_events(file))
    topics = sorted({e.topic for e in events if hasattr(e, "topic")})
    ensure_topics(settings.kafka.confluent_config(), topics, settings.kafka.topic_partitions)
    report = produce_events(events, settings.kafka, fmt="json" if fmt == "json" else "avro")
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
    if replay_from:
        settings = settings.model_copy(update={"worker": settings.worker.model_copy(
            update={"replay_from": replay_from})})
    run_worker(settings)


@app.command()
def demo(
    serve: Annotated[bool, typer.Option("--serve", help="keep everything running after the sample")] = False,
) -> None:
    """Start a local broker, a local Ed-Fi API and the worker; load the sample district; summarise."""
    from streams.demo.run import run_demo

    try:
        result = run_demo(serve=serve, echo=typer.echo)
    except KeyboardInterrupt:
        typer.echo("stopped")
        raise typer.Exit(130) from None
    if result.matches_simulate is False:
        raise typer.Exit(1)


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
    publish_toggle(_settings(config).kafka, resource, state == "on")
    typer.echo(f"{resource} turned {state}")


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
        decisions = fetch_worker_decisions(worker_url, score_id=score_id, person_id=person_id, said=said)
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

    settings = _settings(config)
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
    sent, skipped = retry(letters, settings.kafka.confluent_config(), settings.kafka.value_format,
                          settings.kafka.one_record_per_batch)
    typer.echo(f"re-sent {sent} dead letters")
    for line in skipped:
        typer.echo(f"  skipped {line}", err=True)


@errors_app.command("archive")
def errors_archive(config: ConfigOpt = None, stage: StageOpt = None, cause: CauseOpt = None, key: KeyOpt = None,
                   school: SchoolOpt = None) -> None:
    """Drop the selected dead letters from the list (a tombstone per key; the history stays in Kafka)."""
    from streams.deadletters.actions import archive

    if not any((stage, cause, key, school)):
        raise typer.BadParameter("select what to archive: --key, --stage, --cause or --school")
    settings, letters = _letters(config, stage, cause, key, school)
    count = archive(letters, settings.kafka.confluent_config(), settings.kafka.one_record_per_batch)
    typer.echo(f"archived {count} dead letters")


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

    settings = _settings(config)
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
) -> None:
    """Serve the local Ed-Fi ODS/API emulator."""
    from streams.emulator.cli import run_from_cli

    run_from_cli(host=host, port=port, db=db, seed_sample=seed_sample)


def main() -> None:  # pragma: no cover
    try:
        app()
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        sys.exit(2)


_ = json


if __name__ == "__main__":  # pragma: no cover - `python -m streams.cli.main` (the demo's child process)
    main()
