"""``assay prompts list|show|render`` through typer's runner (the command functions, in-process)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from assay.cli.prompts import prompts_app

runner = CliRunner()


def test_list_json_names_every_feature_and_family() -> None:
    r = runner.invoke(prompts_app, ["list", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert {"feature": "generate_commit_message", "family": "small", "versions": ["1.0.0"],
            "name": "Generate commit message (small models)", "unit_primitives": ["generate_commit_message"]} in rows
    assert len({row["feature"] for row in rows}) >= 9
    table = runner.invoke(prompts_app, ["list"])
    assert table.exit_code == 0 and "troubleshoot_job" in table.output


def test_show_resolves_family_aliases_and_prints_the_file() -> None:
    r = runner.invoke(prompts_app, ["show", "explain_code", "--family", "assay-nano", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["id"] == "explain_code/small" and data["version"] == "1.0.0"
    assert data["prompt_template"]["assistant"] is None and "This code" in data["prompt_template"]["user"]
    text = runner.invoke(prompts_app, ["show", "explain_code"])
    assert "unit_primitives: [explain_code]" in text.output


def test_render_with_inline_file_and_json_inputs(tmp_path: Path) -> None:
    diff = tmp_path / "staged.diff"
    diff.write_text("+x = 2\n")
    r = runner.invoke(prompts_app, ["render", "generate_commit_message", "-i", f"diff=@{diff}",
                                    "-i", "context=release prep", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert [m["role"] for m in data["messages"]] == ["system", "user"]
    assert "+x = 2" in data["messages"][1]["content"] and "release prep" in data["messages"][1]["content"]
    assert data["params"]["max_tokens"] == 512
    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps({"log": "E   assert 1 == 2"}))
    r = runner.invoke(prompts_app, ["render", "troubleshoot_job", "--inputs-json", str(inputs), "-f", "small"])
    assert r.exit_code == 0 and "troubleshoot_job/small" in r.output and "assert 1 == 2" in r.output
    assert "[user]" in r.output and "[system]" not in r.output


def test_errors_are_one_line_with_exit_code_2(tmp_path: Path) -> None:
    r = runner.invoke(prompts_app, ["render", "generate_commit_message"])
    assert r.exit_code == 2 and "inputs.diff: required input is missing" in r.output
    r = runner.invoke(prompts_app, ["show", "explain_code", "--version", "^9.0.0"])
    assert r.exit_code == 2 and "no version matching" in r.output
    r = runner.invoke(prompts_app, ["render", "explain_code", "-i", "novalue"])
    assert r.exit_code == 2 and "NAME=VALUE" in r.output
    bad = tmp_path / "x" / "base" / "1.0.0.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("name: x\nunit_primitives: [x]\nprompt_template: {user: hi}\ntemprature: 1\n")
    r = runner.invoke(prompts_app, ["list", "--dir", str(tmp_path)])
    assert r.exit_code == 2 and "temprature" in r.output and "1.0.0.yml" in r.output
