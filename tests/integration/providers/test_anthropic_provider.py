"""The anthropic provider against a scripted Messages API server on a real socket.

The server is scripted (tests/integration/providers/scripted_upstreams.py): the real Anthropic API
cannot be reached from here. It speaks the documented event stream (message_start,
content_block_delta, message_delta, message_stop, error).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from assay.config import ModelConfig
from assay.errors import ProviderError, ProviderTimeout, RateLimited
from assay.providers.anthropic import AnthropicProvider
from assay.providers.fim_chat import extract_fim_answer, fim_chat_messages
from assay.providers.registry import create_provider
from assay.types import EngineRequest, FinishReason, GenerateParams
from tests.integration.providers.scripted_upstreams import ANTHROPIC_REPLY, Recorder

Upstream = tuple[str, Recorder]


def provider(base_url: str, model: str = "ok", **extra: Any) -> AnthropicProvider:
    p = create_provider(ModelConfig(name="claude", provider="anthropic", base_url=base_url, model=model, **extra))
    assert isinstance(p, AnthropicProvider)
    return p


def fim_request(**params: Any) -> EngineRequest:
    messages = fim_chat_messages("def add(a, b):\n    return ", "\n", "Python", "calc.py")
    return EngineRequest(params=GenerateParams(**params), messages=messages)


async def test_fim_as_chat_round_trip(anthropic_upstream: Upstream, monkeypatch: pytest.MonkeyPatch) -> None:
    url, rec = anthropic_upstream
    monkeypatch.setenv("ANTHROPIC_TEST_KEY", "sk-ant-test")
    p = provider(url, api_key_env="ANTHROPIC_TEST_KEY")
    assert p.spec.family == "generic"
    deltas = [d async for d in p.stream(fim_request(max_tokens=50, stop=("\n\n", "</COMPLETION>x")))]
    await p.close()
    text = "".join(d.text for d in deltas)
    assert text == ANTHROPIC_REPLY and extract_fim_answer(text) == "a + b"
    assert len(deltas) > 2 and deltas[-1].finish_reason is FinishReason.STOP
    assert deltas[-1].usage is not None
    assert (deltas[-1].usage.prompt_tokens, deltas[-1].usage.completion_tokens) == (20, 9)
    sent, headers = rec.requests[-1], rec.headers[-1]
    assert headers["x-api-key"] == "sk-ant-test" and headers["anthropic-version"] == "2023-06-01"
    assert sent["system"].startswith("You are a code completion engine")
    assert [m["role"] for m in sent["messages"]] == ["user"] and "<CURSOR>" in sent["messages"][0]["content"]
    assert sent["stream"] is True and sent["max_tokens"] == 50
    assert sent["stop_sequences"] == ["</COMPLETION>x"] and "top_p" not in sent


async def test_chat_spec_is_matched_from_claude_ids(anthropic_upstream: Upstream) -> None:
    assert provider(anthropic_upstream[0], model="claude-3-5-haiku-latest").spec.family == "chat"


async def test_base_url_with_v1_and_raw_prompt(anthropic_upstream: Upstream) -> None:
    url, rec = anthropic_upstream
    gen = await provider(f"{url}/v1").generate(EngineRequest(params=GenerateParams(), prompt="hello"))
    assert gen.choices[0].text == ANTHROPIC_REPLY
    assert rec.requests[-1]["messages"] == [{"role": "user", "content": "hello"}] and "system" not in rec.requests[-1]


async def test_n_choices_are_separate_requests(anthropic_upstream: Upstream) -> None:
    url, rec = anthropic_upstream
    before = len(rec.requests)
    gen = await provider(url, model="max").generate(fim_request(n=2))
    assert len(rec.requests) - before == 2
    assert [c.index for c in gen.choices] == [0, 1]
    assert all(c.finish_reason is FinishReason.LENGTH for c in gen.choices)
    assert gen.usage.prompt_tokens == 40


async def test_non_streaming_body_is_accepted(anthropic_upstream: Upstream) -> None:
    gen = await provider(anthropic_upstream[0], model="json").generate(fim_request())
    assert gen.choices[0].text == ANTHROPIC_REPLY and gen.usage.completion_tokens == 9


async def test_time_budget_ends_with_time(anthropic_upstream: Upstream) -> None:
    start = time.monotonic()
    gen = await provider(anthropic_upstream[0], model="trickle").generate(fim_request(time_budget_s=0.5))
    assert time.monotonic() - start < 1.5
    assert gen.choices[0].finish_reason is FinishReason.TIME and gen.choices[0].text


async def test_no_text_before_the_budget_is_a_504(anthropic_upstream: Upstream) -> None:
    """message_start and a ping, then nothing: the budget ends with no text, which is a 504, not an empty answer."""
    start = time.monotonic()
    with pytest.raises(ProviderTimeout, match=r"model 'claude': upstream .*/v1/messages answered but sent no text "
                                              r"within the time budget of 0.5 s"):
        await provider(anthropic_upstream[0], model="stall").generate(fim_request(time_budget_s=0.5, n=2))
    assert time.monotonic() - start < 2


async def test_slow_upstream_is_a_504(anthropic_upstream: Upstream) -> None:
    with pytest.raises(ProviderTimeout, match=r"/v1/messages did not answer within 0.3s"):
        await provider(anthropic_upstream[0], model="slow", timeout_s=0.3).generate(fim_request())


@pytest.mark.parametrize(
    ("model", "error", "pattern"),
    [
        ("529", ProviderError, r"answered HTTP 529: Overloaded"),
        ("error-event", ProviderError, r"upstream reported overloaded_error: Overloaded"),
        ("401", ProviderError, r"refused authentication \(HTTP 401\)"),
        ("429", RateLimited, r"HTTP 429"),
        ("garbage", ProviderError, r"unusable response"),
    ],
)
async def test_faults_map_to_assay_errors(anthropic_upstream: Upstream, model: str, error: type[Exception],
                                          pattern: str) -> None:
    with pytest.raises(error, match=pattern) as info:
        await provider(anthropic_upstream[0], model=model).generate(fim_request())
    assert type(info.value) is error
