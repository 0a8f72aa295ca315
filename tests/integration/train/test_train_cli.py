"""``assay train tokenizer`` and ``assay train pretrain`` through typer's CliRunner on ``train_app``.

Real tokenizer training and a real (tiny) pretraining run; nothing is mocked.
Run: ``python -m pytest tests/integration/train/test_train_cli.py -q`` (about 10 s).
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from assay.cli.train import train_app

runner = CliRunner()

SOURCES = {
    "a.py": "def add(a, b):\n    return a + b\n\n\nprint(add(1, 2))\n" * 4,
    "b.py": "import os\n\ndef read_file(path):\n    with open(path) as fh:\n        return fh.read()\n" * 4,
    "c.go": "package main\n\nfunc main() {\n\tx := add(1, 2)\n\tprintln(x)\n}\n" * 4,
    "notes.bin": "not a source file",
}


def _tree(root: Path) -> Path:
    src = root / "src"
    src.mkdir()
    for name, text in SOURCES.items():
        (src / name).write_text(text)
    return src


def test_tokenizer_then_pretrain_from_the_command_line(tmp_path: Path) -> None:
    src = _tree(tmp_path)
    res = runner.invoke(train_app, ["tokenizer", str(src), "--out", str(tmp_path / "tok"), "--vocab-size", "300",
                                    "--json"])
    assert res.exit_code == 0, res.output
    tok = json.loads(res.stdout)
    assert tok["special_tokens"]["<|endoftext|>"] == 0 and tok["special_tokens"]["<fim_pad>"] == 6

    pretrain = [
        "pretrain", str(src), "--tokenizer", str(tmp_path / "tok"), "--out", str(tmp_path / "run"),
        "--layers", "1", "--hidden", "32", "--heads", "4", "--kv-heads", "2", "--intermediate", "64",
        "--context", "64", "--seq-len", "32", "--batch-size", "2", "--grad-accum", "1", "--steps", "4",
        "--warmup", "1", "--eval-every", "2", "--checkpoint-every", "2", "--threads", "1", "--json"]
    res = runner.invoke(train_app, pretrain)
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert result["steps"] == 4 and result["tokens_seen"] == 4 * 2 * 32 and result["device"] == "cpu"
    assert result["val_loss"] is not None
    model = tmp_path / "run" / "model"
    assert (model / "model.safetensors").stat().st_mode & 0o777 == (model / "config.json").stat().st_mode & 0o777, \
        "the weights are as readable as the files beside them (safetensors writes them 0600)"

    again = runner.invoke(train_app, pretrain)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["resumed_from_step"] == 4


def test_pretrain_with_a_tokenizer_lacking_fim_tokens_fails_with_one_line(tmp_path: Path) -> None:
    from tests.support.tiny_model import build_tiny_model

    src = _tree(tmp_path)
    plain = build_tiny_model(tmp_path / "plain", special_tokens=["<|endoftext|>"])
    res = runner.invoke(train_app, ["pretrain", str(src), "--tokenizer", str(plain), "--out", str(tmp_path / "run"),
                                    "--steps", "1"])
    assert res.exit_code == 2
    assert "does not have '<fim_prefix>' as a single special token" in res.output
    assert "Traceback" not in res.output


def test_missing_data_path_is_reported(tmp_path: Path) -> None:
    res = runner.invoke(train_app, ["tokenizer", str(tmp_path / "nowhere"), "--out", str(tmp_path / "tok")])
    assert res.exit_code == 2
    assert "training data path" in res.output and "does not exist" in res.output
