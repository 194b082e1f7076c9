"""The console in a real browser: Debian's chromium (/usr/bin/chromium) driven by Playwright for Python.

Playwright's own browser download does not work here (and is never run): the tests launch the system's
chromium. Without it (or without the playwright package) they skip, and fail when
EDFI_STREAM_REQUIRE_BROWSER=1 (CI: .ci/run installs both)."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _need(what: str, present: bool) -> None:
    if present:
        return
    message = f"{what} is not installed (apt-get install chromium; pip install playwright)"
    if os.environ.get("EDFI_STREAM_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _need("playwright (pip)", importlib.util.find_spec("playwright") is not None)
    _need("chromium (Debian package)", Path(CHROMIUM).exists())
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()
