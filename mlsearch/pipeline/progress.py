"""Progress reporting for the stages: silent by default, rich bars from the CLI."""

from __future__ import annotations

from typing import Any

__all__ = ["NullReporter", "Reporter", "RichReporter"]


class Reporter:
    """Interface: a stage calls ``start`` once, ``advance`` per unit of work, ``finish``."""

    def start(self, stage: str, total: int) -> None:
        """Begin ``stage`` with ``total`` units of work."""

    def advance(self, stage: str, n: int = 1, note: str = "") -> None:
        """``n`` more units of ``stage`` are done."""

    def finish(self, stage: str, message: str) -> None:
        """``stage`` is done (or skipped); ``message`` says what happened."""


class NullReporter(Reporter):
    """Reports nothing (library use, tests)."""


class RichReporter(Reporter):
    """One rich progress bar per stage, on stderr."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.fields[stage]:<9}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[note]}"),
            console=self.console,
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> RichReporter:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def start(self, stage: str, total: int) -> None:
        self.tasks[stage] = self.progress.add_task("", total=total, stage=stage, note="")

    def advance(self, stage: str, n: int = 1, note: str = "") -> None:
        self.progress.update(self.tasks[stage], advance=n, note=note)

    def finish(self, stage: str, message: str) -> None:
        task = self.tasks.get(stage)
        if task is None:
            task = self.tasks[stage] = self.progress.add_task("", total=1, stage=stage, note="")
        total = self.progress.tasks[task].total or 1
        self.progress.update(task, completed=total, note=message)
