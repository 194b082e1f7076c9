"""Benchmark: memory of the owner index (streams/sis/owners.py) for a district of ``--students`` students.

The index holds one entry per score and per enrollment ever seen (``"t:<scoreID>"``/``"e:<enrollmentID>"``
-> personID; kept after a delete). The worker keeps it in two Faust tables (in memory by default, each
entry also a record of the table's changelog topic); ``simulate`` and ``resync`` in a dict. This measures
the dict (tracemalloc, the same Python objects the in-memory Faust store holds) over the synthetic
district of benchmarks/synthetic.py, and the bytes of the changelog records the entries make.

    python benchmarks/owner_index_memory.py [--students 100000] [--scores 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from synthetic import events  # type: ignore[import-not-found]

from streams.sis.events import parse_change
from streams.sis.owners import OwnerIndex
from streams.topics import OWNED_TABLES


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--scores", type=int, default=5, help="scores per student")
    args = parser.parse_args()
    changes = [parse_change(e["topic"], e["key"], e["value"]) for e in events(args.students, args.scores)
               if e["topic"] in OWNED_TABLES]
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    started = time.process_time()
    owners = OwnerIndex()
    for change in changes:
        owners.record(owners.resolve(change))
    cpu = time.process_time() - started
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    size = sum(s.size_diff for s in after.compare_to(before, "filename"))
    entries = len(owners.store)
    # Faust's in-memory store also maps each key to its partition (faust/stores/memory.py: _key_partition)
    tracemalloc.start()
    mark = tracemalloc.take_snapshot()
    key_partition = {k: i % 2 for i, k in enumerate(owners.store)}
    extra = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(mark, "filename"))
    tracemalloc.stop()
    del key_partition
    # what Faust writes per entry to the table's changelog (its default json serializer for key and value)
    changelog = sum(len(json.dumps(k)) + len(json.dumps(v)) for k, v in owners.store.items())
    scores = sum(1 for k in owners.store if k.startswith("t:"))
    print(f"owner index, {args.students:,} students ({scores:,} scores, {entries - scores:,} enrollments)")
    print(f"  entries:                  {entries:>12,}")
    print(f"  memory (dict, tracemalloc): {size / 1e6:>10.1f} MB   ({size / entries:.0f} bytes per entry)")
    print(f"  + Faust's key->partition:  {extra / 1e6:>10.1f} MB   (worker, in-memory store: "
          f"{(size + extra) / 1e6:.1f} MB in all)")
    print(f"  changelog key+value bytes: {changelog / 1e6:>10.1f} MB   ({changelog / entries:.0f} bytes per entry, "
          "before Kafka's record overhead)")
    print(f"  CPU to build:             {cpu:>10.2f} s    ({cpu / entries * 1e6:.2f} us per entry)")
    print(json.dumps({"students": args.students, "entries": entries, "bytes": size, "faust_extra_bytes": extra,
                      "changelog_bytes": changelog}))


if __name__ == "__main__":
    main()
