"""``assay eval humaneval-infilling --model NAME`` on the real ``local`` provider (the tiny random-weight
model from tests/support/tiny_model.py): the production pipeline in-process, scored in the sandbox.
The model's output is gibberish, so this checks the path, not the score."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from assay.cli.eval import eval_app


def test_infilling_through_a_local_model(tiny_model_dir, tmp_path) -> None:
    config = tmp_path / "assay.yaml"
    config.write_text(f"models:\n  - name: tiny\n    provider: local\n    path: {tiny_model_dir}\n    spec: assay-nano\n")
    db = str(tmp_path / "runs.db")
    args = ["eval", "humaneval-infilling", "--model", "tiny", "--config", str(config), "--limit", "2",
            "--max-tokens", "8", "--db", db, "--json"]
    res = CliRunner().invoke(eval_app, args)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["task"] == "humaneval-infilling-single-line" and out["problems"] == 2
    assert {"pass@1", "em_santacoder", "edit_similarity"} <= set(out["scores"])
    again = CliRunner().invoke(eval_app, args)
    assert json.loads(again.stdout) == out
