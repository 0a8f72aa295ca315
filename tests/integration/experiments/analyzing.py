"""Helpers of the experiment tests: wait until a live gateway has recorded its exposures, and run
``assay experiment analyze`` as a user does (exit code and output through the real CLI)."""

from __future__ import annotations

import json
import time
from typing import Any

import typer
from click.testing import Result
from typer.testing import CliRunner

from assay.cli.stats import experiment_app
from assay.experiments import open_event_store


def wait_for_exposures(db_url: str, want: dict[str, int], timeout_s: float = 10) -> None:
    """Return once the store at ``db_url`` holds at least ``want[name]`` exposures of each experiment (the
    gateway writes them after each response has finished); fail naming the counts after ``timeout_s``."""
    store = open_event_store(db_url)
    try:
        deadline = time.monotonic() + timeout_s
        while any(len(store.exposures(name)) < n for name, n in want.items()):
            assert time.monotonic() < deadline, {name: len(store.exposures(name)) for name in want}
            time.sleep(0.05)
    finally:
        store.close()


def analyze(*args: str) -> Result:
    """``assay experiment analyze *args``."""
    cli = typer.Typer()
    cli.add_typer(experiment_app, name="experiment")
    return CliRunner().invoke(cli, ["experiment", "analyze", *args])


def analyze_json(*args: str) -> Any:
    """``assay experiment analyze *args --json``'s report; fails the test when the command fails."""
    result = analyze(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
