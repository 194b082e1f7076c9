"""``edfi-stream emulator``: serve the emulator until Ctrl-C (the verb in streams/cli/main.py calls this)."""

from __future__ import annotations

import os
from pathlib import Path

from streams.emulator.faults import FaultSettings
from streams.emulator.server import run_emulator


def run_from_cli(host: str, port: int, db: Path | None, seed_sample: bool,
                 faults: FaultSettings | None = None) -> None:
    """One API client from EDFI_CLIENT_ID / EDFI_CLIENT_SECRET (the demo's pair when unset)."""
    key = os.environ.get("EDFI_CLIENT_ID", "demo-client")
    secret = os.environ.get("EDFI_CLIENT_SECRET", "demo-secret-not-for-production")
    run_emulator(host=host, port=port, db_path=db, clients={key: secret}, seed_sample=seed_sample, faults=faults)
