"""Fault injection for the emulator: what a real ODS/API does on a bad day, at configured rates."""

from __future__ import annotations

import asyncio
import random
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from streams.emulator.problems import problem
from streams.emulator.responses import EmulatorResponse, _json

if TYPE_CHECKING:
    from streams.emulator.core import EdfiEmulator


class DroppedConnection(Exception):
    """Fault: the connection is closed without a response."""


class RequestTimeout(Exception):
    """Fault: the server does not answer within the client's timeout."""


@dataclass
class FaultSettings:
    error_rate: float = 0.0           # share of data requests answered 500/503
    throttle_rate: float = 0.0        # share answered 429 with Retry-After
    retry_after_seconds: float = 1.0
    latency_seconds: float = 0.0      # added to every data request
    latency_jitter_seconds: float = 0.0
    drop_rate: float = 0.0            # share of connections dropped without a response
    timeout_rate: float = 0.0         # share that never answers in time
    timeout_seconds: float = 60.0
    token_ttl_seconds: float | None = None   # tokens expire after this many seconds (default: 1800)
    seed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultSettings:
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        return cls(**data)


class FaultInjector:
    """Draws the fault (if any) for each request; deterministic with a seed."""

    def __init__(self, settings: FaultSettings | None = None) -> None:
        self.configure(settings or FaultSettings())
        self.injected: dict[str, int] = {}

    def configure(self, settings: FaultSettings) -> None:
        self.settings = settings
        self._random = random.Random(settings.seed)

    def draw(self) -> str | None:
        """One of 'drop', 'timeout', 'error', 'throttle' or None."""
        s = self.settings
        roll = self._random.random()
        for name, rate in (("drop", s.drop_rate), ("timeout", s.timeout_rate), ("error", s.error_rate),
                           ("throttle", s.throttle_rate)):
            if roll < rate:
                self.injected[name] = self.injected.get(name, 0) + 1
                return name
            roll -= rate
        return None

    def latency(self) -> float:
        s = self.settings
        if s.latency_seconds <= 0 and s.latency_jitter_seconds <= 0:
            return 0.0
        return s.latency_seconds + self._random.random() * s.latency_jitter_seconds

    def error_status(self) -> int:
        return 503 if self._random.random() < 0.5 else 500


async def inject(emu: EdfiEmulator, method: str, path: str) -> EmulatorResponse | None:
    """The injected fault of this request (faults.py): raised, answered, or None (latency only)."""
    fault = emu.faults.draw()
    delay = emu.faults.latency()
    if delay:
        await asyncio.sleep(delay)
    if fault == "drop":
        emu._count(method, path, 0)
        raise DroppedConnection(path)
    if fault == "timeout":
        emu._count(method, path, 0)
        raise RequestTimeout(path)
    if fault == "error":
        status = emu.faults.error_status()
        response = _json(status, problem(status, "urn:ed-fi:api:system",
                                         "An unexpected problem has occurred.",
                                         legacy=emu.legacy_errors))
        emu._count(method, path, status)
        return response
    if fault == "throttle":
        retry = emu.faults.settings.retry_after_seconds
        response = _json(429, problem(429, "urn:ed-fi:api:too-many-requests",
                                      "Too many requests.", legacy=emu.legacy_errors),
                         {"Retry-After": str(max(0, round(retry)) if retry >= 1 else retry)})
        emu._count(method, path, 429)
        return response
    return None
