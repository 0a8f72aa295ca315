"""`assay compare --report STEM` says where the report went; with `--json` the output is only the JSON."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from assay.cli.main import app


def score_file(path: Path, passed: list[int]) -> Path:
    path.write_text("".join(json.dumps({"task_id": f"HumanEval/{i}", "pass@1": p}) + "\n" for i, p in enumerate(passed)))
    return path


def compare(tmp_path: Path, *extra: str):  # noqa: ANN201
    a = score_file(tmp_path / "a.jsonl", [0, 1] * 10)
    b = score_file(tmp_path / "b.jsonl", [1, 1] * 10)
    return CliRunner().invoke(app, ["compare", str(a), str(b), "--report", str(tmp_path / "out" / "decision"),
                                    "--bootstrap", "200", "--permutations", "200", *extra])


def test_compare_report_names_the_files_it_wrote(tmp_path: Path) -> None:
    done = compare(tmp_path)
    assert done.exit_code == 0, done.output
    stem = tmp_path / "out" / "decision"
    assert done.stdout.strip().endswith(f"decision report: {stem}.md, {stem}.html")
    assert Path(f"{stem}.md").is_file() and Path(f"{stem}.html").is_file()


def test_compare_report_with_json_prints_only_json(tmp_path: Path) -> None:
    done = compare(tmp_path, "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["metrics"]["pass@1"]["diff"] == 0.5
