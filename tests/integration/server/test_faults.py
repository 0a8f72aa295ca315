"""Bad input and upstream faults, sent one after another to one running server, each followed by a good
request that must still succeed: the server answers with the right status and a one-line message,
never a traceback, and keeps serving.

Slow and failing upstreams are echo providers (``delay_s``, ``fail_status``). The unexpected-exception
case needs an engine bug, which cannot be provoked through real parts: ``ExplodingEngine`` wraps the
real Engine and raises ``RuntimeError`` for one model name only (before any text, or mid-stream).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import httpx
import openai
import pytest

from assay.config import Settings
from assay.pipeline.engine import Engine, StreamChunk
from assay.pipeline.types import CompletionInput, CompletionResult
from tests.support.live_server import LiveServer, live_server

BUDGET_S = 0.8
MAX_BODY = 50_000
SETTINGS = Settings(**{
    "server": {"request_timeout_s": BUDGET_S, "max_body_bytes": MAX_BODY},
    "models": [
        {"name": "good", "provider": "echo", "spec": "assay-nano", "options": {"reply": "x = 1"}},
        {"name": "slow", "provider": "echo", "spec": "assay-nano", "timeout_s": 30, "options": {"reply": "late", "delay_s": 10}},
        {"name": "broken", "provider": "echo", "spec": "assay-nano", "options": {"fail_status": 500}},
        {"name": "explode", "provider": "echo", "spec": "assay-nano", "options": {"reply": "never"}},
    ],
})


class ExplodingEngine(Engine):
    async def complete(self, inp: CompletionInput) -> CompletionResult:
        if inp.model == "explode":
            raise RuntimeError("kaboom: /secret/path line 42")
        return await super().complete(inp)

    def stream_complete(self, inp: CompletionInput) -> AsyncIterator[StreamChunk | CompletionResult]:
        if inp.model != "explode":
            return super().stream_complete(inp)

        async def breaks_mid_stream() -> AsyncIterator[StreamChunk | CompletionResult]:
            yield StreamChunk("partial ")
            raise RuntimeError("kaboom mid-stream")

        return breaks_mid_stream()


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with live_server(SETTINGS, ExplodingEngine(SETTINGS)) as srv:
        yield srv


@pytest.fixture(scope="module")
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=20) as client:
        yield client


def body(model: str = "good", above: str = "y = ") -> dict:
    return {"model_name": model, "current_file": {"file_name": "a.py", "content_above_cursor": above,
                                                  "content_below_cursor": ""}}


def assert_good(http: httpx.Client) -> None:
    r = http.post("/v2/code/completions", json=body())
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["text"] == "x = 1"


def assert_one_line(r: httpx.Response) -> str:
    assert "Traceback" not in r.text and 'File "' not in r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail
    return detail


def test_each_fault_in_turn_then_a_good_request(http: httpx.Client) -> None:
    r = http.post("/v2/code/completions", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "malformed JSON" in r.json()["detail"][0]["msg"]
    assert_good(http)

    r = http.post("/v2/code/completions", json={"current_file": {"file_name": "a.py"}})
    assert r.status_code == 422
    assert {tuple(e["loc"]) for e in r.json()["detail"]} == {
        ("body", "current_file", "content_above_cursor"), ("body", "current_file", "content_below_cursor")}
    assert_good(http)

    r = http.post("/v2/code/completions", json=body(above="x" * (MAX_BODY + 1)))
    assert r.status_code == 413
    assert "limit is 50000 bytes" in assert_one_line(r)
    assert_good(http)

    chunks = (b'{"current_file": {"file_name": "a.py", "content_below_cursor": "", "content_above_cursor": "'
              + b"x" * 1000 for _ in range(60))
    r = http.post("/v2/code/completions", content=chunks, headers={"Content-Type": "application/json"})
    assert r.status_code == 413, "a chunked body without Content-Length is measured as it arrives"
    assert_good(http)

    start = time.monotonic()
    r = http.post("/v2/code/completions", json=body("slow"))
    elapsed = time.monotonic() - start
    assert r.status_code == 504
    assert "0.8 s" in assert_one_line(r)
    assert elapsed < BUDGET_S + 1.0
    assert_good(http)

    r = http.post("/v2/code/completions", json=body("broken"))
    assert r.status_code == 502
    assert "500" in assert_one_line(r)
    assert_good(http)

    r = http.post("/v2/code/completions", json=body("missing"))
    assert r.status_code == 404
    assert assert_one_line(r) == "model 'missing' is not configured; configured models: broken, explode, good, slow"
    assert_good(http)

    r = http.post("/v2/code/completions", json=body("explode"))
    assert r.status_code == 500
    detail = assert_one_line(r)
    assert "kaboom" not in detail and "RuntimeError" in detail
    assert "x-process-time" in r.headers
    assert_good(http)

    r = http.get("/no/such/route")
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}
    assert_good(http)


def test_streaming_fault_before_first_byte_keeps_its_status(http: httpx.Client) -> None:
    r = http.post("/v2/code/completions", json={**body("broken"), "stream": True})
    assert r.status_code == 502
    r = http.post("/v4/code/suggestions", json={"prompt_components": [{"type": "code_editor_completion", "payload": {
        "file_name": "a.py", "content_above_cursor": "", "content_below_cursor": "", "stream": True,
        "model_name": "slow"}}]})
    assert r.status_code == 504
    assert_good(http)


def test_openai_routes_use_openai_error_shape(server: LiveServer, http: httpx.Client) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0)
    with pytest.raises(openai.InternalServerError) as info:
        client.completions.create(model="broken", prompt="x")
    assert info.value.status_code == 502 and "HTTP 500" in info.value.message
    with pytest.raises(openai.APIStatusError) as status:
        client.completions.create(model="slow", prompt="x")
    assert status.value.status_code == 504
    r = http.post("/v1/completions", json={"model": "good", "prompt": "p" * MAX_BODY})
    assert r.status_code == 413
    assert r.json()["error"]["type"] == "invalid_request_error"
    r = http.post("/v1/completions", content=b"[", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("body: malformed JSON")
    assert client.completions.create(model="good", prompt="y = ").choices[0].text == "x = 1"


def test_error_after_the_stream_started(server: LiveServer, http: httpx.Client) -> None:
    r = http.post("/v2/code/completions", json={**body("explode"), "stream": True})
    assert r.status_code == 200 and r.text == "partial "
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0)
    stream = client.completions.create(model="explode", prompt="x", suffix="", stream=True)
    with pytest.raises(openai.APIError, match="RuntimeError"):
        for _ in stream:
            pass
    assert_good(http)
