"""Build and run the worker: the Faust app with every agent, the control follower and the web views.

This is the only place that knows how the pieces are assembled; each piece stays small and testable.
"""

from __future__ import annotations

import logging
from typing import Any

from agents.app import FaustParts, create_app
from agents.commit_repair import attach_commit_repair
from agents.console_backend import WorkerBackend
from agents.control import ControlState, follow_control
from agents.egress import attach_egress
from agents.egress_service import EgressService
from agents.fixups import group_offsets
from agents.ingest import attach_ingest
from agents.join import PartitionEngines, attach_join
from agents.readiness import worker_readiness
from agents.web import attach_web, readiness_body
from streams.codec.debezium import decoder_for_settings
from streams.config import Settings
from streams.observability import metrics
from streams.rules.config import RuleConfig

log = logging.getLogger(__name__)


class Worker:
    """Everything a running worker holds; tests use it to reach the app and its state.

    The Ed-Fi credentials are read first (``EgressService``): without them nothing is built and the
    ConfigurationError becomes one line and exit code 2."""

    def __init__(self, settings: Settings, transport: Any = None) -> None:
        self.settings = settings
        self.egress = EgressService(settings.edfi, transport=transport)
        self.parts: FaustParts = create_app(settings)
        self.control = ControlState()
        self.rule_config = RuleConfig.from_settings(settings)
        attach_ingest(self.parts, settings.topic_map(), decoder_for_settings(settings),
                      self._partitions_of)
        if settings.worker.commit_repair:  # worker.commitRepair (docs/operations.md)
            attach_commit_repair(self.parts.app, metrics.record_commit_repair)
        self.engines: PartitionEngines = attach_join(self.parts, self.rule_config, self.control,
                                                        settings.worker.decoded_cache_size)
        attach_egress(self.parts, self.control, self.egress)
        ready_body = readiness_body(worker_readiness(self.parts.app, self.egress))
        attach_web(self.parts.app, settings, ready_body, self.engines.explain, WorkerBackend(self, ready_body))
        self._attach_control()
        self._attach_gauges()
        if settings.worker.replay_from:
            self._attach_replay(settings.worker.replay_from)

    def _partitions_of(self, topic: str) -> int | None:
        """The partition count of an existing topic (None when it does not exist or the broker is down)."""
        from streams.broker.admin import partitions_of

        try:
            return len(partitions_of(self.settings.kafka.confluent_config(), [topic])) or None
        except Exception:  # no broker yet: the table takes the configured partition count
            return None

    @property
    def app(self) -> Any:
        return self.parts.app

    def _attach_control(self) -> None:
        kafka = self.settings.kafka
        app = self.parts.app

        def consumer_factory() -> Any:
            from aiokafka import AIOKafkaConsumer

            from streams.kafka.clients import aiokafka_kwargs

            # the same TLS (CA, client certificate, key password) and SASL settings as every other client
            return AIOKafkaConsumer(group_id=None, enable_auto_commit=False, auto_offset_reset="earliest",
                                    **aiokafka_kwargs(kafka))

        @app.task
        async def control_follower() -> None:
            # edfi.control, like every topic of the worker, is created before Faust starts
            # (streams/kafka/topics.py: ensure_worker_topics, called by the ``worker`` verb)
            await follow_control(self.control, consumer_factory)

    def _attach_replay(self, replay_from: str) -> None:
        """Rewind the SIS partitions this worker gets on its first assignment (``worker.replayFrom``).

        The worker commits the rewound offsets as a group member, right before Faust seeks its streams to
        the committed offsets; this works on every broker, including one (tansu) that refuses offset changes
        from outside the group. The join and the egress skip what the ODS already has.
        """
        import datetime as dt

        sis_topics = self.settings.topic_map().inputs
        app = self.parts.app
        state = {"done": False}

        @app.on_rebalance_complete.connect  # type: ignore[arg-type]
        async def rewind_once(sender: Any, **kwargs: Any) -> None:
            if state["done"]:
                return
            assigned = [tp for tp in app.consumer.assignment() if tp.topic in sis_topics]
            if not assigned:
                return
            offsets = dict.fromkeys(assigned, 0)
            if replay_from != "beginning":
                when = dt.datetime.fromisoformat(replay_from)
                when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
                if when < dt.datetime.now(dt.UTC):  # a future time would mean "replay nothing" on tansu
                    found = await group_offsets.offsets_for_times(
                        app.consumer, dict.fromkeys(assigned, int(when.timestamp() * 1000)))
                    offsets = {tp: (found[tp].offset if found.get(tp) else 0) for tp in assigned}
            consumer: Any = app.consumer
            await group_offsets.commit(consumer, offsets)
            for tp, offset in offsets.items():
                # Faust only commits offsets above what it last committed: forget that, then read again
                group_offsets.forget_committed(consumer, tp)
                await consumer.seek(tp, offset)
            state["done"] = True
            log.info("replay: rewound %d SIS partitions (%s)", len(offsets), replay_from)

    def _attach_gauges(self) -> None:
        """Table sizes, consumer lag and the toggle as gauges (lag is read in a thread: blocking admin calls)."""
        import asyncio

        from streams.observability import metrics

        parts, settings = self.parts, self.settings
        self.control.subscribe(lambda resource, enabled: metrics.set_enabled(resource, enabled))
        metrics.set_enabled("studentAssessments", True)

        def read_lag() -> dict[tuple[str, int], int]:
            from agents.topics import STUDENT_EVENTS, WRITE_COMMANDS
            from streams.observability.lag import update_lag

            return update_lag(settings.kafka.confluent_config(), settings.worker.app_id,
                              [*settings.topic_map().inputs, STUDENT_EVENTS, WRITE_COMMANDS])

        @parts.app.timer(10.0, name="edfi-stream.gauges")
        async def gauges() -> None:
            for name in ("students", "sent", "reference", "identity"):
                metrics.set_table_size(name, len(getattr(parts, name)))
            dispatcher = self.egress.dispatcher
            if dispatcher is not None:
                metrics.set_in_flight(dispatcher.in_flight)
            try:
                await asyncio.to_thread(read_lag)  # sets the lag gauges
            except Exception as exc:  # a failed probe must not stop the worker
                log.debug("lag probe failed: %s", exc)


def run_worker(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM (Faust's worker handles the signals and stops cleanly; agents/shutdown.py
    ends the process if that stop outlives ``worker.shutdownGraceSeconds``). The egress service starts
    before the app and stops after it (agents/egress_service.py)."""
    from agents.shutdown import BoundedShutdownWorker

    worker = Worker(settings)
    # httpx logs every request at INFO: thousands of lines a second under load, a measurable share of the
    # worker's CPU, and nothing the metrics (edfi_stream_edfi_requests_total, ..._duration_seconds) lack
    logging.getLogger("httpx").setLevel(logging.WARNING)
    BoundedShutdownWorker(worker.app, worker.egress, loglevel="INFO", quiet=True,
                          grace_seconds=settings.worker.shutdown_grace_seconds).execute_from_commandline()
