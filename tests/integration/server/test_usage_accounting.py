"""Every model call through a real gateway is charged to the token quota and audited with its model and the
token counts the provider reported (issue 6): each endpoint family, streamed or not. Streams are counted
when they end, from the provider's usage, never from the bytes sent (which once made a streamed call
cost ~50x its tokens), and chat-served calls (generation components, chat features, prompts) once
went unrecorded (``None 0 0``) and uncharged.

The model is ``echo``, whose usage is whitespace-separated words: the reply below is 5 tokens whatever
the endpoint, and it streams in 3-character pieces, so byte counting would show."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from assay.store import AuditEntry, open_store
from tests.integration.auth.conftest import bearer, keyed_settings
from tests.support.live_server import LiveServer, live_server

REPLY = "alpha beta gamma delta epsilon"
REPLY_TOKENS = 5
MODELS = [{"name": "coder", "provider": "echo", "spec": "assay-nano", "options": {"reply": REPLY, "chunk_size": 3}}]
FILE = {"file_name": "a.py", "content_above_cursor": "def f():\n    ", "content_below_cursor": ""}
CHAT_COMPONENT = {"type": "prompt", "metadata": {"source": "GitLab EE", "version": "17.8.0"},
                  "payload": {"content": "x = 1"}}
MESSAGES = [{"role": "user", "content": "hi there"}]
INCLUDE_USAGE = {"stream": True, "stream_options": {"include_usage": True}}


def _components(kind: str, stream: bool = False) -> dict:
    payload = {**FILE, **({"prompt": "add f"} if kind == "generation" else {}), **({"stream": True} if stream else {})}
    return {"prompt_components": [{"type": f"code_editor_{kind}", "payload": payload}],
            **({"stream": True} if stream else {})}


def _openai_usage(r: httpx.Response) -> tuple[int, int]:
    if r.headers["content-type"].startswith("text/event-stream"):
        events = [json.loads(line[6:]) for line in r.text.splitlines()
                  if line.startswith("data: ") and line != "data: [DONE]"]
        usage = [e["usage"] for e in events if e.get("usage")]
        assert len(usage) == 1, r.text
        found = usage[0]
    else:
        found = r.json()["usage"]
    return found["prompt_tokens"], found["completion_tokens"]


def _gitlab_usage(r: httpx.Response) -> tuple[int, int]:
    tokens = r.json()["model"]["tokens_consumption_metadata"]
    return tokens["input_tokens"], tokens["output_tokens"]


def _infill_usage(r: httpx.Response) -> tuple[int, int]:
    body = r.json() if not r.headers["content-type"].startswith("text/event-stream") else \
        json.loads([line for line in r.text.splitlines() if line.startswith("data: ")][-1][6:])
    return body["tokens_evaluated"], body["tokens_predicted"]


@dataclass(frozen=True)
class Call:
    path: str
    body: dict
    usage: Callable[[httpx.Response], tuple[int, int]] | None = None
    """How the response reports its usage; None where it reports none (then: the reply's 5 tokens)."""


CALLS = {
    "v1-completions": Call("/v1/completions", {"prompt": "def f", "max_tokens": 40}, _openai_usage),
    "v1-completions-stream": Call("/v1/completions", {"prompt": "def f", "max_tokens": 40, **INCLUDE_USAGE},
                                  _openai_usage),
    "v1-chat": Call("/v1/chat/completions", {"messages": MESSAGES, "max_tokens": 40}, _openai_usage),
    "v1-chat-stream": Call("/v1/chat/completions", {"messages": MESSAGES, "max_tokens": 40, **INCLUDE_USAGE},
                           _openai_usage),
    "v1-chat-feature-model": Call("/v1/chat/completions", {"model": "feature:explain_code", "messages": MESSAGES},
                                  _openai_usage),
    "v2-completions": Call("/v2/code/completions", {"current_file": FILE}, _gitlab_usage),
    "v2-completions-stream": Call("/v2/code/completions", {"current_file": FILE, "stream": True}),
    "v2-generations": Call("/v2/code/generations", {"current_file": FILE, "prompt": "add f"}, _gitlab_usage),
    "v2-generations-stream": Call("/v2/code/generations", {"current_file": FILE, "prompt": "add f", "stream": True}),
    "v3-completion": Call("/v3/code/completions", _components("completion")),
    "v3-generation": Call("/v3/code/completions", _components("generation")),
    "v3-completion-stream": Call("/v3/code/completions", _components("completion", stream=True)),
    "v3-generation-stream": Call("/v3/code/completions", _components("generation", stream=True)),
    "v4-completion": Call("/v4/code/suggestions", _components("completion")),
    "v4-generation": Call("/v4/code/suggestions", _components("generation")),
    "v4-completion-sse": Call("/v4/code/suggestions", _components("completion", stream=True)),
    "v4-generation-sse": Call("/v4/code/suggestions", _components("generation", stream=True)),
    "chat-invokable": Call("/v1/chat/explain_code", {"prompt_components": [CHAT_COMPONENT]}),
    "chat-invokable-stream": Call("/v1/chat/explain_code", {"prompt_components": [CHAT_COMPONENT], "stream": True}),
    "prompts": Call("/v1/prompts/explain_code", {"inputs": {"code": "x = 1"}}),
    "prompts-stream": Call("/v1/prompts/explain_code", {"inputs": {"code": "x = 1"}, "stream": True}),
    "infill": Call("/infill", {"input_prefix": "def f():\n    ", "input_suffix": "\n"}, _infill_usage),
    "infill-stream": Call("/infill", {"input_prefix": "def f():\n    ", "input_suffix": "\n", "stream": True},
                          _infill_usage),
}


@dataclass(frozen=True)
class Gateway:
    server: LiveServer
    db_url: str

    def key(self, **limits: int) -> tuple[str, str]:
        """A new key (its id, its secret) that may call every route here, of a user of its own (a key's token
        quota is also its user's)."""
        store = open_store(self.db_url)
        try:
            created = store.keys.create(f"user-{secrets.token_hex(4)}", ["complete_code", "generate_code", "chat"], **limits)
        finally:
            store.close()
        return created.record.key_id, created.secret

    def records(self, key_id: str, count: int, timeout_s: float = 10.0) -> list[AuditEntry]:
        """The key's audit records once there are ``count``: a call is charged, then recorded, after its
        response (stream included) went out, so the client can be a moment ahead of both."""
        deadline = time.monotonic() + timeout_s
        while True:
            store = open_store(self.db_url)
            try:
                found = [r for r in store.audit.query() if r.key_id == key_id]
            finally:
                store.close()
            if len(found) >= count or time.monotonic() > deadline:
                return sorted(found, key=lambda r: r.at)
            time.sleep(0.05)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    db_url = f"sqlite:///{tmp_path_factory.mktemp('usage') / 'assay.db'}"
    settings = keyed_settings(db_url, limits={"requests_per_minute": None, "tokens_per_day": None})
    with live_server({**settings, "models": MODELS}) as srv:
        yield Gateway(srv, db_url)


def _post(gateway: Gateway, call: Call, secret: str) -> httpx.Response:
    with httpx.Client(base_url=gateway.server.url, timeout=20) as client:
        return client.post(call.path, json=call.body, headers=bearer(secret))


@pytest.mark.parametrize("name", list(CALLS))
def test_a_call_is_audited_with_its_model_and_the_tokens_its_response_reports(gateway: Gateway, name: str) -> None:
    call = CALLS[name]
    key_id, secret = gateway.key()
    r = _post(gateway, call, secret)
    assert r.status_code == 200, r.text
    [record] = gateway.records(key_id, 1)
    assert (record.model, record.status) == ("coder", 200)
    if call.usage is not None:
        assert (record.prompt_tokens, record.completion_tokens) == call.usage(r)
    else:
        assert record.prompt_tokens > 0 and record.completion_tokens == REPLY_TOKENS


@pytest.mark.parametrize("name", list(CALLS))
def test_a_small_token_quota_is_spent_by_one_call(gateway: Gateway, name: str) -> None:
    """A key with 4 tokens a day: its first call (5 completion tokens and more) goes through and is charged,
    the next one is a 429 naming the quota."""
    call = CALLS[name]
    key_id, secret = gateway.key(tokens_per_day=4)
    assert _post(gateway, call, secret).status_code == 200
    [first] = gateway.records(key_id, 1)
    assert first.total_tokens > 4
    r = _post(gateway, call, secret)
    assert r.status_code == 429, r.text
    assert f"{first.total_tokens} of 4 tokens per day" in r.text and int(r.headers["retry-after"]) >= 1
