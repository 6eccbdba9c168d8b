"""What a long benchmark shows while it runs: the step it is on, how far it has got, and the time
left (a rich progress bar in a terminal; one plain line per step otherwise, as in CI logs)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

# What starting a server, filling Redis and building the requests add to a step's measured seconds,
# roughly, on the 2-core machine the figures come from: enough for the time left to be honest.
SETUP_SECONDS = 3.0


class Steps:
    """A run of `count` steps planned to take about `seconds` in all. Each step says what it does
    and how long it should take; the bar moves with the clock inside a step and jumps to the plan
    when the step ends, so the time left is the plan's, corrected as steps finish early or late."""

    def __init__(self, title: str, *, count: int, seconds: float, stream: TextIO | None = None) -> None:
        self.title = title
        self.count = count
        self.seconds = seconds
        self.stream = stream or sys.stderr
        self.done = 0
        self.planned_so_far = 0.0
        self._progress: Progress | None = None
        self._task = TaskID(0)

    @contextmanager
    def running(self) -> Iterator[Steps]:
        """Show the progress for as long as the run lasts."""
        self._say(f"{self.title}: {self.count} steps, about {_duration(self.seconds)}")
        if not self.stream.isatty():
            yield self
            return
        console = Console(file=self.stream)
        progress = Progress(
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        with progress:
            self._progress = progress
            self._task = progress.add_task(self.title, total=self.seconds)
            try:
                yield self
            finally:
                self._progress = None

    @contextmanager
    def step(self, label: str, seconds: float) -> Iterator[None]:
        """One step, planned to take `seconds`."""
        self.done += 1
        line = f"step {self.done}/{self.count}: {label}"
        if self._progress is None:
            self._say(line)
            yield
            self.planned_so_far += seconds
            return
        progress, task = self._progress, self._task
        progress.update(task, description=line)
        began = time.monotonic()
        stop = threading.Event()

        def tick() -> None:
            while not stop.wait(0.25):
                inside = min(time.monotonic() - began, seconds * 0.95)
                progress.update(task, completed=self.planned_so_far + inside)

        ticker = threading.Thread(target=tick, name="bench-progress", daemon=True)
        ticker.start()
        try:
            yield
        finally:
            stop.set()
            ticker.join()
            self.planned_so_far += seconds
            progress.update(task, completed=self.planned_so_far)
            progress.console.print(f"[dim]{line}: {_duration(time.monotonic() - began)}[/dim]")

    def _say(self, line: str) -> None:
        print(line, file=self.stream, flush=True)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"
