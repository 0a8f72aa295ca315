"""``assay audit --verify`` prints its verdict alone (it used to print the whole log table first)."""

from __future__ import annotations

import json
import time

import typer
from sqlalchemy import text
from typer.testing import CliRunner

from assay.cli.audit import audit_command
from assay.store import AuditEntry, open_store

runner = CliRunner()


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(audit_command)
    return app


def _fill(db_url: str) -> None:
    store = open_store(db_url)
    for i in range(3):
        store.audit.append(AuditEntry(at=time.time(), user="ann", key_id=None, auth="key", method="POST",
                                      path="/v2/code/completions", feature="code_completions", model="coder",
                                      status=200, prompt_tokens=10 + i, completion_tokens=5))
    store.close()


def test_verify_prints_only_the_verdict_in_text_and_json(db_url: str) -> None:
    _fill(db_url)
    intact = runner.invoke(_cli(), ["--verify", "--db", db_url])
    assert intact.exit_code == 0 and intact.output.strip() == "audit log hash chain intact"
    assert "code_completions" not in intact.output, "the log itself is not printed"
    as_json = runner.invoke(_cli(), ["--verify", "--json", "--db", db_url])
    assert as_json.exit_code == 0 and json.loads(as_json.stdout) == {"intact": True, "broken_record": None}

    store = open_store(db_url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET completion_tokens = 50 WHERE seq = 3"))
    store.close()
    tampered = runner.invoke(_cli(), ["--verify", "--json", "--db", db_url])
    assert tampered.exit_code == 1 and json.loads(tampered.stdout) == {"intact": False, "broken_record": 3}
