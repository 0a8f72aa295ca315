"""Every chat-served response names the engine's trace of it in ``X-Assay-Trace-Id``, as completions do
(real uvicorn on a socket, ``--no-auth`` mode, so ``GET /v1/traces/{id}`` needs no credential): OpenAI chat
(plain and ``feature:<id>``), GitLab generations (v2, v3/v4 generation components, v2 chat-path completions),
``/v1/chat/{invokable}`` and ``/v1/prompts/{id}``, streamed (header at stream start) and not. These once
returned no header at all outside an experiment, and inside one a suggestion id that named no trace (the
engine gave the chat trace a fresh id nobody saw); now, in an experiment, the suggestion id IS the trace id."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assay.experiments import open_event_store
from assay.server.routes.events import USER_HEADER
from tests.integration.experiments.analyzing import wait_for_exposures
from tests.support.live_server import live_server

REPLY = "return 1"
MODELS = [{"name": "coder", "provider": "echo", "spec": "assay-nano", "options": {"reply": REPLY}}]
FILE = {"file_name": "a.py", "content_above_cursor": "def f():\n    ", "content_below_cursor": ""}
MESSAGES = [{"role": "user", "content": "hi there"}]
CHAT_COMPONENT = {"type": "prompt", "metadata": {"source": "GitLab EE", "version": "17.8.0"},
                  "payload": {"content": "x = 1"}}
OPAQUE = re.compile("[0-9a-f]{32}")


def _generation(stream: bool = False) -> dict[str, Any]:
    return {"prompt_components": [{"type": "code_editor_generation",
                                   "payload": {**FILE, "prompt": "add f", **({"stream": True} if stream else {})}}],
            **({"stream": True} if stream else {})}


CHAT_SERVED: dict[str, tuple[str, dict[str, Any]]] = {
    "v1-chat": ("/v1/chat/completions", {"messages": MESSAGES}),
    "v1-chat-feature-model": ("/v1/chat/completions", {"model": "feature:explain_code", "messages": MESSAGES}),
    "v2-generations": ("/v2/code/generations", {"current_file": FILE, "prompt_version": 2, "prompt": "add f"}),
    "v2-chat-path-completions": ("/v2/code/completions", {"current_file": FILE, "prompt_version": 3,
                                                          "prompt": [{"role": "user", "content": "complete f"}]}),
    "v3-generation": ("/v3/code/completions", _generation()),
    "v4-generation": ("/v4/code/suggestions", _generation()),
    "chat-invokable": ("/v1/chat/explain_code", {"prompt_components": [CHAT_COMPONENT]}),
    "prompts": ("/v1/prompts/explain_code", {"inputs": {"code": "x = 1"}}),
}
STREAMED_BODY = {"v3-generation": _generation(stream=True), "v4-generation": _generation(stream=True)}


def _body(name: str, stream: bool) -> dict[str, Any]:
    _, body = CHAT_SERVED[name]
    return STREAMED_BODY.get(name, {**body, "stream": True}) if stream else body


def _post(client: httpx.Client, name: str, stream: bool, headers: dict[str, str] | None = None) -> str:
    """Call ``name``; return its ``X-Assay-Trace-Id`` (read, when streamed, before the body)."""
    path, _ = CHAT_SERVED[name]
    with client.stream("POST", path, json=_body(name, stream), headers=headers or {}) as r:
        trace_id = r.headers.get("X-Assay-Trace-Id")
        text = r.read().decode()
        assert r.status_code == 200, text
    assert trace_id is not None and OPAQUE.fullmatch(trace_id), f"{name}: no trace id header ({r.headers})"
    if path == "/v1/chat/completions":
        assert f'"chatcmpl-{trace_id}"' in text  # OpenAI's id names the same trace
    return trace_id


def _trace(client: httpx.Client, trace_id: str) -> dict[str, Any]:
    t = client.get(f"/v1/traces/{trace_id}")
    assert t.status_code == 200, t.text
    return t.json()


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with live_server({"models": MODELS}) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        yield c


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("name", list(CHAT_SERVED))
def test_a_chat_served_response_names_its_trace(client: httpx.Client, name: str, stream: bool) -> None:
    trace_id = _post(client, name, stream)
    trace = _trace(client, trace_id)
    assert trace["id"] == trace_id and trace["kind"] == "chat" and trace["model"] == "coder"
    assert trace["raw_outputs"] == [REPLY]
    assert trace["completion_tokens"] == len(REPLY.split()) and trace["prompt_tokens"] > 0  # echo: words


def test_each_response_has_its_own_trace(client: httpx.Client) -> None:
    ids = {_post(client, "v1-chat", False) for _ in range(3)}
    assert len(ids) == 3


def test_in_an_experiment_the_suggestion_id_is_the_trace_id(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'events.db'}"
    experiment = {"name": "chat-ab", "salt": "c-1", "targets": ["code_generations", "features"],
                  "arms": [{"name": "control"}, {"name": "treatment"}]}
    settings = {"models": MODELS, "database": {"url": db_url}, "experiments": [experiment]}
    names = ["v1-chat-feature-model", "v2-generations", "v4-generation", "chat-invokable", "prompts"]
    served: list[str] = []
    with live_server(settings) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        for stream in (False, True):
            for name in names:
                trace_id = _post(c, name, stream, headers={USER_HEADER: "dev-1"})
                trace = _trace(c, trace_id)
                assert trace["kind"] == "chat" and trace["raw_outputs"] == [REPLY]
                served.append(trace_id)
        wait_for_exposures(db_url, {"chat-ab": len(served)})
    store = open_event_store(db_url)
    try:
        exposures = store.exposures("chat-ab")
    finally:
        store.close()
    assert sorted(x.trace_id for x in exposures) == sorted(served) and len(set(served)) == len(served)
    # The exposure now finds the trace under its id: its tokens (and no error) come from it, as before from the route.
    assert all(x.completion_tokens == len(REPLY.split()) and not x.error for x in exposures)
