"""The prompt features through a real assay server: ``/v1/prompts/{id}``, ``/v1/chat/{invokable}`` and
OpenAI chat with ``model: "feature:<id>"`` (official ``openai`` SDK).

The chat models are assay's real ``openai`` provider talking to the scripted OpenAI-wire upstream of
the provider tests (real uvicorn, real sockets), which records every request: that is how the tests
see the rendered prompt and decoding parameters that reached the model. Upstream model ``500`` fails.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import openai
import pytest

from assay.prompts import default_registry
from tests.integration.providers.scripted_upstreams import REPLY, Recorder, openai_app, serve
from tests.support.live_server import live_server

DIFF = "diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -1 +1,2 @@\n-x = 1\n+x = 2\n+y = 3\n"
LOG = "collected 3 items\ntests/test_app.py::test_add FAILED\nE   assert 3 == 4\n1 failed, 2 passed in 0.02s\n"


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[httpx.Client, Recorder, str]]:
    rec = Recorder()
    with serve(openai_app(rec)) as upstream:
        base = f"{upstream}/v1"
        settings = {
            "models": [
                {"name": "big", "provider": "openai", "base_url": base, "model": "ok", "spec": "generic"},
                {"name": "tiny", "provider": "openai", "base_url": base, "model": "ok", "spec": "assay-nano"},
                {"name": "broken", "provider": "openai", "base_url": base, "model": "500", "spec": "generic"},
            ],
            "features": {"chat": "big"},
        }
        with live_server(settings) as srv, httpx.Client(base_url=srv.url, timeout=20) as client:
            yield client, rec, srv.url


def last(rec: Recorder) -> dict:
    return rec.requests[-1]


def roles(body: dict) -> list[str]:
    return [m["role"] for m in body["messages"]]


def test_prompt_endpoint_answers_a_bare_json_string_rendered_from_the_base_variant(stack) -> None:
    http, rec, _ = stack
    r = http.post("/v1/prompts/generate_commit_message", json={"inputs": {"diff": DIFF}})
    assert r.status_code == 200, r.text
    assert r.json() == REPLY
    assert r.headers["x-assay-prompt-version"] == "generate_commit_message/base@1.0.0"
    body = last(rec)
    assert roles(body) == ["system", "user"]
    assert "imperative summary" in body["messages"][0]["content"]
    assert DIFF.strip() in body["messages"][1]["content"]
    assert body["max_tokens"] == 512 and body["temperature"] == 0.0


def test_model_metadata_name_picks_the_small_variant_and_its_stop(stack) -> None:
    http, rec, _ = stack
    r = http.post("/v1/prompts/generate_commit_message", json={"inputs": {"diff": DIFF},
                                                               "model_metadata": {"name": "small"}})
    assert r.status_code == 200, r.text
    assert r.json() == "return a + b"
    body = last(rec)
    assert roles(body) == ["user"] and body["max_tokens"] == 48 and "\n" in body["stop"]


def test_serving_model_spec_family_selects_the_variant(stack) -> None:
    http, rec, _ = stack
    r = http.post("/v1/prompts/troubleshoot_job", json={"inputs": {"log": LOG}, "model_metadata": {"name": "tiny"}})
    assert r.status_code == 200, r.text
    assert r.json() == "return a + b"
    assert r.headers["x-assay-prompt-version"] == "troubleshoot_job/small@1.0.0"
    body = last(rec)
    assert roles(body) == ["user"] and body["max_tokens"] == 128
    assert body["messages"][0]["content"].startswith(LOG.strip()) and "The failing test is" in body["messages"][0]["content"]


def test_rails_style_prompt_id_with_family_suffix(stack) -> None:
    http, rec, _ = stack
    r = http.post("/v1/prompts/summarize_comments/base", json={"inputs": {"comments": "alice: ship it"}})
    assert r.status_code == 200, r.text
    assert "alice: ship it" in last(rec)["messages"][1]["content"]


@pytest.mark.parametrize(("path", "body", "status", "needle"), [
    ("/v1/prompts/no_such_feature", {"inputs": {}}, 404, "no_such_feature"),
    ("/v1/prompts/generate_commit_message", {"inputs": {"diff": "x"}, "prompt_version": "^2.0.0"}, 404, "^2.0.0"),
    ("/v1/prompts/generate_commit_message", {"inputs": {"diff": "x"}, "prompt_version": "banana"}, 422,
     "prompt_version"),
    ("/v1/prompts/generate_commit_message", {"inputs": {}}, 422, "inputs.diff"),
    ("/v1/prompts/generate_commit_message", {"inputs": {"diff": 5}}, 422, "inputs.diff: expected string"),
    ("/v1/prompts/generate_commit_message", {"inputs": {"diff": "x" * 200_001}}, 422, "200001 characters"),
])
def test_prompt_endpoint_errors(stack, path: str, body: dict, status: int, needle: str) -> None:
    http, _, _ = stack
    r = http.post(path, json=body)
    assert r.status_code == status, r.text
    assert needle in r.json()["detail"]


def test_pinned_version_constraints_resolve(stack) -> None:
    http, _, _ = stack
    for constraint in ("1.0.0", "~1.0", ">=1.0.0,<1.1", "^1"):
        r = http.post("/v1/prompts/explain_code", json={"inputs": {"code": "x = 1"}, "prompt_version": constraint})
        assert r.status_code == 200, (constraint, r.text)


def test_model_failure_is_421_with_the_upstream_status(stack) -> None:
    http, _, _ = stack
    r = http.post("/v1/prompts/explain_code", json={"inputs": {"code": "x = 1"}, "model_metadata": {"name": "broken"}})
    assert r.status_code == 421, r.text
    assert "upstream 502" in r.json()["detail"] and "500" in r.json()["detail"]


def test_prompt_stream_is_raw_text(stack) -> None:
    http, _, _ = stack
    with http.stream("POST", "/v1/prompts/explain_code", json={"inputs": {"code": "x = 1"}, "stream": True}) as r:
        assert r.status_code == 200
        assert r.read().decode() == REPLY


def component(content: object, **payload: object) -> dict:
    return {"prompt_components": [{"type": "prompt", "metadata": {"source": "GitLab EE", "version": "17.8.0"},
                                   "payload": {"content": content, **payload}}]}


@pytest.mark.parametrize("invokable", ["explain_code", "write_tests", "refactor_code", "fix_code",
                                       "explain_vulnerability", "summarize_comments", "troubleshoot_job"])
def test_every_chat_invokable_answers_in_gitlabs_shape(stack, invokable: str) -> None:
    http, rec, _ = stack
    content = {"code": "x = 1", "vulnerability_name": "SQL injection"} if invokable == "explain_vulnerability" else "x = 1"
    r = http.post(f"/v1/chat/{invokable}", json=component(json.dumps(content) if isinstance(content, dict) else content))
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["response"] == REPLY
    assert data["metadata"]["provider"] == "openai" and data["metadata"]["model"] == "big"
    assert isinstance(data["metadata"]["timestamp"], int)
    expected = default_registry().resolve(invokable).render(
        content if isinstance(content, dict) else default_registry().resolve(invokable).inputs_from_text(content))
    assert [m["content"] for m in last(rec)["messages"]] == [m.content for m in expected.messages]


def test_chat_message_list_passes_through_and_max_tokens_is_clamped(stack) -> None:
    http, rec, _ = stack
    messages = [{"role": "system", "content": "Rails-built system"}, {"role": "user", "content": "explain x = 1"}]
    r = http.post("/v1/chat/explain_code", json=component(messages, params={"max_tokens_to_sample": 8000,
                                                                               "temperature": 0.5}))
    assert r.status_code == 200, r.text
    body = last(rec)
    assert body["messages"] == messages
    assert body["max_tokens"] == 4096 and body["temperature"] == 0.5


def test_chat_feature_errors(stack) -> None:
    http, _, _ = stack
    assert http.post("/v1/chat/make_coffee", json=component("x")).status_code == 404
    two = component("x")
    two["prompt_components"] *= 2
    assert http.post("/v1/chat/explain_code", json=two).status_code == 422
    r = http.post("/v1/chat/explain_vulnerability", json=component("just code, no finding name"))
    assert r.status_code == 422 and "inputs.vulnerability_name" in r.json()["detail"]
    r = http.post("/v1/chat/explain_code", json=component("x", model="broken"))
    assert r.status_code == 502, r.text


def test_chat_feature_stream_is_raw_text(stack) -> None:
    http, _, _ = stack
    with http.stream("POST", "/v1/chat/fix_code", json={**component("x = 1"), "stream": True}) as r:
        assert r.status_code == 200
        assert r.read().decode() == REPLY


@pytest.fixture(scope="module")
def sdk(stack) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{stack[2]}/v1", api_key="x", max_retries=0, timeout=20)


@pytest.mark.parametrize("feature", sorted(default_registry().features()))
def test_openai_sdk_reaches_every_feature(stack, sdk: openai.OpenAI, feature: str) -> None:
    _, rec, _ = stack
    prompt = default_registry().resolve(feature)
    inputs = {n: ("x = 1" if s.type == "string" else []) for n, s in prompt.data.inputs.items() if s.required}
    out = sdk.chat.completions.create(model=f"feature:{feature}",
                                      messages=[{"role": "user", "content": json.dumps(inputs)}])
    assert out.choices[0].message.content == REPLY
    assert [m["content"] for m in last(rec)["messages"]] == [m.content for m in prompt.render(inputs).messages]


def test_openai_sdk_feature_takes_plain_text_as_the_primary_input_and_streams(stack, sdk: openai.OpenAI) -> None:
    _, rec, _ = stack
    stream = sdk.chat.completions.create(model="feature:generate_commit_message", max_tokens=100, stream=True,
                                         messages=[{"role": "system", "content": "ignored"},
                                                   {"role": "user", "content": DIFF}])
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == REPLY
    body = last(rec)
    assert DIFF.strip() in body["messages"][-1]["content"] and body["max_tokens"] == 100
    assert "ignored" not in json.dumps(body["messages"])


def test_openai_sdk_feature_errors_are_typed(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError, match="no_such"):
        sdk.chat.completions.create(model="feature:no_such", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.UnprocessableEntityError, match="inputs.diff"):
        sdk.chat.completions.create(model="feature:generate_commit_message",
                                    messages=[{"role": "user", "content": "{\"context\": \"no diff\"}"}])
    plain = sdk.chat.completions.create(model="big", messages=[{"role": "user", "content": "hi"}])
    assert plain.choices[0].message.content == REPLY
