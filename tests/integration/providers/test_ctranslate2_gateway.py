"""A real gateway (uvicorn on a real socket) serving ``provider: ctranslate2`` models: GitLab code completions and
GitLab Duo's health check (see tests/integration/server/test_duo_health.py), for the talkative tiny model and,
when its weights are present, ``builtin:assay-nano``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.server.test_duo_health import NANO_CONFIG, health_check, talkative_model
from tests.support.live_server import LiveServer, live_server

MODELS = ["tiny", "nano"] if NANO_CONFIG.is_file() else ["tiny"]


@pytest.fixture(scope="module")
def server(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    path = talkative_model(tiny_model_dir, tmp_path_factory.mktemp("ct2-gw") / "tiny")
    options = {"cache_dir": str(tmp_path_factory.mktemp("ct2-gw-cache"))}
    models = [{"name": "tiny", "provider": "ctranslate2", "path": str(path), "spec": "assay-nano", "device": "cpu",
               "options": options}]
    if NANO_CONFIG.is_file():
        models.append({"name": "nano", "provider": "ctranslate2", "path": "builtin:assay-nano", "device": "cpu",
                       "options": options})
    with live_server({"models": models}) as srv:
        yield srv


@pytest.mark.parametrize("model", MODELS)
def test_duo_health_check(server: LiveServer, model: str) -> None:
    health_check(server, model)


def test_gitlab_code_completion_is_answered_by_ctranslate2(server: LiveServer) -> None:
    body = {"current_file": {"file_name": "app.py", "content_above_cursor": "def add(a, b):\n    return ",
                             "content_below_cursor": "\n"}, "model_name": MODELS[-1], "stream": False}
    r = httpx.post(f"{server.url}/v2/code/completions", json=body, timeout=10)
    assert r.status_code == 200, r.text
    payload = r.json()
    assert payload["model"]["engine"] == "ctranslate2"
    assert payload["choices"][0]["text"].strip()
