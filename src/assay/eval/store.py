"""Evaluation runs in a database (SQLAlchemy; SQLite at ``./assay-runs.db`` or ``$ASSAY_DB`` by default).

Tables: ``runs`` (one per ``assay eval`` invocation, keyed by run id), ``samples`` (one row per
problem × sample index: prompt, raw and post-processed output, outcome, metrics, timings, trace) and
``model_cache`` (model responses keyed by a hash of model, prompt and decoding parameters). A sample
row is written once it is fully scored, so an interrupted run resumes by skipping the rows present.

Columns added after a database was created (``runs.price``, ``samples.cost``: both nullable) are
added on open when missing, so run databases written by older versions still open and keep their rows.
Tables and columns are created under the database's schema lock (:func:`assay.store.schema.create_tables`),
so processes opening a fresh database at once do not collide.

A database is checked before anything is written to it: a table named like one of assay's (``runs``, ...)
that lacks one of its required columns is another program's, and opening it is a one-line ``ConfigError``
naming the table and column (rather than ``no such column: runs.id`` later, after assay's other tables were
added to the user's file). ``RunStore(url, read_only=True)`` (``assay report``, ``compare``) never creates or
changes a file: a missing SQLite file is "X does not exist", one without assay's tables "X holds no assay
runs"; it only adds the nullable columns an older assay database lacks, as every open does.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Engine,
    Float,
    Integer,
    String,
    Text,
    create_engine,
    inspect,
    select,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from assay.errors import ConfigError, RequestInvalid
from assay.store.schema import create_tables, use_wal
from assay.store.urls import as_url, sqlite_file

DEFAULT_DB = "sqlite:///assay-runs.db"


def default_db_url() -> str:
    """``$ASSAY_DB`` or ``sqlite:///assay-runs.db``; a bare file path is taken as a SQLite file."""
    return as_url(os.environ.get("ASSAY_DB") or DEFAULT_DB)


class Base(DeclarativeBase):
    pass


class RunRow(Base):
    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    task: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(500))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    price: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """The ``ModelCost`` (as a dict) the samples' costs were computed with; None: cost unknown."""


class SampleRow(Base):
    __tablename__ = "samples"
    run_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(500), primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster: Mapped[str] = mapped_column(String(500))
    language: Mapped[str] = mapped_column(String(50))
    prompt: Mapped[str] = mapped_column(Text)
    suffix: Mapped[str] = mapped_column(Text, default="")
    raw_output: Mapped[str] = mapped_column(Text)
    output: Mapped[str] = mapped_column(Text)
    passed: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(String(50))
    metrics: Mapped[dict[str, float]] = mapped_column(JSON)
    detail: Mapped[str] = mapped_column(Text, default="")
    ttft_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    exec_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    completion_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    trace: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    cost: Mapped[float | None] = mapped_column(Float, nullable=True)
    """The request's cost at the run's price; None when the price or the token counts are unknown."""


class CacheRow(Base):
    __tablename__ = "model_cache"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(500))
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)


@dataclass(frozen=True)
class RunInfo:
    id: str
    task: str
    model: str
    config: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None
    price: dict[str, Any] | None = None


def cache_key(model: str, prompt: str, suffix: str, params: dict[str, Any]) -> str:
    """sha256 over (model, prompt, suffix, parameters) in canonical JSON."""
    blob = json.dumps({"model": model, "prompt": prompt, "suffix": suffix, "params": params},
                      sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


READ_TABLES = frozenset({"runs", "samples"})
"""The tables a reader needs (``model_cache`` is only written and read by ``assay eval``)."""


def _read_only_engine(path: Path) -> Engine:
    """An engine on SQLite ``path`` opened with ``mode=ro``: no statement through it can create or change it."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"

    def connect() -> sqlite3.Connection:
        con = sqlite3.connect(uri, uri=True, check_same_thread=False)
        con.execute("PRAGMA busy_timeout=10000")
        return con

    return create_engine("sqlite://", creator=connect)


def schema_problem(engine: Engine, *, need_tables: bool) -> str | None:
    """Why ``engine``'s database cannot hold assay runs, or None when it can.

    A table named like one of assay's must have each of its required (non-nullable) columns; nullable ones
    an older assay version did not write are added on open. With ``need_tables`` every assay table must be
    there (a reader has nothing to read otherwise).
    """
    inspector = inspect(engine)
    present = set(inspector.get_table_names())
    ours = [t for t in Base.metadata.sorted_tables if t.name in present]
    for table in ours:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        missing = [c.name for c in table.columns if c.name not in columns and not c.nullable]
        if missing:
            return (f"has a '{table.name}' table without assay's column '{missing[0]}' (it has "
                    f"{', '.join(sorted(columns)) or 'no columns'}): it is another program's database")
    if need_tables:
        if not ours:
            return "holds no assay runs"
        absent = sorted(READ_TABLES - present)
        if absent:
            return f"has no '{absent[0]}' table, so it is not an assay run database"
    return None


class RunStore:
    """Thread-safe access to the run database. Every method opens its own short session.

    ``read_only`` is for commands that only read (report, compare): the database must exist and hold
    assay's tables, and nothing is created.
    """

    def __init__(self, url: str | None = None, *, read_only: bool = False) -> None:
        self.url = as_url(url) if url else default_db_url()
        self.read_only = read_only
        try:
            path = sqlite_file(self.url)
            if read_only and path is not None and not path.is_file():
                raise ConfigError(f"run database {path} does not exist (pass --db or set $ASSAY_DB)")
            self._check(path)
            if read_only and path is not None:
                self.engine = _read_only_engine(path)
            else:
                self.engine = create_engine(self.url, connect_args={"check_same_thread": False}
                                            if self.url.startswith("sqlite") else {})
                use_wal(self.engine, busy_timeout_ms=10000, pragmas=["synchronous=NORMAL"])
                create_tables(self.engine, Base.metadata, add_missing=True)
        except (SQLAlchemyError, sqlite3.Error, ModuleNotFoundError) as exc:
            raise ConfigError(f"cannot open run database {self.url}: {exc.__class__.__name__}: "
                              f"{(str(exc).splitlines() or [''])[0]}") from None
        self._lock = threading.Lock()

    def _check(self, path: Path | None) -> None:
        """Refuse another program's database before anything is written to it (see the module docstring);
        an older assay database lacking nullable columns is upgraded even when opened read-only."""
        if path is not None and not path.is_file():
            return
        probe = _read_only_engine(path) if path is not None else create_engine(self.url)
        try:
            problem = schema_problem(probe, need_tables=self.read_only)
            stale = problem is None and self.read_only and _lacks_columns(probe)
        finally:
            probe.dispose()
        if problem is not None:
            raise ConfigError(f"{path if path is not None else self.url} {problem}")
        if stale:
            upgrade = create_engine(self.url)
            try:
                create_tables(upgrade, Base.metadata, add_missing=True)
            finally:
                upgrade.dispose()

    def close(self) -> None:
        self.engine.dispose()

    def start_run(self, run_id: str, task: str, model: str, config: dict[str, Any],
                  price: dict[str, Any] | None = None) -> RunInfo:
        """Create run ``run_id``, or return it when it exists with the same config (resume).

        ``price`` (a ``ModelCost`` dict, not part of the config) is recorded, and replaced on resume:
        samples stored before keep the cost they were stored with.
        Raises ``RequestInvalid`` when the id exists with different settings, which would mix results.
        """
        with self._lock, Session(self.engine) as s:
            row = s.get(RunRow, run_id)
            if row is None:
                row = RunRow(id=run_id, task=task, model=model, config=config, created_at=datetime.now(UTC),
                             price=price)
                s.add(row)
                s.commit()
            elif row.config != config:
                changed = sorted(k for k in set(row.config) | set(config) if row.config.get(k) != config.get(k))
                raise RequestInvalid(f"run '{run_id}' already exists with different settings "
                                     f"({', '.join(changed)}); choose another --run-id")
            elif row.price != price:
                row.price = price
                s.commit()
            return _info(row)

    def finish_run(self, run_id: str) -> None:
        with self._lock, Session(self.engine) as s:
            row = s.get(RunRow, run_id)
            if row is not None:
                row.finished_at = datetime.now(UTC)
                s.commit()

    def run(self, run_id: str) -> RunInfo:
        with Session(self.engine) as s:
            row = s.get(RunRow, run_id)
            if row is None:
                known = [r.id for r in s.scalars(select(RunRow).order_by(RunRow.created_at.desc()).limit(10))]
                raise RequestInvalid(f"no run '{run_id}' in {self.url}; recent runs: {', '.join(known) or 'none'}")
            return _info(row)

    def runs(self) -> list[RunInfo]:
        with Session(self.engine) as s:
            return [_info(r) for r in s.scalars(select(RunRow).order_by(RunRow.created_at))]

    def done(self, run_id: str) -> set[tuple[str, int]]:
        """(task_id, index) of the samples already scored in ``run_id``."""
        with Session(self.engine) as s:
            rows = s.execute(select(SampleRow.task_id, SampleRow.index).where(SampleRow.run_id == run_id))
            return {(t, i) for t, i in rows}

    def add_samples(self, rows: list[SampleRow]) -> None:
        """Store scored samples in one transaction (rows already present are replaced)."""
        if not rows:
            return
        with self._lock, Session(self.engine) as s:
            for row in rows:
                s.merge(row)
            s.commit()

    def samples(self, run_id: str) -> list[SampleRow]:
        with Session(self.engine, expire_on_commit=False) as s:
            rows = list(s.scalars(select(SampleRow).where(SampleRow.run_id == run_id)
                                  .order_by(SampleRow.task_id, SampleRow.index)))
            s.expunge_all()
            return rows

    def cached(self, key: str) -> dict[str, Any] | None:
        with Session(self.engine) as s:
            row = s.get(CacheRow, key)
            return dict(row.response) if row is not None else None

    def cache(self, key: str, model: str, response: dict[str, Any]) -> None:
        with self._lock, Session(self.engine) as s:
            s.merge(CacheRow(key=key, model=model, response=response, created_at=datetime.now(UTC)))
            s.commit()


def _lacks_columns(engine: Engine) -> bool:
    """True when one of assay's tables lacks a (nullable) column this version maps."""
    inspector = inspect(engine)
    present = set(inspector.get_table_names())
    return any({c.name for c in table.columns} - {c["name"] for c in inspector.get_columns(table.name)}
               for table in Base.metadata.sorted_tables if table.name in present)


def _info(row: RunRow) -> RunInfo:
    return RunInfo(id=row.id, task=row.task, model=row.model, config=dict(row.config),
                   created_at=row.created_at, finished_at=row.finished_at,
                   price=dict(row.price) if row.price is not None else None)
