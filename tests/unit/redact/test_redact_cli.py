"""``assay redact FILE`` through typer's CliRunner on the command function."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from assay.cli.redact import redact_command

KEY = "AKIA" + "Q2W3E4R5T6Y7U8I9"
TEXT = f"import boto3\nclient = boto3.client('s3', aws_access_key_id='{KEY}')\nDB_PASSWORD=hunter22\n"


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("redact")(redact_command)
    return app


def test_prints_the_redacted_text(tmp_path: Path) -> None:
    file = tmp_path / "settings.py"
    file.write_text(TEXT)
    result = CliRunner().invoke(_app(), [str(file)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ("import boto3\nclient = boto3.client('s3', aws_access_key_id='<ASSAY_SECRET_1>')\n"
                             "DB_PASSWORD=<ASSAY_SECRET_2>\n")


def test_json_prints_findings_without_the_secrets(tmp_path: Path) -> None:
    file = tmp_path / "settings.py"
    file.write_text(TEXT)
    result = CliRunner().invoke(_app(), [str(file), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"kind": "aws_access_key_id", "line": 2, "column": 48, "placeholder": "<ASSAY_SECRET_1>"},
        {"kind": "password", "line": 3, "column": 13, "placeholder": "<ASSAY_SECRET_2>"},
    ]
    assert KEY not in result.stdout and "hunter22" not in result.stdout


def test_reads_standard_input() -> None:
    result = CliRunner().invoke(_app(), ["-", "--json"], input=f"token: {KEY}\n")
    assert result.exit_code == 0
    assert [f["kind"] for f in json.loads(result.stdout)] == ["aws_access_key_id"]


def test_a_clean_file_prints_unchanged_and_no_findings(tmp_path: Path) -> None:
    file = tmp_path / "ok.py"
    file.write_text("print('hello')\n")
    assert CliRunner().invoke(_app(), [str(file)]).stdout == "print('hello')\n"
    assert json.loads(CliRunner().invoke(_app(), [str(file), "--json"]).stdout) == []


def test_unreadable_files_fail_with_one_line(tmp_path: Path) -> None:
    missing = CliRunner().invoke(_app(), [str(tmp_path / "nope.py")])
    assert missing.exit_code == 2
    assert missing.stderr.strip() == f"error: {tmp_path / 'nope.py'} does not exist"
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    result = CliRunner().invoke(_app(), [str(binary)])
    assert result.exit_code == 2 and "is not UTF-8 text" in result.stderr
    assert CliRunner().invoke(_app(), [str(tmp_path)]).exit_code == 2
