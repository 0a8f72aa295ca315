from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def _assay_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("assay-home")


@pytest.fixture(autouse=True)
def _clean_assay_env(monkeypatch: pytest.MonkeyPatch, _assay_home: Path) -> None:
    """Tests never see the developer's ASSAY_* settings, and never write the developer's ~/.assay
    (``ASSAY_HOME`` points at a session temp folder: the default key and audit store lives there)."""
    for key in list(os.environ):
        if key.startswith("ASSAY_") or key.startswith("AIGW_"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("ASSAY_HOME", str(_assay_home))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Llama + BPE tokenizer with assay-nano's special tokens, built once per session."""
    from tests.support.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))
