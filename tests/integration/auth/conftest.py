from __future__ import annotations

from pathlib import Path

import pytest

MODELS = [{"name": "coder", "provider": "echo", "spec": "assay-nano", "options": {"reply": "return 1"}}]
V2_BODY = {"current_file": {"file_name": "a.py", "content_above_cursor": "def f():\n    ", "content_below_cursor": ""}}
V3_BODY = {"prompt_components": [{"type": "code_editor_completion", "payload": {
    "file_name": "a.py", "content_above_cursor": "def f():\n    ", "content_below_cursor": ""}}]}


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'assay.db'}"


def keyed_settings(db_url: str, **extra: object) -> dict[str, object]:
    """Settings for a gateway that requires credentials, with its store at ``db_url``."""
    return {"models": MODELS, "auth": {"mode": "keys"}, "database": {"url": db_url}, **extra}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
