"""`assay train nano`'s options reach the recipe: a quick run outside the project checkout works.

``run_nano`` is replaced by a recorder (the real recipe trains for about an hour); the recorder raises an
``AssayError`` once it has the configuration, which also checks the command's one-line error path.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.cli.main import app
from assay.cli.train import packaged_benchmarks
from assay.errors import AssayError
from assay.train.nano import NanoConfig


@pytest.fixture()
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[NanoConfig]:
    seen: list[NanoConfig] = []

    def record(config: NanoConfig, **_: object) -> None:
        seen.append(config)
        raise AssayError("recorded")

    monkeypatch.setattr("assay.train.nano.run_nano", record)
    return seen


def test_steps_and_minutes_bound_both_pretraining_phases(recorded: list[NanoConfig], tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["train", "nano", "--out", str(tmp_path), "--steps", "3", "--max-minutes", "0.5",
                                    "--no-evaluate"])
    assert done.exit_code == 2 and done.output.strip() == "error: recorded"
    (config,) = recorded
    assert (config.max_steps, config.continue_steps) == (3, 3)
    assert (config.max_minutes, config.continue_max_minutes) == (0.5, 0.5)


def test_defaults_keep_the_recipe_and_decontaminate_against_the_installed_benchmarks(
        recorded: list[NanoConfig], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    CliRunner().invoke(app, ["train", "nano", "--no-evaluate"])
    (config,) = recorded
    recipe = NanoConfig()
    assert (config.max_steps, config.continue_steps) == (recipe.max_steps, recipe.continue_steps)
    assert (config.max_minutes, config.continue_max_minutes) == (recipe.max_minutes, recipe.continue_max_minutes)
    assert Path(config.benchmarks) == packaged_benchmarks()
    assert (packaged_benchmarks() / "humaneval" / "HumanEval.jsonl.gz").is_file()
