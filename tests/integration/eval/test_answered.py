"""``answered`` and ``empty_passes`` end to end: an echo model (through the pipeline) that answers some
problems with nothing, scored in the real sandbox, read back by ``assay eval --json``, ``assay report``
(table, JSON and HTML) and ``assay compare --metric answered``.

The four problems are hand-made HumanEval-format functions: ``f`` and ``h`` must return None, so an empty
body (only the docstring) passes them; ``g`` and ``k`` must return their argument.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.cli.main import app

runner = CliRunner()

PROBLEMS = [
    ("T/0", "f", "Return None.", "assert candidate(1) is None"),
    ("T/1", "g", "Return x.", "assert candidate(2) == 2"),
    ("T/2", "k", "Return x.", "assert candidate(3) == 3"),
    ("T/3", "h", "Return None.", "assert candidate(4) is None"),
]
REPLIES = ["", "    return x\n", "  \n", "    return None\n"]
"""Answered in turn (one worker): T/0 empty and passing, T/1 passing, T/2 blank and failing, T/3 passing."""


def _problems(tmp_path: Path) -> Path:
    path = tmp_path / "problems.jsonl"
    path.write_text("".join(json.dumps({
        "task_id": tid, "entry_point": name, "canonical_solution": "    return x\n",
        "prompt": f'def {name}(x):\n    """{doc}"""\n', "test": f"def check(candidate):\n    {test}\n",
    }) + "\n" for tid, name, doc, test in PROBLEMS))
    return path


def _config(tmp_path: Path, replies: list[str]) -> Path:
    path = tmp_path / f"assay-{len(replies)}.yaml"
    path.write_text(json.dumps({"models": [{"name": "e", "provider": "echo", "spec": "assay-nano",
                                            "options": {"reply": replies}}]}))
    return path


def _eval(tmp_path: Path, *args: str) -> dict:
    res = runner.invoke(app, ["eval", "humaneval", "--data", str(_problems(tmp_path)), "--workers", "1",
                              "--db", str(tmp_path / "runs.db"), "--json", *args])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_eval_json_and_report_count_empty_answers_and_empty_passes(tmp_path: Path) -> None:
    out = _eval(tmp_path, "--model", "e", "--config", str(_config(tmp_path, REPLIES)))
    assert out["problems"] == 4 and out["outcomes"] == {"failed": 1, "passed": 3}
    assert (out["passes"], out["empty_passes"]) == (3, 1)
    answered = out["scores"]["answered"]
    se = math.sqrt(4 / 3 * 4 * 0.25) / 4
    assert answered["mean"] == 0.5 and answered["n"] == 4 and answered["clusters"] == 4
    assert answered["se"] == pytest.approx(se)
    # 0.5 ± 0.566 leaves [0, 1]: the reported bounds are clipped to the share's range.
    assert (answered["ci95_low"], answered["ci95_high"], answered["range"]) == (0.0, 1.0, [0.0, 1.0])

    html = tmp_path / "report.html"
    rep = runner.invoke(app, ["report", out["run_id"], "--db", str(tmp_path / "runs.db"), "--html", str(html)])
    assert rep.exit_code == 0, rep.output
    table = " ".join(rep.stdout.split())
    assert "answered │ 50.00 [0.00, 100.00] %" in table
    assert "empty passes │ 1 of 3" in table
    page = html.read_text()
    assert "<td>answered</td><td>50.00" in page and "1 of the 3 passes are empty answers" in page

    again = runner.invoke(app, ["report", out["run_id"], "--db", str(tmp_path / "runs.db"), "--json", "--no-html"])
    [stored] = json.loads(again.stdout)
    assert stored["scores"]["answered"] == answered and stored["empty_passes"] == 1


def test_a_samples_file_run_reports_answered_too(tmp_path: Path) -> None:
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps({"task_id": tid, "completion": text}) + "\n"
                               for tid, text in [("T/0", ""), ("T/0", "    return 5\n"), ("T/3", "\n")]))
    out = _eval(tmp_path, "--samples", str(samples), "--k", "1")
    assert out["problems"] == 2 and out["samples"] == 3
    assert out["scores"]["answered"]["mean"] == 0.25
    assert (out["passes"], out["empty_passes"]) == (2, 2)


def test_compare_takes_answered_as_its_metric_only_when_asked(tmp_path: Path) -> None:
    """Run A answers half the problems, run B all of them; ``answered`` is tested only with --metric, and
    shown (outside the Holm family) without it."""
    a = _eval(tmp_path, "--model", "e", "--config", str(_config(tmp_path, REPLIES)), "--run-id", "a")
    b = _eval(tmp_path, "--model", "e", "--config", str(_config(tmp_path, ["    return None\n"])), "--run-id", "b")
    assert (a["scores"]["answered"]["mean"], b["scores"]["answered"]["mean"]) == (0.5, 1.0)
    db = str(tmp_path / "runs.db")
    asked = runner.invoke(app, ["compare", "a", "b", "--db", db, "--metric", "answered", "--json",
                                "--bootstrap", "200", "--permutations", "200"])
    assert asked.exit_code == 0, asked.output
    data = json.loads(asked.stdout)
    assert data["verdict"]["metric"] == "answered"
    assert data["metrics"]["answered"]["diff"] == 0.5
    plain = runner.invoke(app, ["compare", "a", "b", "--db", db, "--json", "--bootstrap", "200",
                                "--permutations", "200"])
    assert plain.exit_code == 0, plain.output
    shown = json.loads(plain.stdout)
    assert shown["verdict"]["metric"] == "pass@1"
    assert shown["metrics"]["answered"]["diff"] == 0.5 and shown["metrics"]["answered"]["adjusted"] is False
    assert shown["metrics"]["answered"]["p_holm"] is None and shown["metrics"]["pass@1"]["adjusted"] is True
