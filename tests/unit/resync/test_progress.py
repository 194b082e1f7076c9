"""The replay/resync progress bar is drawn by rich: label, events done of total, rate and time left."""

from __future__ import annotations

import io

from rich.console import Console

from streams.resync.progress import Progress


def test_the_bar_shows_done_of_total_and_a_rate() -> None:
    out = io.StringIO()
    progress = Progress(250, label="replay", console=Console(file=out, width=120, force_terminal=False))
    for _ in range(250):
        progress.advance()
    progress.finish()
    text = out.getvalue()
    assert "replay" in text and "250/250 events" in text and "/s" in text and "ETA" in text
    assert progress.done == 250


def test_an_empty_replay_still_finishes() -> None:
    out = io.StringIO()
    progress = Progress(0, console=Console(file=out, width=120, force_terminal=False))
    progress.finish()
    assert "0/0 events" in out.getvalue()
