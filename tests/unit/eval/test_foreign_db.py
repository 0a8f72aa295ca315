"""A database given with ``--db`` that is not assay's, or does not exist, is a one-line error, and commands
that only read never create or change the file.

QA saw ``assay report X --db foreign.db`` (a ``runs(x)`` table) end in a traceback (``no such column:
runs.id``), ``assay report`` add runs/samples/model_cache tables to a user's file, and a mistyped ``--db``
create an empty database. Run in-process through typer's ``CliRunner`` on real SQLite files.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.cli.main import app
from assay.errors import ConfigError
from assay.eval.store import RunStore


def invoke(*args: str):  # noqa: ANN201
    return CliRunner().invoke(app, list(args))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def foreign(tmp_path: Path) -> Path:
    path = tmp_path / "foreign.db"
    with sqlite3.connect(path) as con:
        con.executescript("CREATE TABLE runs (x INTEGER); INSERT INTO runs VALUES (1);")
    con.close()
    return path


@pytest.fixture
def unrelated(tmp_path: Path) -> Path:
    path = tmp_path / "unrelated.db"
    with sqlite3.connect(path) as con:
        con.executescript("CREATE TABLE things (x INTEGER); INSERT INTO things VALUES (1);")
    con.close()
    return path


def _error_line(done) -> str:  # noqa: ANN001 - click Result
    assert done.exit_code == 2, done.output
    assert "Traceback" not in done.output
    lines = done.output.strip().splitlines()
    assert len(lines) == 1
    return lines[0]


@pytest.mark.parametrize("command", [("report", "X", "--no-html"), ("compare", "A", "B"),
                                     ("eval", "humaneval", "--reference", "--limit", "1")])
def test_a_foreign_runs_table_is_named_and_the_file_is_left_alone(foreign: Path, command: tuple[str, ...]) -> None:
    before = _digest(foreign)
    line = _error_line(invoke(*command, "--db", str(foreign)))
    assert line.startswith("error: ") and "'runs' table without assay's column 'id'" in line
    assert _digest(foreign) == before
    assert sorted(p.name for p in foreign.parent.iterdir()) == ["foreign.db"]


@pytest.mark.parametrize("command", [("report", "X", "--no-html"), ("compare", "A", "B")])
def test_readers_add_nothing_to_a_file_without_assay_tables(unrelated: Path, command: tuple[str, ...]) -> None:
    before = _digest(unrelated)
    line = _error_line(invoke(*command, "--db", str(unrelated)))
    assert line == f"error: {unrelated} holds no assay runs"
    assert _digest(unrelated) == before
    with sqlite3.connect(unrelated) as con:
        assert [r[0] for r in con.execute("SELECT name FROM sqlite_master")] == ["things"]
    con.close()


@pytest.mark.parametrize(("command", "message"), [
    (("report", "X", "--no-html"), "run database {typo} does not exist (pass --db or set $ASSAY_DB)"),
    (("compare", "A", "B"), "no run 'A': there is no run database at {typo} (pass --db or set $ASSAY_DB)")])
def test_readers_do_not_create_a_mistyped_database(tmp_path: Path, command: tuple[str, ...], message: str) -> None:
    typo = tmp_path / "fresh-typo.db"
    line = _error_line(invoke(*command, "--db", str(typo)))
    assert line == "error: " + message.format(typo=typo)
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_sqlite_is_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("not a database " * 100)
    before = _digest(junk)
    line = _error_line(invoke("report", "X", "--no-html", "--db", str(junk)))
    assert "file is not a database" in line and _digest(junk) == before


def test_read_only_store_reads_an_assay_database_written_before(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    writer = RunStore(url)
    writer.start_run("r1", "humaneval", "m", {"n": 1})
    writer.close()
    reader = RunStore(url, read_only=True)
    try:
        assert [r.id for r in reader.runs()] == ["r1"]
    finally:
        reader.close()


def test_read_only_store_refuses_a_missing_file_without_creating_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        RunStore(f"sqlite:///{tmp_path / 'nope.db'}", read_only=True)
    assert not (tmp_path / "nope.db").exists()


def test_report_of_a_real_run_still_works(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"task_id": "HumanEval/0", "completion": "    return False\n"}) + "\n")
    assert invoke("eval", "humaneval", "--samples", str(samples), "--run-id", "r", "--db", str(db)).exit_code == 0
    done = invoke("report", "r", "--no-html", "--json", "--db", str(db))
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)[0]["run_id"] == "r"
