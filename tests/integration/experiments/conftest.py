"""Fixtures of the experiment tests: each store test runs on a fresh SQLite file and on a fresh database of
the session's real PostgreSQL server (``postgres``, tests/integration/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:  # noqa: ANN001
    """A fresh, empty database: a SQLite file, or a new database on the real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'events.db'}"
    return request.getfixturevalue("postgres").create_database()
