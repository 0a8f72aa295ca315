"""Opening a database that several processes may be creating at the same moment.

``metadata.create_all`` checks for each table and then creates it; on SQLite (pysqlite opens no
transaction around DDL) each check and each ``CREATE`` commits on its own, so two processes opening a
fresh file together both see "no table" and the second ``CREATE`` fails with "table ... already exists".
On PostgreSQL the check cannot see a table another transaction is creating, so the second fails likewise
("relation ... already exists", "duplicate key value violates unique constraint
pg_type_typname_nsp_index"). :func:`create_tables` runs the checks and the creates in one
transaction that first takes the database's schema lock: ``BEGIN IMMEDIATE`` (SQLite's write lock) or a
transaction-scoped advisory lock (PostgreSQL). The first opener creates, the others wait for it and then
find the tables there.

:func:`use_wal` sets ``busy_timeout`` on each new SQLite connection, then switches it to WAL. Switching a
file to WAL needs its write lock, and while another connection holds that lock (another process switching
the same fresh file does) SQLite answers SQLITE_BUSY at once, without calling the busy handler: the switch
is retried until the busy timeout has passed, as the busy handler would have waited.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

from sqlalchemy import Connection, Engine, MetaData, event, inspect, text

SCHEMA_LOCK_KEY = 0x61737361795F7363
"""PostgreSQL advisory-lock key held while assay creates or upgrades tables ("assay_sc" as a bigint)."""
SQLITE_BUSY = 5
WAL_RETRY_S = 0.01


def use_wal(engine: Engine, *, busy_timeout_ms: int = 5000, pragmas: Sequence[str] = ()) -> None:
    """On every new connection of a SQLite ``engine``: ``busy_timeout``, then ``journal_mode=WAL`` (retried
    while busy, up to the busy timeout), then each of ``pragmas`` (``"synchronous=NORMAL"``, ...). Other
    dialects are left alone."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 - DB-API connection
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        _switch_to_wal(cursor, time.monotonic() + busy_timeout_ms / 1000)
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()


def _switch_to_wal(cursor: sqlite3.Cursor, deadline: float) -> None:
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != SQLITE_BUSY or time.monotonic() >= deadline:
                raise
            time.sleep(WAL_RETRY_S)


def create_tables(engine: Engine, metadata: MetaData, *, add_missing: bool = False) -> None:
    """Create ``metadata``'s missing tables and indexes, then with ``add_missing`` the columns and indexes an
    older database's tables lack (:func:`add_missing_columns`), all in one transaction under the schema lock,
    so concurrent first opens of one database serialise. SQLite and PostgreSQL take a lock; other dialects run
    unlocked. Raises SQLAlchemy's errors (the caller names the database)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
        metadata.create_all(conn, checkfirst=True)
        if add_missing:
            add_missing_columns(conn, metadata)
        conn.commit()


def add_missing_columns(conn: Connection, metadata: MetaData) -> None:
    """``ALTER TABLE ... ADD COLUMN`` for every nullable column of
    ``metadata`` an older database's table lacks (old rows get NULL), then ``CREATE INDEX`` for every
    index it lacks."""
    inspector = inspect(conn)
    quote = conn.dialect.identifier_preparer.quote
    for table in metadata.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present and column.nullable:
                kind = column.type.compile(dialect=conn.dialect)
                conn.execute(text(f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(column.name)} {kind}"))
        for index in table.indexes:
            index.create(conn, checkfirst=True)
