"""The emulator's response type, shared by the request handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class EmulatorResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> EmulatorResponse:
    return EmulatorResponse(status, {"Content-Type": "application/json", **(headers or {})},
                            json.dumps(body).encode())
