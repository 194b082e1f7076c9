"""Build and run the worker: the Faust app with every agent, the control follower and the web views.

This is the only place that knows how the pieces are assembled; each piece stays small and testable.
"""

from __future__ import annotations

import logging
from typing import Any

from agents.app import FaustParts, create_app
from agents.commit_repair import attach_commit_repair
from agents.control import ControlState, follow_control
from agents.egress import attach_egress
from agents.ingest import attach_ingest
from agents.join import PartitionEngines, attach_join
from agents.web import attach_web
from agents.wire import set_format
from streams.config import Settings
from streams.observability import metrics
from streams.rules.config import RuleConfig

log = logging.getLogger(__name__)


class Worker:
    """Everything a running worker holds; tests use it to reach the app and its state."""

    def __init__(self, settings: Settings, transport: Any = None) -> None:
        self.settings = settings
        set_format(settings.kafka.value_format)
        self.parts: FaustParts = create_app(settings)
        self.control = ControlState()
        self.rule_config = RuleConfig.from_settings(settings)
        attach_ingest(self.parts)
        attach_commit_repair(self.parts.app, metrics.record_commit_repair)
        self.engines: PartitionEngines = attach_join(self.parts, self.rule_config, self.control,
                                                        settings.worker.decoded_cache_size)
        self.egress_holder: dict[str, Any] = {}
        attach_egress(self.parts, self.control, self._dispatcher_factory(transport))
        attach_web(self)
        self._attach_control()
        self._attach_gauges()
        if settings.worker.replay_from:
            self._attach_replay(settings.worker.replay_from)

    @property
    def app(self) -> Any:
        return self.parts.app

    def _dispatcher_factory(self, transport: Any) -> Any:
        from streams.edfi.factory import build_dispatcher

        def factory(identity_map: Any, on_dead_letter: Any) -> Any:
            dispatcher, client = build_dispatcher(self.settings.edfi, identity_map, on_dead_letter,
                                                  transport=transport)
            self.egress_holder["dispatcher"] = dispatcher
            self.egress_holder["client"] = client
            return dispatcher

        return factory

    def _attach_control(self) -> None:
        kafka = self.settings.kafka
        app = self.parts.app

        def consumer_factory() -> Any:
            from aiokafka import AIOKafkaConsumer

            creds: dict[str, Any] = {"security_protocol": kafka.security_protocol}
            if kafka.sasl_mechanism:
                user, password = kafka.sasl_credentials()
                creds.update(sasl_mechanism=kafka.sasl_mechanism, sasl_plain_username=user,
                             sasl_plain_password=password)
            if kafka.security_protocol in ("SSL", "SASL_SSL"):
                import ssl

                creds["ssl_context"] = ssl.create_default_context(cafile=kafka.ssl_cafile)
            return AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers, group_id=None,
                                    enable_auto_commit=False, auto_offset_reset="earliest", **creds)

        @app.task
        async def control_follower() -> None:
            from streams.broker.admin import ensure_topics
            from streams.sis.rows import CONTROL_TOPIC

            ensure_topics(kafka.confluent_config(), [CONTROL_TOPIC], 1)
            await follow_control(self.control, consumer_factory)


    def _attach_replay(self, replay_from: str) -> None:
        """Rewind the SIS partitions this worker gets on its first assignment (``worker.replayFrom``).

        The worker commits the rewound offsets as a group member, right before Faust seeks its streams to
        the committed offsets; this works on every broker, including one (tansu) that refuses offset changes
        from outside the group. The join and the egress skip what the ODS already has.
        """
        import datetime as dt

        from streams.sis.rows import SIS_TOPICS

        app = self.parts.app
        state = {"done": False}

        @app.on_rebalance_complete.connect  # type: ignore[arg-type]
        async def rewind_once(sender: Any, **kwargs: Any) -> None:
            if state["done"]:
                return
            assigned = [tp for tp in app.consumer.assignment() if tp.topic in SIS_TOPICS]
            if not assigned:
                return
            offsets = dict.fromkeys(assigned, 0)
            if replay_from != "beginning":
                when = dt.datetime.fromisoformat(replay_from)
                when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
                if when < dt.datetime.now(dt.UTC):  # a future time would mean "replay nothing" on tansu
                    found = await app.consumer._consumer.offsets_for_times(  # type: ignore[attr-defined]
                        dict.fromkeys(assigned, int(when.timestamp() * 1000)))
                    offsets = {tp: (found[tp].offset if found.get(tp) else 0) for tp in assigned}
            consumer: Any = app.consumer
            await consumer._commit(offsets)
            for tp, offset in offsets.items():
                # Faust only commits offsets above what it last committed: forget that, then read again
                consumer._committed_offset[tp] = None
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
            from agents.topics import INPUT_TOPICS, STUDENT_EVENTS, WRITE_COMMANDS
            from streams.broker.admin import committed_offsets, end_offsets

            cfg = settings.kafka.confluent_config()
            topics = [*INPUT_TOPICS, STUDENT_EVENTS, WRITE_COMMANDS]
            ends = end_offsets(cfg, topics)
            done = committed_offsets(cfg, settings.worker.app_id, topics)
            return {tp: max(0, end - done.get(tp, 0)) for tp, end in ends.items()}

        @parts.app.timer(10.0, name="edfi-stream.gauges")
        async def gauges() -> None:
            for name in ("students", "sent", "reference", "identity"):
                metrics.set_table_size(name, len(getattr(parts, name)))
            dispatcher = self.egress_holder.get("dispatcher")
            if dispatcher is not None:
                metrics.set_in_flight(dispatcher.in_flight)
            try:
                lag = await asyncio.to_thread(read_lag)
            except Exception as exc:  # a failed probe must not stop the worker
                log.debug("lag probe failed: %s", exc)
                return
            for (topic, partition), value in lag.items():
                metrics.set_lag(topic, partition, value)


def run_worker(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM (Faust's worker handles the signals and stops cleanly)."""
    import faust

    worker = Worker(settings)
    # httpx logs every request at INFO: thousands of lines a second under load, a measurable share of the
    # worker's CPU, and nothing the metrics (edfi_stream_edfi_requests_total, ..._duration_seconds) lack
    logging.getLogger("httpx").setLevel(logging.WARNING)
    faust.Worker(worker.app, loglevel="INFO", quiet=True).execute_from_commandline()
