"""The prompt registry at server start (an invalid file stops ``create_app`` naming file and field) and the
per-prompt unit-primitive check behind real API keys (real uvicorn, real sockets, SQLite key store)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assay.config import Settings
from assay.errors import ConfigError
from assay.prompts import registry as prompt_registry
from assay.store import open_store
from tests.support.live_server import live_server

MODELS = [{"name": "chat", "provider": "echo", "spec": "generic", "options": {"reply": "It adds one."}}]


def test_an_invalid_prompt_file_stops_the_server_from_being_built(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from assay.server.app import create_app

    bad = tmp_path / "explain_code" / "base" / "1.0.0.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("name: x\nunit_primitives: [explain_code]\nprompt_template: {user: '{{ code }}'}\n"
                   "inputs: {code: {type: text}}\n")
    monkeypatch.setattr(prompt_registry, "DEFINITIONS", tmp_path)
    prompt_registry.default_registry.cache_clear()
    try:
        with pytest.raises(ConfigError) as info:
            create_app(Settings(models=MODELS))
        assert str(bad) in info.value.message and "inputs.code.type" in info.value.message
    finally:
        prompt_registry.default_registry.cache_clear()


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[tuple[httpx.Client, str]]:
    db_url = f"sqlite:///{tmp_path / 'assay.db'}"
    with live_server({"models": MODELS, "auth": {"mode": "keys"}, "database": {"url": db_url}}) as srv, \
            httpx.Client(base_url=srv.url, timeout=20) as client:
        yield client, db_url


def key(db_url: str, *scopes: str) -> dict[str, str]:
    store = open_store(db_url)
    try:
        return {"Authorization": f"Bearer {store.keys.create('ann', list(scopes)).secret}"}
    finally:
        store.close()


def test_prompts_need_one_of_their_unit_primitives_or_the_chat_scope(keyed: tuple[httpx.Client, str]) -> None:
    http, db_url = keyed
    body = {"inputs": {"code": "x + 1"}}
    assert http.post("/v1/prompts/explain_code", json=body).status_code == 401
    r = http.post("/v1/prompts/explain_code", json=body, headers=key(db_url, "generate_code"))
    assert r.status_code == 403
    assert "prompt 'explain_code' needs the unit primitive chat or explain_code" in r.json()["detail"]
    r = http.post("/v1/prompts/explain_code", json=body, headers=key(db_url, "generate_code", "explain_code"))
    assert r.status_code == 200 and r.json() == "It adds one."
    assert http.post("/v1/prompts/explain_code", json=body, headers=key(db_url, "chat")).status_code == 200


def test_chat_invokables_check_the_feature_unit_primitive_for_passthrough_messages(
        keyed: tuple[httpx.Client, str]) -> None:
    http, db_url = keyed
    body = {"prompt_components": [{"type": "prompt", "metadata": {"source": "x", "version": "1"},
                                   "payload": {"content": [{"role": "user", "content": "explain x + 1"}]}}]}
    r = http.post("/v1/chat/explain_code", json=body, headers=key(db_url, "troubleshoot_job"))
    assert r.status_code == 403 and "explain_code" in r.json()["detail"]
    r = http.post("/v1/chat/troubleshoot_job", json=body, headers=key(db_url, "troubleshoot_job"))
    assert r.status_code == 200 and r.json()["response"] == "It adds one."
