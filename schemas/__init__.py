"""Avro schemas (.avsc) of every topic: the SIS envelopes, the control events and the internal topics.

``<topic>-value.avsc`` / ``<topic>-key.avsc``; ``ids.json`` gives each a fixed Confluent schema id, used
in the wire format when no schema registry is configured.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import fastavro

SCHEMA_DIR = Path(__file__).parent


@cache
def load(name: str) -> Any:
    """The parsed schema ``name`` (e.g. ``sis.test_scores-value``)."""
    with open(SCHEMA_DIR / f"{name}.avsc", encoding="utf-8") as handle:
        return fastavro.parse_schema(json.load(handle))


@cache
def ids() -> dict[str, int]:
    with open(SCHEMA_DIR / "ids.json", encoding="utf-8") as handle:
        return dict(json.load(handle))


def names() -> list[str]:
    return sorted(p.stem for p in SCHEMA_DIR.glob("*.avsc"))
