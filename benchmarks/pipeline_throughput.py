"""Benchmark: SIS events per second through the whole worker (broker, tables, rules, egress into the
emulator over HTTP) against a plain confluent-kafka consumer reading the same topics from the same broker;
and (``--latency``) end-to-end latency at a steady rate, from the SIS change timestamp to the Ed-Fi
acknowledgement, read from the worker's histogram. Prints the figures and one JSON line.

    python benchmarks/pipeline_throughput.py --students 2000              # Apache Kafka (--broker tansu)
    python benchmarks/pipeline_throughput.py --students 5000 --batched --one-hop
    python benchmarks/pipeline_throughput.py --latency --rate 100 --seconds 60 --fetch-max-wait-ms 20
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from confluent_kafka import Consumer, TopicPartition
from synthetic import write

from agents.topics import INPUT_TOPICS
from streams.demo.metrics_scrape import scrape, total
from streams.demo.stack import LocalStack


def raw_consume(kafka_config: dict, expected: int) -> tuple[float, float]:  # type: ignore[type-arg]
    """Events per second of a plain consumer, from assignment and from its first record."""
    consumer = Consumer({**kafka_config, "group.id": f"raw-{time.time()}", "auto.offset.reset": "earliest",
                         "enable.auto.commit": False, "log_level": 0})
    meta = consumer.list_topics(timeout=10).topics
    consumer.assign([TopicPartition(t, p, 0) for t in INPUT_TOPICS if t in meta for p in meta[t].partitions])
    seen, started, first = 0, time.perf_counter(), None
    while seen < expected:
        msgs = consumer.consume(1000, timeout=5)
        if not msgs:
            break
        first = first or time.perf_counter()
        seen += sum(1 for m in msgs if m.error() is None)
    ended = time.perf_counter()
    consumer.close()
    return seen / (ended - started), seen / max(ended - (first or started), 1e-9)


def one_hop(stack: LocalStack, expected: int) -> dict:  # type: ignore[type-arg]
    """A trivial one-hop Faust agent over the same SIS records, as a child process (faust_one_hop.py)."""
    import subprocess

    args = [sys.executable, str(Path(__file__).parent / "faust_one_hop.py"), stack.broker.bootstrap_servers,
            str(expected), *(["--tansu"] if stack.broker_kind == "tansu" else [])]
    done = subprocess.run(args, capture_output=True, text=True, timeout=3600, check=False)
    # Faust's worker may send the child's stdout to its log (stderr) and writes terminal control codes before
    # the line: take it from its opening brace, from either stream
    lines = [line[line.index('{"benchmark"'):] for line in (done.stdout + done.stderr).splitlines()
             if '{"benchmark"' in line]
    if not lines:
        raise RuntimeError(f"the one-hop agent failed (exit {done.returncode}): {done.stdout[-1000:]}"
                           f"{done.stderr[-2000:]}")
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def quantile(buckets: list[tuple[float, float]], q: float) -> float:
    total = buckets[-1][1]
    for bound, count in buckets:
        if count >= q * total:
            return bound
    return float("inf")


def latency_buckets(metrics: dict[str, float]) -> list[tuple[float, float]]:
    out = []
    for key, value in metrics.items():
        if key.startswith("edfi_stream_end_to_end_latency_seconds_bucket{"):
            bound = key.split("le=")[1].rstrip("}")
            out.append((float(bound), value))
    return sorted(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--latency", action="store_true")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--fetch-max-wait-ms", type=int, default=None,
                        help="kafka.fetchMaxWaitMs for the worker (the embedded broker holds every fetch for "
                             "the whole wait, so it is the latency floor of each hop; docs/performance.md)")
    parser.add_argument("--batched", action="store_true",
                        help="without the embedded broker's one-record-per-batch workaround, as against a real "
                             "Kafka (tansu slows down as one-record batches pile up; docs/operations.md)")
    parser.add_argument("--broker", choices=["kafka", "tansu"], default=None,
                        help="the local broker: Apache Kafka 4 (default, $EDFI_STREAM_TEST_BROKER) or tansu")
    parser.add_argument("--one-hop", action="store_true",
                        help="also time a trivial one-hop Faust agent on the same records (faust_one_hop.py)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    events = tmp / "events.jsonl"
    count = write(events, args.students)
    config = tmp / "config.yaml"
    fetch_wait = f", fetchMaxWaitMs: {args.fetch_max_wait_ms}" if args.fetch_max_wait_ms else ""
    config.write_text(f"kafka: {{topicPartitions: 4{fetch_wait}}}\n")
    with LocalStack(config, events, one_record_per_batch=not args.batched, broker=args.broker) as stack:
        if args.latency:
            result = run_latency(stack, events, args.rate, args.seconds)
        else:
            started = time.perf_counter()
            stack.produce(events)
            stack.wait_idle(timeout_seconds=3600, settle_seconds=1.0)
            elapsed = time.perf_counter() - started - 1.0
            pipeline = count / elapsed
            raw, raw_steady = raw_consume(stack.kafka_config, count)
            result = {"benchmark": "pipeline_throughput", "events": count, "batched": args.batched,
                      "pipeline_events_per_second": round(pipeline), "raw_consumer_events_per_second": round(raw),
                      "raw_consumer_after_first_record_events_per_second": round(raw_steady),
                      "ratio": round(pipeline / raw, 4), "ratio_to_steady_raw": round(pipeline / raw_steady, 4),
                      "ods_records": len(stack.emulator.records()), "broker": stack.broker_kind,
                      # the guard against Faust's start-up drop (agents/commit_repair.py): did it fire here?
                      "commit_repairs": total(scrape(stack.metrics_url), "edfi_stream_commit_repairs_total")}
            if args.one_hop:
                hop = one_hop(stack, count)
                result.update({"one_hop_events_per_second": hop["events_per_second"],
                               "one_hop_after_first_record_events_per_second":
                                   hop["after_first_record_events_per_second"],
                               "ratio_to_one_hop": round(pipeline / hop["events_per_second"], 4)})
                print(f"[{stack.broker_kind}] one-hop Faust agent {hop['events_per_second']:,} events/s "
                      f"({hop['after_first_record_events_per_second']:,} after its first record): pipeline at "
                      f"{pipeline / hop['events_per_second']:.1%} of the framework's ceiling")
            print(f"[{stack.broker_kind}] {count} events: pipeline {pipeline:,.0f} events/s, "
                  f"raw consumer {raw:,.0f} events/s "
                  f"({raw_steady:,.0f} after its first record), ratio {pipeline / raw:.1%} "
                  f"({pipeline / raw_steady:.1%})")
    print(json.dumps(result))


def run_latency(stack: LocalStack, events: Path, rate: float, seconds: float) -> dict:  # type: ignore[type-arg]
    from streams.io.events_file import FileEvent, read_events
    from streams.io.produce import encode_event, make_producer

    all_events = [e for e in read_events(events) if isinstance(e, FileEvent)]
    stack.wait_ready()  # the group has joined: measure the pipeline, not the worker's start
    producer = make_producer(stack.settings.kafka)
    producer.list_topics(timeout=10)  # a SIS connector's producer is long-lived: measure it warm
    sent, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds and sent < len(all_events):
        event = all_events[sent]
        event.value["ts_ms"] = int(time.time() * 1000)  # the SIS change happens now
        key, value = encode_event(event, "avro")
        producer.produce(event.topic, key=key, value=value)
        producer.poll(0)
        sent += 1
        time.sleep(max(0.0, started + sent / rate - time.perf_counter()))
    producer.flush(30)
    stack.wait_idle(timeout_seconds=600, settle_seconds=1.0)
    buckets = latency_buckets(scrape(stack.metrics_url))
    result = {"benchmark": "latency", "broker": stack.broker_kind, "events": sent, "rate": rate,
              "writes": buckets[-1][1] if buckets else 0,
              "p50_le_seconds": quantile(buckets, 0.5), "p95_le_seconds": quantile(buckets, 0.95),
              "p99_le_seconds": quantile(buckets, 0.99),
              "cumulative_buckets": {str(bound): count for bound, count in buckets}}
    print(f"{sent} events at {rate}/s: end-to-end p50 <= {result['p50_le_seconds']} s, "
          f"p95 <= {result['p95_le_seconds']} s, p99 <= {result['p99_le_seconds']} s (histogram bucket bounds)")
    return result


if __name__ == "__main__":
    main()
