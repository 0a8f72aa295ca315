"""Database locations as users give them: a SQLAlchemy URL, or a plain file path meaning a SQLite file."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


def as_url(url: str) -> str:
    """``url`` as a SQLAlchemy URL: a plain file path (no ``://``) is a SQLite file."""
    return url if "://" in url else f"sqlite:///{url}"


def sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL (``~`` expanded); None for other databases, in-memory SQLite and URLs
    SQLAlchemy cannot parse (opening them says why)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser()
