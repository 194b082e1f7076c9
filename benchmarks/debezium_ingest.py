"""Benchmark: the worker's ingest work per record (decode, validate, owner index, route, encode the
repartition record) on Debezium's default JSON (``schemas.enable=true``, about 3 KB a record, captured
from the real connector: tests/unit/codec/data/) against the contract's own JSON and Avro records of the
same changes. Prints records per CPU second (process time: the machine is shared) side by side, the
ratios, and one JSON line.

    python benchmarks/debezium_ingest.py [--records 20000] [--rounds 5] [--against REV]

``--against REV`` adds the ingest of this run with the decoder and the owner index of git revision ``REV``
(streams/codec/debezium.py and streams/sis/owners.py as they were there), so a change to them is measured
side by side with what it replaces.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agents.routing import routes_for
from agents.wire import Wire, routed_change
from streams.codec import codec_for
from streams.codec import debezium as debezium_codec
from streams.codec.debezium import SisDecoder
from streams.sis.events import parse_change
from streams.sis.owners import OwnerIndex, before_image
from streams.topics import STUDENT_EVENTS, TEST_SCORES

CAPTURE = Path(__file__).parents[1] / "tests" / "unit" / "codec" / "data" / "debezium-json-schemas.jsonl"


def debezium_records(n: int) -> list[tuple[bytes, bytes]]:
    """``n`` TestScore updates in Debezium's default JSON, from a real captured record (ids varied)."""
    captured = [json.loads(line) for line in CAPTURE.read_text().splitlines() if line]
    template = next(r for r in captured if r["topic"].endswith("TestScore") and r["value"]
                    and json.loads(r["value"])["payload"]["op"] == "u")
    value = json.loads(template["value"])
    key = json.loads(template["key"])
    out = []
    for i in range(n):
        payload = value["payload"]
        after = {**payload["after"], "scoreID": 10_000 + i, "personID": 100 + i % 5000,
                 "scaleScore": str(200 + i % 300)}
        doc = {"schema": value["schema"], "payload": {**payload, "after": after,
                                                      "source": {**payload["source"], "lsn": 26_000_000 + i}}}
        k = {"schema": key["schema"], "payload": {"scoreID": 10_000 + i}}
        out.append((json.dumps(k, separators=(",", ":")).encode(), json.dumps(doc, separators=(",", ":")).encode()))
    return out


def contract_records(n: int, fmt: str) -> list[tuple[bytes, bytes]]:
    codec = codec_for(TEST_SCORES)
    out = []
    for i in range(n):
        row = {"scoreID": 10_000 + i, "personID": 100 + i % 5000, "testID": 1, "date": "2024-03-24",
               "result": "Performance Level 4", "scaleScore": str(200 + i % 300), "rawScore": None,
               "percent": "87.50", "percentile": None, "proctorPersonID": None}
        envelope = {"before": None, "after": row, "op": "u", "ts_ms": 1_700_000_000_000 + i,
                    "source": {"table": "TestScore", "seq": i}}
        out.append((codec.encode_key({"scoreID": 10_000 + i}, fmt=fmt),  # type: ignore[arg-type]
                    codec.encode_value(envelope, fmt=fmt)))  # type: ignore[arg-type]
    return out


def ingest_today(records: list[tuple[bytes, bytes]]) -> None:
    """The ingest before Debezium support: the contract codec, parse, route, encode."""
    codec, wire = codec_for(TEST_SCORES), Wire()
    for raw_key, raw_value in records:
        value = codec.decode_value(raw_value)
        change = parse_change(TEST_SCORES, codec.decode_key(raw_key), value or {})
        for route in routes_for(change, 4):
            wire.encode_value(STUDENT_EVENTS, routed_change(change, value or {}, route.broadcast))


def ingest_now(records: list[tuple[bytes, bytes]], decoder_type: Any = SisDecoder, owners_type: Any = OwnerIndex
               ) -> None:
    """The ingest of agents/ingest.py: any format through SisDecoder, the owner index, route, encode."""
    decoder, owners, wire = decoder_type(), owners_type(), Wire()
    for raw_key, raw_value in records:
        value = decoder.decode_value(TEST_SCORES, raw_value) or {}
        change = owners.apply(parse_change(TEST_SCORES, decoder.decode_key(TEST_SCORES, raw_key), value))
        forwarded = {**value, "before": before_image(change, value.get("before"))}
        for route in routes_for(change, 4):
            wire.encode_value(STUDENT_EVENTS, routed_change(change, forwarded, route.broadcast))


def ingest_now_stdlib(records: list[tuple[bytes, bytes]]) -> None:
    """:func:`ingest_now` with the payload parsed by the standard library's json (no orjson)."""
    fast = debezium_codec._parse_slice
    debezium_codec._parse_slice = debezium_codec._scan_slice
    try:
        ingest_now(records)
    finally:
        debezium_codec._parse_slice = fast


def module_at(rev: str, path: str) -> Any:
    """The module at ``path`` as it was in git revision ``rev`` (loaded under another name)."""
    source = subprocess.run(["git", "show", f"{rev}:{path}"], check=True, capture_output=True, text=True,
                            cwd=Path(__file__).parents[1]).stdout
    name = f"_at_{rev}_{Path(path).stem}".replace("-", "_")
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    exec(compile(source, f"{rev}:{path}", "exec"), module.__dict__)  # our own repository's code
    return module


def ingest_at(rev: str) -> Callable[[list[tuple[bytes, bytes]]], None]:
    decoder = module_at(rev, "streams/codec/debezium.py").SisDecoder
    owners = module_at(rev, "streams/sis/owners.py").OwnerIndex
    return lambda records: ingest_now(records, decoder, owners)


def best_rate(run: Callable[[list[tuple[bytes, bytes]]], None], records: list[tuple[bytes, bytes]],
              rounds: int) -> float:
    best = 0.0
    for _ in range(rounds):
        started = time.process_time()
        run(records)
        best = max(best, len(records) / (time.process_time() - started))
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", help="a git revision: its decoder and owner index measured too")
    args = parser.parse_args()
    dbz = debezium_records(args.records)
    sets: dict[str, tuple[Callable[[Any], None], list[tuple[bytes, bytes]]]] = {
        "contract Avro, ingest before Debezium support": (ingest_today, contract_records(args.records, "avro")),
        "contract JSON, ingest before Debezium support": (ingest_today, contract_records(args.records, "json")),
        "contract Avro, ingest now": (ingest_now, contract_records(args.records, "avro")),
        "contract JSON, ingest now": (ingest_now, contract_records(args.records, "json")),
        "Debezium JSON schemas.enable=true, ingest now": (ingest_now, dbz),
        "Debezium JSON schemas.enable=true, stdlib json": (ingest_now_stdlib, dbz),
    }
    if args.against:
        older = ingest_at(args.against)
        sets[f"contract JSON, ingest of {args.against}"] = (older, sets["contract JSON, ingest now"][1])
        sets[f"Debezium JSON schemas.enable=true, ingest of {args.against}"] = (older, dbz)
    # rounds interleaved (every set once per round, best round kept): a busy machine slows all sets alike
    rates = dict.fromkeys(sets, 0.0)
    rounds: list[dict[str, float]] = []
    for _ in range(args.rounds):
        this = {name: best_rate(run, records, 1) for name, (run, records) in sets.items()}
        rounds.append(this)
        rates = {name: max(rates[name], rate) for name, rate in this.items()}
    size = sum(len(v) for _, v in dbz) / len(dbz)
    print(f"ingest work per record, best of {args.rounds} rounds of {args.records} TestScore updates "
          f"(Debezium records {size:,.0f} bytes each; payload parser: {debezium_codec.PAYLOAD_PARSER})")
    json_before = "contract JSON, ingest before Debezium support"
    avro_before = "contract Avro, ingest before Debezium support"
    # the sets of one round run back to back, under about the same load: the median of their per-round
    # ratios moves less from run to run than the ratio of the best rounds
    median = {name: statistics.median(r[name] / r[json_before] for r in rounds) for name in sets}
    print(f"  {'records, ingest':<56} {'records/s':>10}  {'vs JSON before':>14}  {'vs Avro before':>14}"
          f"  {'vs JSON before, median of rounds':>32}")
    for name, rate in rates.items():
        print(f"  {name:<56} {rate:>10,.0f}  {rate / rates[json_before]:>14.2f}  {rate / rates[avro_before]:>14.2f}"
              f"  {median[name]:>32.2f}")
    print(json.dumps({"records": args.records, "debezium_bytes": round(size),
                      **{k: round(v) for k, v in rates.items()},
                      "median_ratio_to_contract_json_before": {k: round(v, 3) for k, v in median.items()}}))

if __name__ == "__main__":
    main()
