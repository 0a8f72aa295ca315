"""What every ``assay`` command shares: the one way a command fails, the option types several commands
take, and quiet transformers.

Exit codes of every command:

* 0: done.
* 1: the command ran and reports a *finding*: ``assay models probe`` (the model does not fill the
  middle) and ``assay audit --verify`` (the log's hash chain is broken).
* 2: the command could not do what was asked (a usage, configuration or input error): one
  ``error:`` line on stderr from :func:`fail`. click's own usage errors exit 2 as well.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

err_console = Console(stderr=True)

USAGE_ERROR = 2
"""Exit code of a usage, configuration or input error."""

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="assay.yaml to read (default: $ASSAY_CONFIG or ./assay.yaml).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
RunDbOpt = Annotated[
    str | None, typer.Option("--db", help="SQLAlchemy URL or SQLite file (default $ASSAY_DB or ./assay-runs.db).")
]
"""The run database of ``assay eval`` and the commands that read its runs."""


def fail(message: str) -> typer.Exit:
    """Print ``message`` as one ``error:`` line on stderr (never wrapped, brackets and colons kept as
    written) and return the exit (code 2) for the caller to raise."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True, highlight=False, emoji=False)
    return typer.Exit(USAGE_ERROR)


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Within the block, transformers shows no progress bars (``Loading weights``, ``Writing model
    shards``) and logs errors only; its previous settings are restored afterwards. For commands that
    show their own progress."""
    from transformers.utils import logging

    bars, verbosity = logging.is_progress_bar_enabled(), logging.get_verbosity()
    logging.disable_progress_bar()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(verbosity)
        if bars:
            logging.enable_progress_bar()
