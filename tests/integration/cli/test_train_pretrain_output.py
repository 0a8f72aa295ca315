"""`assay train tokenizer` then `assay train pretrain` at toy sizes, in-process: the summary line a user reads."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from assay.cli.main import app

CODE = "def add_{i}(a, b):\n    total = a + b * {i}\n    return total\n\n\nclass Box{i}:\n    size = {i}\n"


def test_pretrain_summary_rounds_the_validation_loss(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"text": CODE.format(i=i)}) + "\n" for i in range(40)))
    runner = CliRunner()
    tok = runner.invoke(app, ["train", "tokenizer", str(corpus), "--out", str(tmp_path / "tok"), "--vocab-size", "300"])
    assert tok.exit_code == 0, tok.output
    done = runner.invoke(app, [
        "train", "pretrain", str(corpus), "--tokenizer", str(tmp_path / "tok"), "--out", str(tmp_path / "run"),
        "--layers", "1", "--hidden", "32", "--heads", "2", "--kv-heads", "1", "--intermediate", "64",
        "--context", "64", "--seq-len", "32", "--batch-size", "2", "--grad-accum", "1", "--steps", "2",
        "--warmup", "1", "--eval-every", "2", "--checkpoint-every", "2", "--threads", "1", "--device", "cpu"])
    assert done.exit_code == 0, done.output
    assert re.search(r"; val loss (none|\d+\.\d{4}) -> ", done.stdout), done.stdout
    assert "pretrain" in done.stderr and "Writing model shards" not in done.stderr, done.stderr
