"""The audit log of a running gateway (who, which feature, which model, when, how many tokens), its hash
chain, and the ``assay keys`` / ``assay audit`` commands on the same SQLite store."""

from __future__ import annotations

import json
import time

import httpx
import typer
from sqlalchemy import text
from typer.testing import CliRunner

from assay.cli.audit import audit_command
from assay.cli.keys import keys_app
from assay.store import open_store
from tests.integration.auth.conftest import V2_BODY, bearer, keyed_settings
from tests.support.live_server import live_server

runner = CliRunner()


def _audit_cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(audit_command)
    return app


def _create(db_url: str, user: str, scopes: str) -> dict:
    result = runner.invoke(keys_app, ["create", "--user", user, "--scopes", scopes, "--expires", "90d",
                                      "--db", db_url, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_calls_are_audited_with_user_feature_model_and_tokens(db_url: str) -> None:
    """Each call's record is written after its response went out, so records are compared in a fixed order,
    not in the order of the calls (a streamed call's record could land after the next call's)."""
    ann = _create(db_url, "ann", "complete_code,chat")
    bob = _create(db_url, "bob", "complete_code")
    assert ann["key"].startswith("assay_") and ann["scopes"] == ["chat", "complete_code"]
    with live_server(keyed_settings(db_url)) as srv, httpx.Client(base_url=srv.url, timeout=20) as client:
        assert client.post("/v2/code/completions", json=V2_BODY, headers=bearer(ann["key"])).status_code == 200
        r = client.post("/v1/chat/completions", headers=bearer(ann["key"]),
                        json={"model": "coder", "messages": [{"role": "user", "content": "hi"}]})
        assert r.status_code == 200, r.text
        with client.stream("POST", "/v2/code/completions", json={**V2_BODY, "stream": True},
                           headers=bearer(bob["key"])) as s:
            assert s.status_code == 200 and s.read()
        assert client.post("/v2/code/generations", json=V2_BODY, headers=bearer(bob["key"])).status_code == 403
    store = open_store(db_url)
    records = sorted(store.audit.query(), key=lambda r: (r.user, r.feature))
    assert [(r.user, r.feature, r.status) for r in records] == [
        ("ann", "chat", 200), ("ann", "code_completions", 200), ("bob", "code_completions", 200),
        ("bob", "code_generations", 403)]
    chat, first, streamed, _ = records
    assert (first.model, first.key_id, first.auth) == ("coder", ann["key_id"], "key")
    assert first.prompt_tokens > 0 and first.completion_tokens > 0
    assert chat.model == "coder" and chat.total_tokens > 0
    assert streamed.model == "coder" and streamed.prompt_tokens > 0
    assert abs(first.at - time.time()) < 60
    assert store.audit.verify() is None
    store.close()

    out = runner.invoke(_audit_cli(), ["--user", "ann", "--since", "1d", "--json", "--db", db_url])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert [r["feature"] for r in rows] == ["code_completions", "chat"]
    assert rows[0]["total_tokens"] == rows[0]["prompt_tokens"] + rows[0]["completion_tokens"]
    assert json.loads(runner.invoke(_audit_cli(), ["--user", "nobody", "--json", "--db", db_url]).stdout) == []


def test_tampering_breaks_the_hash_chain(db_url: str) -> None:
    from assay.store import AuditEntry

    store = open_store(db_url)
    for i in range(3):
        store.audit.append(AuditEntry(at=time.time(), user="ann", key_id=None, auth="key", method="POST",
                                      path="/v2/code/completions", feature="code_completions", model="coder",
                                      status=200, prompt_tokens=10 + i, completion_tokens=5))
    assert runner.invoke(_audit_cli(), ["--verify", "--db", db_url]).exit_code == 0
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET prompt_tokens = 1 WHERE seq = 2"))
    assert store.audit.verify() == 2
    result = runner.invoke(_audit_cli(), ["--verify", "--db", db_url])
    assert result.exit_code == 1 and "record 2" in result.output
    store.close()


def test_keys_cli_lists_without_secrets_and_revokes(db_url: str) -> None:
    created = _create(db_url, "ann", "admin")
    listed = json.loads(runner.invoke(keys_app, ["list", "--json", "--db", db_url]).stdout)
    assert [(k["key_id"], k["user"], k["state"]) for k in listed] == [(created["key_id"], "ann", "active")]
    assert created["key"] not in json.dumps(listed)
    assert runner.invoke(keys_app, ["revoke", created["key_id"], "--db", db_url]).exit_code == 0
    listed = json.loads(runner.invoke(keys_app, ["list", "--json", "--db", db_url]).stdout)
    assert listed[0]["state"] == "revoked"
    bad = runner.invoke(keys_app, ["revoke", "nope", "--db", db_url])
    assert bad.exit_code == 2 and "no API key with id 'nope'" in bad.output
    bad = runner.invoke(keys_app, ["create", "--user", "x", "--scopes", "root", "--db", db_url])
    assert bad.exit_code == 2 and "unknown scope(s) root" in bad.output
    bad = runner.invoke(keys_app, ["create", "--user", "x", "--expires", "soon", "--db", db_url])
    assert bad.exit_code == 2 and "not a duration" in bad.output
