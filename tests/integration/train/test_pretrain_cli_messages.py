"""What ``assay train pretrain`` says when it stops early or is given an out-of-range option.

Through typer's CliRunner on ``train_app``, with a real tokenizer and a real (tiny) run; nothing is mocked.
Run: ``python -m pytest tests/integration/train/test_pretrain_cli_messages.py -q`` (about 10 s).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.cli.train import train_app
from assay.train.tokenizer import train_tokenizer

runner = CliRunner()
SOURCE = "def add(a, b):\n    return a + b\n\n\nprint(add(1, 2))\n"
TINY = ["--layers", "1", "--hidden", "32", "--heads", "4", "--kv-heads", "2", "--intermediate", "64", "--context", "64",
        "--seq-len", "32", "--batch-size", "2", "--grad-accum", "1", "--warmup", "1", "--threads", "1"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("messages")
    (root / "a.py").write_text(SOURCE * 8)
    train_tokenizer([SOURCE] * 10, root / "tok", vocab_size=300)
    return root / "a.py", root / "tok"


def test_a_max_minutes_stop_says_where_it_stopped_and_how_to_continue(inputs, tmp_path: Path) -> None:
    """Before, it printed only ``trained 1 steps, ... -> mm/model``: a stopped run looked finished."""
    src, tok = inputs
    argv = ["pretrain", str(src), "--tokenizer", str(tok), "--out", str(tmp_path / "mm"), *TINY, "--steps", "3"]
    res = runner.invoke(train_app, [*argv, "--max-minutes", "0.00001"])
    assert res.exit_code == 0, res.output
    assert "stopped at step 1 of 3 (--max-minutes reached); rerun the same command to continue" in res.stdout

    as_json = runner.invoke(train_app, [*argv, "--max-minutes", "0.00001", "--json"])
    result = json.loads(as_json.stdout)
    assert (result["steps"], result["stopped_early"], result["stop_reason"]) == (2, True, "max_minutes")

    done = runner.invoke(train_app, argv)
    assert done.exit_code == 0 and "trained 3 steps (resumed at step 2)" in done.stdout
    assert "stopped at" not in done.stdout


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--lr", "-1", "pretrain.lr must be greater than 0, got -1.0"),
    ("--max-minutes", "-1", "pretrain.max_minutes must be greater than 0 (or unset for no limit), got -1.0"),
    ("--threads", "0", "pretrain.threads must be at least 1 (or unset for torch's default), got 0"),
])
def test_out_of_range_options_are_one_line_errors(inputs, tmp_path: Path, option: str, value: str,
                                                   message: str) -> None:
    """Before: ``--lr -1`` was a torch ValueError traceback; ``--max-minutes -1`` and ``--threads 0`` trained."""
    src, tok = inputs
    res = runner.invoke(train_app, ["pretrain", str(src), "--tokenizer", str(tok), "--out", str(tmp_path / "run"),
                                    *TINY, "--steps", "3", option, value])
    assert res.exit_code == 2, res.output
    assert res.output.strip() == f"error: {message}"
    assert not (tmp_path / "run").exists()


def test_nano_rejects_bad_options_before_building_its_corpus(tmp_path: Path) -> None:
    res = runner.invoke(train_app, ["nano", "--out", str(tmp_path / "nano"), "--threads", "0", "--no-evaluate"])
    assert res.exit_code == 2, res.output
    assert res.output.strip() == "error: pretrain.threads must be at least 1 (or unset for torch's default), got 0"
    assert not (tmp_path / "nano" / "corpus").exists()
