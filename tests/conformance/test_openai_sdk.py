"""The official ``openai`` SDK, unchanged, against a running assay server (real uvicorn, real socket).

Models are echo providers (deterministic, no weights) behind the real Engine and pipeline.
"""

from __future__ import annotations

import openai
import pytest

from tests.support.live_server import LiveServer

SETTINGS = {
    "models": [
        {"name": "coder", "provider": "echo", "spec": "assay-nano", "options": {"reply": "return a + b"}},
        {"name": "parrot", "provider": "echo", "spec": "assay-nano", "options": {"mode": "echo"}},
        {"name": "chunky", "provider": "echo", "spec": "assay-nano",
         "options": {"reply": "hello streaming world", "chunk_size": 4}},
    ],
    "features": {"code_completions": "coder", "chat": "parrot"},
}
"""What the ``server`` fixture (tests/conformance/conftest.py) serves to this module."""


@pytest.fixture(scope="module")
def client(server: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0, timeout=20)


def test_models_list_names_every_configured_model(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert ids == ["coder", "parrot", "chunky"]
    assert client.models.retrieve("parrot").id == "parrot"


def test_completion_with_suffix_fills_the_middle(client: openai.OpenAI) -> None:
    raw = client.completions.with_raw_response.create(model="coder", prompt="def add(a, b):\n    ",
                                                      suffix="\n\nprint(add(1, 2))\n", max_tokens=16)
    result = raw.parse()
    assert result.object == "text_completion"
    assert result.model == "coder"
    assert result.choices[0].text == "return a + b"
    assert result.choices[0].finish_reason in ("stop", "length")
    assert result.usage is not None and result.usage.total_tokens >= result.usage.completion_tokens
    assert result.id.endswith(raw.headers["x-assay-trace-id"])


def test_plain_prompt_is_sent_verbatim(client: openai.OpenAI) -> None:
    result = client.completions.create(model="parrot", prompt="first line\nsecond line", max_tokens=8)
    assert result.choices[0].text == "second line"


def test_stop_n_and_list_prompt(client: openai.OpenAI) -> None:
    result = client.completions.create(model="coder", prompt=["x = "], stop=[" +"], n=2, max_tokens=8)
    assert [c.text for c in result.choices] == ["return a", "return a"]
    assert [c.index for c in result.choices] == [0, 1]


def test_streaming_completion_arrives_in_chunks_and_ends(client: openai.OpenAI) -> None:
    stream = client.completions.create(model="chunky", prompt="say", stream=True, max_tokens=16,
                                       stream_options={"include_usage": True})
    events = list(stream)
    text = "".join(c.text for e in events for c in e.choices)
    assert text == "hello streaming world"
    assert len([e for e in events if e.choices and e.choices[0].text]) >= 2
    finals = [c.finish_reason for e in events for c in e.choices if c.finish_reason]
    assert finals and finals[-1] in ("stop", "length")
    assert events[-1].usage is not None


def test_chat_completion(client: openai.OpenAI) -> None:
    result = client.chat.completions.create(model="parrot", messages=[
        {"role": "system", "content": "be brief"}, {"role": "user", "content": "ping\npong"}])
    assert result.object == "chat.completion"
    assert result.choices[0].message.role == "assistant"
    assert result.choices[0].message.content == "pong"
    assert result.choices[0].finish_reason == "stop"


def test_chat_streaming(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="chunky", stream=True,
                                            messages=[{"role": "user", "content": "hi"}])
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "hello streaming world"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_unknown_model_raises_not_found_listing_models(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.completions.create(model="gpt-4o", prompt="x")
    assert "chunky, coder, parrot" in info.value.message
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nope")


def test_schema_violation_raises_unprocessable_naming_the_field(client: openai.OpenAI) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as info:
        client.completions.create(model="coder", prompt="x", temperature=7)
    assert "temperature" in info.value.message
    assert info.value.body["param"] == "temperature"
    with pytest.raises(openai.UnprocessableEntityError) as info:
        client.chat.completions.create(model="parrot", messages=[])
    assert "messages" in info.value.message
    with pytest.raises(openai.UnprocessableEntityError) as info:
        client.completions.create(model="coder", prompt=["a", "b"])
    assert "prompt" in info.value.message


@pytest.mark.parametrize(("field", "value"), [("echo", True), ("logprobs", 0), ("logprobs", 5), ("best_of", 3)])
def test_unsupported_completion_fields_are_refused_not_ignored(client: openai.OpenAI, field: str,
                                                               value: object) -> None:
    """QA: ``echo``, ``logprobs`` and ``best_of`` were accepted and silently ignored, so a client got an answer
    lacking what it asked for. They are refused with 422 naming the field, streaming or not."""
    for stream in (False, True):
        with pytest.raises(openai.UnprocessableEntityError) as info:
            client.completions.create(model="coder", prompt="x = ", max_tokens=8, stream=stream, **{field: value})
        assert info.value.body["param"] == field
        assert info.value.body["message"].startswith(f"{field}: not supported (got ")


def test_harmless_values_of_those_fields_still_work(client: openai.OpenAI) -> None:
    """The values that ask for nothing extra (OpenAI's defaults, best_of equal to n) are served as before."""
    result = client.completions.create(model="coder", prompt="x = ", max_tokens=8, echo=False, logprobs=None,
                                       best_of=2, n=2)
    assert [c.text for c in result.choices] == ["return a + b", "return a + b"]
    chat = client.chat.completions.create(model="parrot", messages=[{"role": "user", "content": "hi"}], logprobs=False)
    assert chat.choices[0].message.content == "hi"


def test_chat_logprobs_are_refused_not_ignored(client: openai.OpenAI) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as info:
        client.chat.completions.create(model="parrot", messages=[{"role": "user", "content": "hi"}], logprobs=True,
                                       top_logprobs=2)
    assert info.value.body["param"] == "logprobs"
