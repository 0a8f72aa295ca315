"""``GET /v1/traces/{id}`` on running servers (real uvicorn, real sockets, SQLite key store): any credential
with the ``admin`` scope reads traces (the admin token or an admin-scoped API key), others are refused,
and in ``--no-auth`` mode the local user reads them without a credential."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from assay.store import open_store
from tests.support.live_server import live_server

TOKEN = "s3cret-admin"
MODELS = [{"name": "coder", "provider": "echo", "spec": "assay-nano", "options": {"reply": "return 1"}}]
BODY = {"current_file": {"file_name": "a.py", "content_above_cursor": "def f():\n    ", "content_below_cursor": "\n"},
        "context": [{"type": "file", "name": "b.py", "content": "def f():\n    return 1\n"}]}


@dataclass(frozen=True)
class Gateway:
    http: httpx.Client
    db_url: str

    def key(self, *scopes: str) -> dict[str, str]:
        store = open_store(self.db_url)
        try:
            return auth(store.keys.create("ann", list(scopes)).secret)
        finally:
            store.close()

    def complete(self, **extra: object) -> str:
        r = self.http.post("/v2/code/completions", json={**BODY, **extra}, headers=self.key("complete_code"))
        assert r.status_code == 200, r.text
        return r.headers["x-assay-trace-id"]


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    db_url = f"sqlite:///{tmp_path_factory.mktemp('traces') / 'assay.db'}"
    settings = {"models": MODELS, "auth": {"mode": "keys"}, "database": {"url": db_url},
                "server": {"admin_token": TOKEN, "trace_buffer": 3}}
    with live_server(settings) as srv, httpx.Client(base_url=srv.url, timeout=20) as client:
        yield Gateway(client, db_url)


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_trace_of_a_completion_is_readable_with_the_admin_token(gw: Gateway) -> None:
    trace_id = gw.complete()
    t = gw.http.get(f"/v1/traces/{trace_id}", headers=auth())
    assert t.status_code == 200, t.text
    trace = t.json()
    assert trace["id"] == trace_id
    assert trace["model"] == "coder" and trace["language"] == "python"
    assert "def f():" in trace["prompt"]
    assert trace["raw_outputs"] == ["return 1"]
    assert {s["stage"] for s in trace["timings"]} >= {"decode"}


def test_an_api_key_with_the_admin_scope_reads_traces(gw: Gateway) -> None:
    trace_id = gw.complete()
    t = gw.http.get(f"/v1/traces/{trace_id}", headers=gw.key("admin"))
    assert t.status_code == 200, t.text
    assert t.json()["id"] == trace_id and t.json()["raw_outputs"] == ["return 1"]


def test_streamed_completion_announces_its_trace_id_up_front(gw: Gateway) -> None:
    with gw.http.stream("POST", "/v2/code/completions", json={**BODY, "stream": True},
                        headers=gw.key("complete_code")) as r:
        trace_id = r.headers["x-assay-trace-id"]
        assert r.read().decode() == "return 1"
    t = gw.http.get(f"/v1/traces/{trace_id}", headers=auth())
    assert t.status_code == 200 and t.json()["raw_outputs"] == ["return 1"]


def test_credentials_without_admin_and_unknown_ids(gw: Gateway) -> None:
    trace_id = gw.complete()
    r = gw.http.get(f"/v1/traces/{trace_id}")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in r.json()["error"]
    assert gw.http.get(f"/v1/traces/{trace_id}", headers=auth("wrong")).status_code == 401
    assert gw.http.get(f"/v1/traces/{trace_id}", headers={"Authorization": TOKEN}).status_code == 401
    r = gw.http.get(f"/v1/traces/{trace_id}", headers=gw.key("complete_code", "chat", "events"))
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    r = gw.http.get("/v1/traces/does-not-exist", headers=auth())
    assert r.status_code == 404 and "does-not-exist" in r.json()["detail"]


def test_old_traces_leave_the_buffer(gw: Gateway) -> None:
    first = gw.complete()
    for _ in range(3):
        gw.complete()
    assert gw.http.get(f"/v1/traces/{first}", headers=auth()).status_code == 404


def test_in_no_auth_mode_the_local_user_reads_traces_without_a_credential() -> None:
    with live_server({"models": MODELS, "auth": {"mode": "none"}}) as srv:
        trace_id = httpx.post(f"{srv.url}/v2/code/completions", json=BODY).headers["x-assay-trace-id"]
        r = httpx.get(f"{srv.url}/v1/traces/{trace_id}")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == trace_id
