"""Database tables and the :class:`Store` handle. The schema is created on open (no migrations yet), safely
when several processes open a fresh database at once (:func:`assay.store.schema.create_tables`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import JSON, Float, Integer, String, Text

from assay.errors import ConfigError
from assay.store.schema import create_tables, use_wal

if TYPE_CHECKING:
    from assay.store.audit import AuditLog
    from assay.store.keys import KeyStore

DEFAULT_DB_PATH = Path("~/.assay/assay.db")


class Base(DeclarativeBase):
    pass


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user: Mapped[str] = mapped_column(String(200), index=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    salt: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    requests_per_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tokens_per_day: Mapped[int | None] = mapped_column(Integer, nullable=True)


class AuditRow(Base):
    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    user: Mapped[str] = mapped_column(String(200), index=True)
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    auth: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(Text)
    feature: Mapped[str] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[int] = mapped_column(Integer)
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """One row whose update serialises appends, so concurrent writers cannot fork the hash chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appends: Mapped[int] = mapped_column(Integer, default=0)


def default_url() -> str:
    """``sqlite:///`` of ``$ASSAY_HOME/assay.db``, else ``~/.assay/assay.db``."""
    home = os.environ.get("ASSAY_HOME")
    path = Path(home) / "assay.db" if home else DEFAULT_DB_PATH.expanduser()
    return f"sqlite:///{path}"


def _engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url.removeprefix("sqlite:///")).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the database directory {path.parent}: {exc.strerror}") from None
        url = f"sqlite:///{path}"
    engine = create_engine(url, future=True)
    use_wal(engine)
    return engine


@dataclass
class Store:
    """One database holding keys and the audit log."""

    engine: Engine

    @cached_property
    def keys(self) -> KeyStore:
        from assay.store.keys import KeyStore

        return KeyStore(self.engine)

    @cached_property
    def audit(self) -> AuditLog:
        from assay.store.audit import AuditLog

        return AuditLog(self.engine)

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str | None = None) -> Store:
    """Open (creating tables if needed) the store at ``url`` (default: :func:`default_url`)."""
    engine = _engine(url or default_url())
    try:
        create_tables(engine, Base.metadata)
    except Exception as exc:  # noqa: BLE001
        raise ConfigError(f"cannot open the database {url or default_url()}: {type(exc).__name__}: {exc}") from None
    return Store(engine)
