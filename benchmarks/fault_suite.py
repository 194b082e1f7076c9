"""The fault-injection suite as a report: runs tests/faults (SIGKILLs, Ed-Fi faults, poison input) and
prints each test's figures (events, kills, faults injected, records lost, writes beyond simulate's) as a
table and one JSON line. The figures in docs/faults.md come from this command.

    python benchmarks/fault_suite.py            # all three tests
    python benchmarks/fault_suite.py -k kills   # one of them (any pytest -k expression)
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^FAULTS (?P<test>[\w-]+): (?P<fields>.*)$")
FIELD = re.compile(r"(\w+)=(\S+)")


def parse(line: str) -> dict[str, str] | None:
    match = LINE.match(line.strip())
    if match is None:
        return None
    fields = {"test": match["test"]}
    for name, value in FIELD.findall(match["fields"]):
        fields[name] = value
    return fields


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default=None, help="pytest -k expression selecting the tests")
    args = parser.parse_args()
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout=300", "-m", "faults",
               "tests/faults"] + (["-k", args.k] if args.k else [])
    started = time.monotonic()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    results = [row for row in map(parse, proc.stdout.splitlines()) if row is not None]
    print(f"$ {' '.join(command[2:])}   ({time.monotonic() - started:.0f} s, exit {proc.returncode})")
    for row in results:
        print(f"{row['test']}:")
        for name, value in row.items():
            if name != "test":
                print(f"  {name:<24} {value}")
    print(json.dumps({"exit": proc.returncode, "results": results}))
    if proc.returncode != 0:
        print(proc.stdout[-4000:], file=sys.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
