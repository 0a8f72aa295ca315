"""Several processes opening one fresh database at the same moment all succeed and leave it complete.

Before the fix, ``create_all`` checked for each table and created it in separate SQLite transactions, so
in these rounds most opens failed with "table ... already exists" (PostgreSQL: "relation ... already
exists" or a unique violation on ``pg_type_typname_nsp_index``), and ``journal_mode=WAL`` failed with
"database is locked" while another process was switching the same file.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from assay.eval.store import Base as RunBase
from assay.experiments.store import _Base as EventBase
from assay.store.db import Base as KeyBase
from assay.store.schema import use_wal
from tests.integration.store import together
from tests.integration.store.together import Crowd, Opener
from tests.support.postgres import PostgresServer

ROUNDS = 8
PG_ROUNDS = 4
KEY_TABLES = set(KeyBase.metadata.tables)
EVENT_TABLES = KEY_TABLES | set(EventBase.metadata.tables)
RUN_TABLES = set(RunBase.metadata.tables)


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _journal_mode(url: str) -> str:
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as conn:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]


@pytest.mark.parametrize(("opener", "tables"), [(together.key_store, KEY_TABLES),
                                                (together.event_store, EVENT_TABLES),
                                                (together.run_store, RUN_TABLES)], ids=["keys", "events", "runs"])
def test_concurrent_first_opens_of_a_sqlite_file_all_succeed(crowd: Crowd, tmp_path: Path, opener: Opener,
                                                             tables: set[str]) -> None:
    urls = [f"sqlite:///{tmp_path / f'round-{i}.db'}" for i in range(ROUNDS)]
    assert crowd.open_together(opener, urls) == []
    assert all(_tables(url) == tables and _journal_mode(url) == "wal" for url in urls)


@pytest.mark.parametrize(("opener", "tables"), [(together.event_store, EVENT_TABLES),
                                                (together.run_store, RUN_TABLES)], ids=["events", "runs"])
def test_concurrent_first_opens_of_a_postgresql_database_all_succeed(crowd: Crowd, postgres: PostgresServer,
                                                                     opener: Opener, tables: set[str]) -> None:
    urls = [postgres.create_database() for _ in range(PG_ROUNDS)]
    assert crowd.open_together(opener, urls) == []
    assert all(_tables(url) == tables for url in urls)


def test_switching_to_wal_waits_for_another_process_holding_the_fresh_file(tmp_path: Path) -> None:
    """While another connection holds the write lock of a fresh file (as a process switching that file to
    WAL does), SQLite answers ``journal_mode=WAL`` with SQLITE_BUSY at once, ignoring the busy timeout;
    ``use_wal`` waits for the lock like the busy handler would."""
    path = tmp_path / "fresh.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")

    plain = sqlite3.connect(path, isolation_level=None, timeout=5)
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        plain.execute("PRAGMA journal_mode=WAL")
    assert time.monotonic() - started < 1, "SQLite waited: the premise of this test no longer holds"
    plain.close()

    engine = create_engine(f"sqlite:///{path}")
    use_wal(engine)
    release = threading.Timer(0.3, holder.execute, args=["COMMIT"])
    release.start()
    try:
        started = time.monotonic()
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert time.monotonic() - started > 0.1
    finally:
        release.join()
        holder.close()
        engine.dispose()
