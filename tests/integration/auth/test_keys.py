"""API keys on a running gateway (real uvicorn, real sockets, SQLite store): 401 without a credential,
403 with the wrong scope, revoked and expired keys refused, and a walk over the app's route table."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from assay.config import Settings
from assay.server.app import create_app
from assay.server.auth.routing import all_routes
from assay.store import open_store
from assay.store.db import ApiKeyRow
from tests.integration.auth.conftest import V2_BODY, V3_BODY, bearer, keyed_settings
from tests.support.live_server import live_server


@pytest.fixture
def gateway(db_url: str) -> Iterator[httpx.Client]:
    with live_server(keyed_settings(db_url, server={"admin_token": "adm1n"})) as srv, \
            httpx.Client(base_url=srv.url, timeout=20) as client:
        yield client


def _key(db_url: str, *scopes: str, **kw: object) -> str:
    store = open_store(db_url)
    try:
        return store.keys.create("ann", list(scopes), **kw).secret  # type: ignore[arg-type]
    finally:
        store.close()


def test_no_credential_is_401_with_gitlab_and_openai_shapes(gateway: httpx.Client) -> None:
    r = gateway.post("/v2/code/completions", json=V2_BODY)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json() == {"error": r.json()["error"]} and "missing credential" in r.json()["error"]
    r = gateway.post("/v1/completions", json={"prompt": "def f"})
    assert r.status_code == 401
    assert r.json()["error"]["type"] == "authentication_error"


def test_right_scope_passes_wrong_scope_is_403(gateway: httpx.Client, db_url: str) -> None:
    key = _key(db_url, "complete_code")
    r = gateway.post("/v2/code/completions", json=V2_BODY, headers=bearer(key))
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["text"]
    r = gateway.post("/v2/code/generations", json=V2_BODY, headers=bearer(key))
    assert r.status_code == 403
    assert "generate_code" in r.json()["detail"]
    r = gateway.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]}, headers=bearer(key))
    assert r.status_code == 403 and r.json()["error"]["type"] == "permission_error"
    assert gateway.post("/v3/code/completions", json=V3_BODY, headers=bearer(key)).status_code == 200
    assert gateway.get("/v1/traces/nope", headers=bearer(key)).status_code == 403


def test_models_listing_takes_any_valid_key_and_traces_take_the_admin_token(gateway: httpx.Client, db_url: str) -> None:
    key = _key(db_url, "chat")
    r = gateway.get("/v1/models", headers=bearer(key))
    assert r.status_code == 200 and r.json()["data"][0]["id"] == "coder"
    assert gateway.get("/v1/models").status_code == 401
    assert gateway.get("/v1/traces/unknown", headers=bearer("adm1n")).status_code == 404


def test_wrong_secret_revoked_and_expired_keys_are_401(gateway: httpx.Client, db_url: str) -> None:
    key = _key(db_url, "complete_code")
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert gateway.post("/v2/code/completions", json=V2_BODY, headers=bearer(forged)).json() == {"error": "unknown API key"}
    store = open_store(db_url)
    key_id = key.split("_")[1]
    store.keys.revoke(key_id)
    r = gateway.post("/v2/code/completions", json=V2_BODY, headers=bearer(key))
    assert r.status_code == 401 and r.json() == {"error": f"API key {key_id} is revoked"}
    short = _key(db_url, "complete_code", expires_in_s=3600)
    assert gateway.post("/v2/code/completions", json=V2_BODY, headers=bearer(short)).status_code == 200
    with Session(store.engine) as session, session.begin():
        session.execute(update(ApiKeyRow).where(ApiKeyRow.key_id == short.split("_")[1])
                        .values(expires_at=time.time() - 1))
    store.close()
    r = gateway.post("/v2/code/completions", json=V2_BODY, headers=bearer(short))
    assert r.status_code == 401 and "expired" in r.json()["error"]


def test_the_store_keeps_only_a_salted_hash(db_url: str) -> None:
    key = _key(db_url, "complete_code")
    store = open_store(db_url)
    with Session(store.engine) as session:
        row = session.get(ApiKeyRow, key.split("_")[1])
        assert row is not None
        assert key.split("_", 2)[2] not in (row.hash, row.salt) and len(row.salt) == 32 and len(row.hash) == 64
    store.close()


def test_every_route_but_the_health_checks_refuses_anonymous_callers(db_url: str) -> None:
    """Walks the route table of the app ``create_app`` builds, so a route added later is checked too."""
    settings = Settings(**keyed_settings(db_url))
    routes = [(m, r.path) for r in all_routes(create_app(settings)) for m in sorted(r.methods) if m != "HEAD"]
    assert len(routes) >= 15
    with live_server(settings) as srv, httpx.Client(base_url=srv.url, timeout=20) as client:
        for method, path in routes:
            url = re.sub(r"\{[^}]+\}", "x", path)
            r = client.request(method, url, json={})
            if path.startswith("/monitoring/"):
                assert r.status_code in (200, 503), (method, path)
            else:
                assert r.status_code == 401, (method, path, r.status_code)


def test_no_auth_mode_serves_everyone(db_url: str) -> None:
    with live_server(keyed_settings(db_url, auth={"mode": "none"})) as srv:
        r = httpx.post(srv.url + "/v2/code/completions", json=V2_BODY, timeout=20)
        assert r.status_code == 200
