"""``GET /v1/traces/{id}`` with the admin credential, on running servers (with and without an admin token)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.live_server import live_server

TOKEN = "s3cret-admin"
MODELS = [{"name": "coder", "provider": "echo", "spec": "assay-nano", "options": {"reply": "return 1"}}]
BODY = {"current_file": {"file_name": "a.py", "content_above_cursor": "def f():\n    ", "content_below_cursor": "\n"},
        "context": [{"type": "file", "name": "b.py", "content": "def f():\n    return 1\n"}]}


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with live_server({"models": MODELS, "server": {"admin_token": TOKEN, "trace_buffer": 3}}) as srv, \
            httpx.Client(base_url=srv.url, timeout=20) as client:
        yield client


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_trace_of_a_completion_is_readable_with_the_admin_token(http: httpx.Client) -> None:
    r = http.post("/v2/code/completions", json=BODY)
    trace_id = r.headers["x-assay-trace-id"]
    t = http.get(f"/v1/traces/{trace_id}", headers=auth())
    assert t.status_code == 200, t.text
    trace = t.json()
    assert trace["id"] == trace_id
    assert trace["model"] == "coder" and trace["language"] == "python"
    assert "def f():" in trace["prompt"]
    assert trace["raw_outputs"] == ["return 1"]
    assert {s["stage"] for s in trace["timings"]} >= {"decode"}


def test_streamed_completion_announces_its_trace_id_up_front(http: httpx.Client) -> None:
    with http.stream("POST", "/v2/code/completions", json={**BODY, "stream": True}) as r:
        trace_id = r.headers["x-assay-trace-id"]
        assert r.read().decode() == "return 1"
    t = http.get(f"/v1/traces/{trace_id}", headers=auth())
    assert t.status_code == 200 and t.json()["raw_outputs"] == ["return 1"]


def test_credentials_and_unknown_ids(http: httpx.Client) -> None:
    trace_id = http.post("/v2/code/completions", json=BODY).headers["x-assay-trace-id"]
    r = http.get(f"/v1/traces/{trace_id}")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in r.json()["error"]
    assert http.get(f"/v1/traces/{trace_id}", headers=auth("wrong")).status_code == 401
    assert http.get(f"/v1/traces/{trace_id}", headers={"Authorization": TOKEN}).status_code == 401
    r = http.get("/v1/traces/does-not-exist", headers=auth())
    assert r.status_code == 404 and "does-not-exist" in r.json()["detail"]


def test_old_traces_leave_the_buffer(http: httpx.Client) -> None:
    first = http.post("/v2/code/completions", json=BODY).headers["x-assay-trace-id"]
    for _ in range(3):
        http.post("/v2/code/completions", json=BODY)
    assert http.get(f"/v1/traces/{first}", headers=auth()).status_code == 404


def test_without_an_admin_token_traces_are_forbidden() -> None:
    with live_server({"models": MODELS}) as srv:
        trace_id = httpx.post(f"{srv.url}/v2/code/completions", json=BODY).headers["x-assay-trace-id"]
        r = httpx.get(f"{srv.url}/v1/traces/{trace_id}", headers=auth())
    assert r.status_code == 403
    assert "ASSAY_SERVER__ADMIN_TOKEN" in r.json()["detail"]
