"""``edfi-stream emulator``: serve the emulator until Ctrl-C (the verb in streams/cli/main.py calls this)."""

from __future__ import annotations

import os
from pathlib import Path

from streams.emulator.faults import FaultSettings
from streams.emulator.server import run_emulator


def parse_schools(text: str | None) -> list[int] | None:
    """``"255901001, 255901002"`` -> the schoolIds; None or empty: no limit. ValueError if not integers."""
    if not text or not text.strip():
        return None
    return [int(part) for part in text.split(",") if part.strip()]


def run_from_cli(host: str, port: int, db: Path | None, seed_sample: bool,
                 faults: FaultSettings | None = None, client_schools: str | None = None) -> None:
    """One API client from EDFI_CLIENT_ID / EDFI_CLIENT_SECRET (the demo's pair when unset), whose claims
    cover ``client_schools`` (comma-separated schoolIds; every school when None)."""
    key = os.environ.get("EDFI_CLIENT_ID", "demo-client")
    secret = os.environ.get("EDFI_CLIENT_SECRET", "demo-secret-not-for-production")
    schools = parse_schools(client_schools)
    run_emulator(host=host, port=port, db_path=db, clients={key: secret}, seed_sample=seed_sample, faults=faults,
                 client_schools={key: schools} if schools is not None else None)
