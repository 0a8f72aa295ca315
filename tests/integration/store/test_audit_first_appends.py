"""The first appends to a fresh audit log, made at the same moment, are all recorded.

Each append locks the log's head row; the very first appends race to create it. Before the fix, on
PostgreSQL the losers of that race failed with a unique violation on ``audit_head_pkey`` and their audit
records were lost (the gateway logged "audit record ... was not written")."""

from __future__ import annotations

import threading
import time

from assay.store import AuditEntry, open_store
from tests.support.postgres import PostgresServer

THREADS = 8
ROUNDS = 3


def _entry(i: int) -> AuditEntry:
    return AuditEntry(at=time.time(), user=f"u{i}", key_id=None, auth="key", method="POST",
                      path="/v2/code/completions", feature="code_completions", model="coder", status=200,
                      prompt_tokens=i, completion_tokens=1)


def _append_together(store: object) -> list[BaseException]:
    """THREADS appends released at one moment; the exceptions they raised."""
    gate = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def append(i: int) -> None:
        gate.wait()
        try:
            store.audit.append(_entry(i))  # type: ignore[attr-defined]
        except BaseException as exc:  # noqa: BLE001 - collected and asserted by the caller
            errors.append(exc)

    workers = [threading.Thread(target=append, args=(i,)) for i in range(THREADS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return errors


def test_concurrent_first_appends_to_a_postgresql_log_are_all_kept(postgres: PostgresServer) -> None:
    for _ in range(ROUNDS):
        store = open_store(postgres.create_database())
        try:
            assert _append_together(store) == []
            records = store.audit.query()
            assert sorted(r.user for r in records) == sorted(f"u{i}" for i in range(THREADS))
            assert store.audit.verify() is None
        finally:
            store.close()
