"""Fixtures of the store tests: a crowd of processes for the whole module, and the real PostgreSQL server
of the experiment tests (started here too when these tests run on their own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.experiments.conftest import PostgresServer, postgres_server
from tests.integration.store.together import Crowd


@pytest.fixture(scope="module")
def crowd() -> Iterator[Crowd]:
    """Four spawned processes, started once for the module."""
    crowd = Crowd(processes=4)
    try:
        yield crowd
    finally:
        crowd.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server
