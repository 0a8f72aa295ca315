"""The key store and the audit log on SQLite files: hashes not secrets, constant checks on every call,
and a hash chain that detects edits and deletions."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import text

from assay.errors import AuthError, RequestInvalid
from assay.store import AuditEntry, open_store


@pytest.fixture
def store(tmp_path: Path):  # noqa: ANN201
    s = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    yield s
    s.close()


def test_keys_verify_expire_and_revoke(store) -> None:  # noqa: ANN001
    created = store.keys.create("ann", ["chat", "complete_code", "chat"], 3600, requests_per_minute=7)
    assert created.secret.startswith("assay_") and created.record.scopes == ("chat", "complete_code")
    record = store.keys.verify(created.secret)
    assert (record.user, record.requests_per_minute, record.state()) == ("ann", 7, "active")
    assert store.keys.verify(created.secret) == record
    with pytest.raises(AuthError, match="unknown API key"):
        store.keys.verify(created.secret[:-1] + ("x" if created.secret[-1] != "x" else "y"))
    with pytest.raises(AuthError, match="malformed"):
        store.keys.verify("assay_nounderscore")
    assert record.state(now=time.time() + 7200) == "expired"
    store.keys.revoke(record.key_id)
    with pytest.raises(AuthError, match="revoked"):
        store.keys.verify(created.secret)
    with pytest.raises(RequestInvalid):
        store.keys.revoke("missing")
    with pytest.raises(RequestInvalid):
        store.keys.create("ann", [])


def test_a_second_store_on_the_same_file_sees_revocation(store, tmp_path: Path) -> None:  # noqa: ANN001
    created = store.keys.create("ann", ["chat"])
    other = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    assert other.keys.verify(created.secret).key_id == created.record.key_id
    store.keys.revoke(created.record.key_id)
    with pytest.raises(AuthError, match="revoked"):
        other.keys.verify(created.secret)
    other.close()


def _entry(i: int) -> AuditEntry:
    return AuditEntry(at=1000.0 + i, user="ann" if i % 2 else "bob", key_id="k", auth="key", method="POST",
                      path="/v2/code/completions", feature="code_completions", model="m", status=200,
                      prompt_tokens=i, completion_tokens=1)


def test_audit_chain_detects_edits_and_deletions(store) -> None:  # noqa: ANN001
    records = [store.audit.append(_entry(i)) for i in range(5)]
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]
    assert store.audit.verify() is None
    assert [r.prompt_tokens for r in store.audit.query(user="ann")] == [1, 3]
    assert [r.prompt_tokens for r in store.audit.query(since=1003.0)] == [3, 4]
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    assert store.audit.verify() == 4


def test_audit_log_has_no_update_or_delete_api(store) -> None:  # noqa: ANN001
    public = {name for name in dir(store.audit) if not name.startswith("_")}
    assert public == {"append", "query", "verify", "engine"}
