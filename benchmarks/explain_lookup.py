"""Benchmark: finding the student of a scoreID for /explain, the old scan of the students table against
the index (agents/explain_index.py), on a table of synthetic students. Prints both figures and the ratio.

    python benchmarks/explain_lookup.py [--students 100000] [--scores 3]
"""

from __future__ import annotations

import argparse
import json
import random
import time
import tracemalloc

from agents import table_values
from agents.explain_index import TableIndex, score_ids


def scan(table: dict[str, bytes], score_id: int) -> str | None:
    """What /explain did before the index (agents/join.py before issue 13)."""
    for key, raw in list(table.items()):
        if any(row.get("scoreID") == score_id for row in table_values.from_bytes(raw).get("t") or ()):
            return key
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--scores", type=int, default=3)
    parser.add_argument("--requests", type=int, default=5)
    args = parser.parse_args()
    table = {str(p): table_values.to_bytes({"s": {"personID": p, "stateID": f"{p:010d}"}, "t": [
        {"scoreID": p * 100 + i, "personID": p, "testID": i, "date": "2024-03-01", "scaleScore": "300"}
        for i in range(args.scores)]}) for p in range(1, args.students + 1)}
    wanted = [random.randrange(1, args.students) * 100 for _ in range(args.requests)]

    started = time.process_time()
    for score in wanted:
        assert scan(table, score) == str(score // 100)
    scan_s = (time.process_time() - started) / len(wanted)

    index = TableIndex(table, score_ids)
    tracemalloc.start()
    index.lookup(wanted[0])
    index_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    index.invalidate()
    started = time.process_time()
    index.lookup(wanted[0])
    build_s = time.process_time() - started
    started = time.process_time()
    for _ in range(1000):
        for score in wanted:
            assert index.lookup(score) == str(score // 100)
    lookup_s = (time.process_time() - started) / (1000 * len(wanted))
    print(f"students {args.students}, scores each {args.scores}")
    print(f"  scan per request:        {scan_s * 1000:10.2f} ms CPU")
    print(f"  index, first build once: {build_s * 1000:10.2f} ms CPU")
    print(f"  index per request:       {lookup_s * 1000:10.4f} ms CPU   (scan / index: {scan_s / lookup_s:,.0f}x)")
    print(f"  index memory:            {index_bytes / 1e6:10.1f} MB ({index_bytes / (args.students * args.scores):.0f} "
          "bytes per score)")
    print(json.dumps({"index_mb": round(index_bytes / 1e6, 1), "students": args.students,
                      "scan_ms": round(scan_s * 1000, 3),
                      "build_ms": round(build_s * 1000, 3), "lookup_ms": round(lookup_s * 1000, 5)}))


if __name__ == "__main__":
    main()
