"""The replay/resync progress bar, through rich (already installed with typer): events read of total, rate,
time left; on stderr, so stdout keeps the plan or the JSON. When stderr is not a terminal (CI, a pipe) rich
draws the bar once, when it finishes."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress
from rich.text import Text


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f}/s" if speed else "-/s")


class Progress:
    def __init__(self, total: int, label: str = "replay", console: Console | None = None) -> None:
        self.total = max(total, 0)
        self.label = label
        self.done = 0
        self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("events"), RateColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                 console=console or Console(stderr=True))
        self._task = self._bar.add_task(label, total=self.total)
        self._bar.start()

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._bar.update(self._task, completed=self.done)

    def finish(self) -> None:
        self._bar.update(self._task, completed=self.done)
        self._bar.stop()
