"""Fixtures shared by the integration tests: one real PostgreSQL server per session (tests/support/postgres.py),
started only when a test asks for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.postgres import PostgresServer, postgres_server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the session (started on first use, stopped at the end)."""
    with postgres_server() as server:
        yield server
