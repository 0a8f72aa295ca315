"""FIM-as-chat completions stream through the real gateway while the chat model is still answering.

A real assay server (uvicorn, real socket) serves two chat-only models configured with the ``chat``
spec: one behind the anthropic provider, one behind the openai provider. Both upstreams are scripted
(tests/integration/providers/scripted_upstreams.py; the real APIs cannot be reached from here) and
send :data:`PACED_REPLY` in small pieces ``PACE_S`` apart, noting when they handed over the last one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.providers.scripted_upstreams import Recorder, anthropic_app, openai_app, serve
from tests.support.live_server import live_server

PREFIX = "def add(a, b):\n"
SUFFIX = "\n\nprint(add(1, 2))\n"
ANSWER = "    total = a + b\n    total += 0\n    return total"


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[httpx.Client, Recorder, Recorder]]:
    """``(client of the gateway, anthropic upstream recorder, openai upstream recorder)``."""
    claude, gpt = Recorder(), Recorder()
    with serve(anthropic_app(claude)) as anthropic_url, serve(openai_app(gpt)) as openai_url:
        settings = {
            "models": [
                {"name": "claude", "provider": "anthropic", "base_url": anthropic_url, "model": "paced",
                 "spec": "chat"},
                {"name": "gpt", "provider": "openai", "base_url": f"{openai_url}/v1", "model": "paced",
                 "spec": "chat"},
            ],
            "features": {"code_completions": "claude"},
        }
        with live_server(settings) as srv, httpx.Client(base_url=srv.url, timeout=20) as client:
            yield client, claude, gpt


def timed_sse(client: httpx.Client, path: str, body: dict[str, Any]) -> list[tuple[float, str]]:
    """``(arrival time, data)`` of every SSE event of a streamed POST."""
    out: list[tuple[float, str]] = []
    with client.stream("POST", path, json=body) as r:
        assert r.status_code == 200, r.read()
        for line in r.iter_lines():
            if line.startswith("data: "):
                out.append((time.monotonic(), line.removeprefix("data: ")))
    return out


def v4_body(model: str, stream: bool) -> dict[str, Any]:
    return {"prompt_components": [{"type": "code_editor_completion", "payload": {
        "file_name": "calc.py", "content_above_cursor": PREFIX, "content_below_cursor": SUFFIX,
        "model_name": model, "stream": stream}}]}


def assert_streamed_early(chunks: list[tuple[float, str]], upstream: Recorder) -> None:
    assert len(chunks) > 1, chunks
    assert chunks[0][0] < upstream.finished[-1], "the first chunk waited for the whole upstream reply"


def test_v4_sse_streams_an_anthropic_answer_while_it_arrives(stack: tuple[httpx.Client, Recorder, Recorder]) -> None:
    client, claude, _ = stack
    events = timed_sse(client, "/v4/code/suggestions", v4_body("claude", stream=True))
    chunks = [(t, json.loads(d)["choices"][0]["delta"]["content"]) for t, d in events[1:-1]]
    assert_streamed_early(chunks, claude)
    whole = client.post("/v4/code/suggestions", json=v4_body("claude", stream=False))
    assert "".join(text for _, text in chunks) == whole.json()["choices"][0]["text"] == ANSWER


def test_openai_stream_of_a_chat_model_streams_the_answer(stack: tuple[httpx.Client, Recorder, Recorder]) -> None:
    client, _, gpt = stack
    body = {"model": "gpt", "prompt": PREFIX, "suffix": SUFFIX, "max_tokens": 64}
    events = timed_sse(client, "/v1/completions", {**body, "stream": True})
    assert events[-1][1] == "[DONE]"
    chunks = [(t, json.loads(d)["choices"][0]["text"]) for t, d in events[:-1]]
    chunks = [(t, text) for t, text in chunks if text]
    assert_streamed_early(chunks, gpt)
    sent = gpt.requests[-1]
    assert sent["stream"] is True and sent["messages"][0]["role"] == "system"
    whole = client.post("/v1/completions", json=body)
    assert "".join(text for _, text in chunks) == whole.json()["choices"][0]["text"] == ANSWER


def test_v2_raw_text_stream_starts_before_the_upstream_finished(
        stack: tuple[httpx.Client, Recorder, Recorder]) -> None:
    client, claude, _ = stack
    body = {"current_file": {"file_name": "calc.py", "content_above_cursor": PREFIX,
                             "content_below_cursor": SUFFIX}}
    pieces: list[tuple[float, str]] = []
    with client.stream("POST", "/v2/code/completions", json={**body, "stream": True}) as r:
        assert r.status_code == 200
        pieces = [(time.monotonic(), text) for text in r.iter_text() if text]
    assert pieces[0][0] < claude.finished[-1]
    whole = client.post("/v2/code/completions", json=body)
    assert "".join(text for _, text in pieces) == whole.json()["choices"][0]["text"] == ANSWER
