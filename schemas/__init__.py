"""Avro schemas (.avsc) of every topic: the SIS envelopes, the control events and the internal topics.

``<topic>-value.avsc`` / ``<topic>-key.avsc``; ``ids.json`` gives each a fixed Confluent schema id, used
in the wire format when no schema registry is configured. The files are the source of truth; this module
only finds and parses them (a package, so they ship inside the wheel next to the code that reads them).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import fastavro

SCHEMA_DIR = Path(__file__).parent


@cache
def load(name: str) -> dict[str, Any]:
    """The parsed schema ``name`` (e.g. ``sis.test_scores-value``); FileNotFoundError if there is none."""
    with open(SCHEMA_DIR / f"{name}.avsc", encoding="utf-8") as handle:
        parsed = fastavro.parse_schema(json.load(handle))
    if not isinstance(parsed, dict):
        raise ValueError(f"schema {name} is not a named record")
    return parsed


@cache
def ids() -> dict[str, int]:
    """Schema name -> its fixed Confluent schema id."""
    with open(SCHEMA_DIR / "ids.json", encoding="utf-8") as handle:
        return {str(k): int(v) for k, v in json.load(handle).items()}


def names() -> list[str]:
    """Every schema name in the folder (``<topic>-key`` / ``<topic>-value``)."""
    return sorted(p.stem for p in SCHEMA_DIR.glob("*.avsc"))
