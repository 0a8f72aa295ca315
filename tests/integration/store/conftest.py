"""Fixtures of the store tests: a crowd of processes for the whole module (PostgreSQL comes from
tests/integration/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.store.together import Crowd


@pytest.fixture(scope="module")
def crowd() -> Iterator[Crowd]:
    """Four spawned processes, started once for the module."""
    crowd = Crowd(processes=4)
    try:
        yield crowd
    finally:
        crowd.close()
