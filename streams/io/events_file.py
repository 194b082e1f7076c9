"""The events file of the contract: JSON Lines, one ``{"topic", "key", "value"}`` event a line.

Lines that are not valid are reported with their line number (``EventLineError``) instead of being
skipped: nothing is ever silently lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams.errors import PoisonInput


@dataclass(frozen=True, slots=True)
class FileEvent:
    line: int
    topic: str
    key: Any
    value: Any


class EventLineError(PoisonInput):
    def __init__(self, line: int, reason: str, detail: str) -> None:
        super().__init__(reason, f"line {line}: {detail}")
        self.line = line


def read_events(path: str | Path) -> Iterator[FileEvent | EventLineError]:
    """Yield each event, or an :class:`EventLineError` for a line that is not an event (never raises)."""
    with open(path, encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            text = text.strip()
            if not text:
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                yield EventLineError(number, "bad_json", str(exc))
                continue
            if not isinstance(data, dict) or not isinstance(data.get("topic"), str):
                yield EventLineError(number, "bad_event", "expected an object with a 'topic'")
                continue
            yield FileEvent(number, data["topic"], data.get("key"), data.get("value"))
