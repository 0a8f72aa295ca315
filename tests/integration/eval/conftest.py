from __future__ import annotations

import pytest


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'runs.db'}"
