"""A rich progress bar for training loops (steps, loss, validation loss, tokens/s) on stderr."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class TrainProgress:
    """Context manager; ``update(step, ...)`` moves the bar to ``step``. Disabled, it does nothing."""

    def __init__(self, total: int, *, start: int = 0, enabled: bool = True, description: str = "pretrain") -> None:
        self.enabled = enabled
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True), disable=not enabled,
        )
        self._task = self._progress.add_task(description, total=total, completed=start, info="")

    def __enter__(self) -> TrainProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.__exit__(exc_type, exc, tb)

    def update(self, step: int, *, loss: float, val_loss: float | None, tokens_per_s: float) -> None:
        if not self.enabled:
            return
        info = f"loss {loss:.3f}" + (f" val {val_loss:.3f}" if val_loss is not None else "") + f" {tokens_per_s:,.0f} tok/s"
        self._progress.update(self._task, completed=step, info=info)
