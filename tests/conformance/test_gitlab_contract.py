"""GitLab AI Gateway contract (docs: shared/reference/gitlab-ai-gateway-contract.md §1–4, §12) against a
running assay server over a real socket, with echo models behind the real Engine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from assay.server.protocol.gitlab import GenerationRequest
from tests.support.live_server import LiveServer

SETTINGS = {
    "models": [
        {"name": "coder", "provider": "echo", "spec": "assay-nano", "options": {"reply": "puts 'hello world'"}},
        {"name": "parrot", "provider": "echo", "spec": "assay-nano", "options": {"mode": "echo"}},
        {"name": "mute", "provider": "echo", "spec": "assay-nano", "options": {"reply": ""}},
        {"name": "chunky", "provider": "echo", "spec": "assay-nano",
         "options": {"reply": "alpha beta gamma", "chunk_size": 5}},
    ],
    "features": {"code_completions": "coder", "code_generations": "parrot", "chat": "parrot"},
}
"""What the ``server`` fixture (tests/conformance/conftest.py) serves to this module."""


@pytest.fixture(scope="module")
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=20) as client:
        yield client


def v2_body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "current_file": {"file_name": "app/greet.rb", "content_above_cursor": "def hello_world\n  ",
                         "content_below_cursor": "\nend\n"},
    }
    body.update(extra)
    return body


def v3_body(component: dict[str, Any] | None = None, **payload: Any) -> dict[str, Any]:
    first = component or {"type": "code_editor_completion", "payload": {
        "file_name": "app/greet.rb", "content_above_cursor": "def hello_world\n  ",
        "content_below_cursor": "\nend\n", **payload}}
    return {"prompt_components": [first]}


@pytest.mark.parametrize("path", ["/v2/code/completions", "/v2/completions"])
def test_v2_completion_shape(http: httpx.Client, path: str) -> None:
    r = http.post(path, json=v2_body())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == "id"
    assert body["object"] == "text_completion"
    assert isinstance(body["created"], int)
    assert body["experiments"] == []
    assert body["model"]["name"] == "coder"
    assert body["model"]["engine"] == "echo"
    assert body["model"]["lang"] == "ruby"
    assert set(body["model"]["tokens_consumption_metadata"]) == {
        "input_tokens", "output_tokens", "context_tokens_sent", "context_tokens_used"}
    assert body["choices"] == [{"text": "puts 'hello world'", "index": 0, "finish_reason": "length"}]
    assert r.headers["x-assay-trace-id"]
    assert float(r.headers["x-process-time"]) >= 0


def test_unknown_fields_and_headers_are_ignored(http: httpx.Client) -> None:
    body = v2_body(model_metadata={"name": "x"}, future_field=[1, 2], telemetry=[
        {"model_engine": "e", "requests": 1, "accepts": 0, "errors": 0, "new_counter": 3}])
    body["current_file"]["something_new"] = True
    r = http.post("/v2/code/completions", json=body, headers={"X-Gitlab-Model-Prompt-Cache-Enabled": "true",
                                                             "X-Gitlab-Realm": "self-managed"})
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["text"] == "puts 'hello world'"


def test_prompt_version_2_sends_the_prompt_verbatim(http: httpx.Client) -> None:
    r = http.post("/v2/code/completions", json=v2_body(
        prompt_version=2, model_name="parrot", prompt="<SUFFIX>\nend\n<PREFIX>\nverbatim_marker = 42"))
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["text"] == "verbatim_marker = 42"


def test_prompt_version_3_messages_go_to_chat(http: httpx.Client) -> None:
    r = http.post("/v2/code/completions", json=v2_body(
        prompt_version=3, model_name="parrot",
        prompt=[{"role": "system", "content": "complete code"}, {"role": "user", "content": "ctx\nchat_marker()"}]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["choices"][0]["text"] == "chat_marker()"
    assert body["model"]["name"] == "parrot"
    assert body["model"]["lang"] == "ruby"


def test_prompt_version_mismatch_is_422(http: httpx.Client) -> None:
    r = http.post("/v2/code/completions", json=v2_body(prompt_version=2, prompt=[{"role": "user", "content": "x"}]))
    assert r.status_code == 422
    assert any(e["loc"][-1] == "prompt" for e in r.json()["detail"])


def test_empty_suggestion_is_200_with_no_choices(http: httpx.Client) -> None:
    r = http.post("/v2/code/completions", json=v2_body(model_name="mute"))
    assert r.status_code == 200
    assert r.json()["choices"] == []


def test_unknown_model_name_is_404_listing_configured(http: httpx.Client) -> None:
    r = http.post("/v2/code/completions", json=v2_body(model_name="codestral-2501"))
    assert r.status_code == 404
    assert r.json() == {"detail": "model 'codestral-2501' is not configured; "
                                  "configured models: chunky, coder, mute, parrot"}


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda b: b["current_file"].update(file_name="f" * 256), "file_name"),
    (lambda b: b["current_file"].update(content_above_cursor="x" * 100_001), "content_above_cursor"),
    (lambda b: b["current_file"].update(content_below_cursor="x" * 100_001), "content_below_cursor"),
    (lambda b: b["current_file"].pop("content_below_cursor"), "content_below_cursor"),
    (lambda b: b.update(project_path="p" * 256), "project_path"),
    (lambda b: b.update(context=[{"type": "file", "name": "a", "content": "x" * 500_001}]), "content"),
    (lambda b: b.update(context=[{"type": "file", "name": "a", "content": ""}] * 101), "context"),
    (lambda b: b.update(telemetry=[{"requests": 1, "accepts": 0, "errors": 0}] * 11), "telemetry"),
    (lambda b: b.update(prompt_version=4), "prompt_version"),
])
def test_v2_limits_are_422_naming_the_field(http: httpx.Client, mutate: Any, field: str) -> None:
    body = v2_body()
    mutate(body)
    r = http.post("/v2/code/completions", json=body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, list) and detail[0]["loc"][0] == "body"
    assert field in [str(p) for p in detail[0]["loc"]]
    assert len(r.text) < 2000


def test_limits_at_the_boundary_are_accepted(http: httpx.Client) -> None:
    body = v2_body(context=[{"type": "file", "name": "n" * 1024, "content": ""}] * 100)
    body["current_file"].update(file_name="  " + "f" * 252 + ".rb  ", content_above_cursor="x" * 100_000)
    r = http.post("/v2/code/completions", json=body)
    assert r.status_code == 200, r.text


def test_v2_raw_text_streaming(http: httpx.Client) -> None:
    with http.stream("POST", "/v2/code/completions", json=v2_body(model_name="chunky", stream=True)) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        pieces = list(r.iter_text())
    body = "".join(pieces)
    assert body == "alpha beta gamma"
    assert "data:" not in body


def test_generations_build_chat_from_prompt_and_file(http: httpx.Client) -> None:
    r = http.post("/v2/code/generations", json=v2_body(prompt_version=2, prompt="Write a greeting\nmake_greeting()"))
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["text"] == "make_greeting()"
    assert r.json()["model"]["name"] == "parrot"
    r = http.post("/v2/code/generations", json=v2_body(agent_id="code_suggestions/generations/base"))
    assert r.status_code == 200, r.text
    r = http.post("/v2/code/generations", json=v2_body(prompt_version=2))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][-1] == "prompt"


@pytest.mark.parametrize("field", ["prompt_id", "agent_id"])
def test_unknown_generation_prompt_id_is_a_404(http: httpx.Client, field: str) -> None:
    """An unknown prompt id was answered 200 by the generation template; GitLab's registry answers 404."""
    r = http.post("/v2/code/generations", json=v2_body(**{field: "nope/nope"}))
    assert r.status_code == 404, r.text
    assert r.json()["detail"].startswith("unknown prompt_id 'nope/nope'; known prompts: code_suggestions/generations")
    gen = {"type": "code_editor_generation", "payload": {
        "file_name": "a.py", "content_above_cursor": "", "content_below_cursor": "", field: "nope/nope"}}
    for path in ("/v3/code/completions", "/v4/code/suggestions"):
        assert http.post(path, json=v3_body(gen)).status_code == 404
    for known in ("code_suggestions/generations", "code_suggestions/generations/mistral", "write_tests"):
        assert http.post("/v2/code/generations", json=v2_body(**{field: known})).status_code == 200, known
    assert http.post("/v2/code/completions", json=v2_body(prompt_id="nope/nope")).status_code == 200


def test_model_provider_takes_only_the_contracts_values(http: httpx.Client) -> None:
    """Contract §3.1 / §4: v2 takes anthropic | vertex-ai | litellm | codestral | fireworks_ai, v3 / v4 only
    vertex-ai | anthropic; anything else is a 422 naming the field (it was accepted and ignored)."""
    for provider in ("anthropic", "vertex-ai", "litellm", "codestral", "fireworks_ai"):
        for path in ("/v2/code/completions", "/v2/code/generations"):
            assert http.post(path, json=v2_body(model_provider=provider)).status_code == 200, (path, provider)
    for path in ("/v2/code/completions", "/v2/completions", "/v2/code/generations"):
        r = http.post(path, json=v2_body(model_provider="bogus"))
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"] == ["body", "model_provider"]
    for path in ("/v3/code/completions", "/v4/code/suggestions"):
        for provider in ("vertex-ai", "anthropic"):
            assert http.post(path, json=v3_body(model_provider=provider)).status_code == 200, (path, provider)
        for provider in ("litellm", "bogus"):
            r = http.post(path, json=v3_body(model_provider=provider))
            assert r.status_code == 422, r.text
            assert r.json()["detail"][0]["loc"][-1] == "model_provider"


def test_agent_id_is_an_alias_of_prompt_id() -> None:
    body = GenerationRequest.model_validate(v2_body(agent_id="code_suggestions/generations/base"))
    assert body.prompt_id == "code_suggestions/generations/base"
    assert GenerationRequest.model_validate(v2_body(prompt_id="p")).prompt_id == "p"


def test_v3_completion_shape(http: httpx.Client) -> None:
    body = v3_body()
    body["prompt_components"].append({"type": "code_context", "payload": {"type": "file", "name": "b.rb",
                                                                           "content": "def other; end"}})
    r = http.post("/v3/code/completions", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["choices"] == [{"text": "puts 'hello world'", "index": 0, "finish_reason": "length"}]
    assert out["metadata"]["model"] == {"engine": "echo", "name": "coder", "lang": "ruby"}
    assert isinstance(out["metadata"]["timestamp"], int)


def test_v3_generation_component_and_limits(http: httpx.Client) -> None:
    gen = {"type": "code_editor_generation", "payload": {
        "file_name": "a.py", "content_above_cursor": "", "content_below_cursor": "",
        "prompt": "Instruction\ngen_marker()", "prompt_id": "code_suggestions/generations",
        "prompt_version": "^1.0.0"},
        "metadata": {"source": "ls", "version": "1"}}
    r = http.post("/v3/code/completions", json=v3_body(gen))
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["text"] == "gen_marker()"
    gen["payload"]["prompt"] = "x" * 400_001
    assert http.post("/v3/code/completions", json=v3_body(gen)).status_code == 422
    assert http.post("/v3/code/completions", json={"prompt_components": []}).status_code == 422
    too_many = v3_body()
    too_many["prompt_components"] += [{"type": "code_context", "payload": {"type": "f", "name": "n", "content": ""}}] * 100
    assert http.post("/v3/code/completions", json=too_many).status_code == 422


def test_v3_raw_text_streaming(http: httpx.Client) -> None:
    r = http.post("/v3/code/completions", json=v3_body(stream=True, model_name="chunky"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.text == "alpha beta gamma"


def test_v4_non_streaming_equals_v3(http: httpx.Client) -> None:
    r = http.post("/v4/code/suggestions", json=v3_body())
    assert r.status_code == 200
    assert r.json()["choices"][0]["text"] == "puts 'hello world'"
    assert r.json()["metadata"]["model"]["name"] == "coder"


def test_v4_sse_event_order_and_header(http: httpx.Client) -> None:
    with http.stream("POST", "/v4/code/suggestions", json=v3_body(stream=True, model_name="chunky")) as r:
        assert r.status_code == 200
        assert r.headers["x-streaming-format"] == "sse"
        assert r.headers["content-type"].startswith("text/event-stream")
        raw = r.read().decode()
    events = [block.split("\n") for block in raw.strip().split("\n\n")]
    assert all(lines[0].startswith("event: ") and lines[1].startswith("data: ") for lines in events)
    names = [lines[0].removeprefix("event: ") for lines in events]
    assert names[0] == "stream_start" and names[-1] == "stream_end"
    assert set(names[1:-1]) == {"content_chunk"} and len(names) >= 3
    start = json.loads(events[0][1].removeprefix("data: "))
    assert start["metadata"]["model"]["name"] == "chunky" and isinstance(start["metadata"]["timestamp"], int)
    text = "".join(json.loads(e[1].removeprefix("data: "))["choices"][0]["delta"]["content"] for e in events[1:-1])
    assert text == "alpha beta gamma"
    assert events[-1][1] == "data: null"


def test_malformed_json_is_422_naming_the_body(http: httpx.Client) -> None:
    r = http.post("/v2/code/completions", content=b'{"current_file": ', headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail[0]["loc"][0] == "body" and "malformed JSON" in detail[0]["msg"]


def test_monitoring(http: httpx.Client) -> None:
    assert http.get("/monitoring/healthz").json() == {"status": "ok"}
    r = http.get("/monitoring/ready")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ok", "models": {"coder": "ok", "parrot": "ok", "mute": "ok", "chunky": "ok"}}


def test_cors_allows_any_origin_for_post(http: httpx.Client) -> None:
    r = http.options("/v2/code/completions", headers={"Origin": "https://gitlab.example.com",
                                                      "Access-Control-Request-Method": "POST"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert "POST" in r.headers["access-control-allow-methods"]
    assert http.get("/openapi.json").json()["paths"]["/v4/code/suggestions"]


def test_prompt_version_3_streams_chat_as_raw_text(http: httpx.Client) -> None:
    r = http.post("/v2/code/completions", json=v2_body(
        prompt_version=3, model_name="chunky", stream=True, prompt=[{"role": "user", "content": "go"}]))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.text == "alpha beta gamma"
