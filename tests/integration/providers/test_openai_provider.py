"""The openai provider against a scripted OpenAI-wire upstream on a real socket.

The upstream is scripted (tests/integration/providers/scripted_upstreams.py) because the real assay
gateway is being written in parallel; the integrator adds a test against a second ``assay serve``.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from assay.config import ModelConfig
from assay.errors import ConfigError, ProviderError, ProviderTimeout, RateLimited
from assay.providers.openai_compat import OpenAIProvider
from assay.providers.registry import create_provider
from assay.types import ChatMessage, EngineRequest, FinishReason, GenerateParams
from tests.integration.providers.scripted_upstreams import REPLY, Recorder, silent_listener

Upstream = tuple[str, Recorder]


def provider(base_url: str, model: str = "ok", **extra: Any) -> OpenAIProvider:
    p = create_provider(ModelConfig(name="remote", provider="openai", base_url=base_url, model=model, **extra))
    assert isinstance(p, OpenAIProvider)
    return p


def req(prompt: str = "<fim_prefix>def add(a, b):\n    <fim_suffix>\n<fim_middle>", **params: Any) -> EngineRequest:
    return EngineRequest(params=GenerateParams(**params), prompt=prompt)


async def test_completion_streams_and_reports_usage(openai_upstream: Upstream, monkeypatch: pytest.MonkeyPatch) -> None:
    url, rec = openai_upstream
    monkeypatch.setenv("UPSTREAM_KEY", "sk-test")
    p = provider(url, api_key_env="UPSTREAM_KEY")
    deltas = [d async for d in p.stream(req(max_tokens=20, stop=("<|endoftext|>",), seed=5))]
    await p.close()
    assert "".join(d.text for d in deltas) == REPLY
    assert len(deltas) > 2
    assert deltas[-1].finish_reason is FinishReason.STOP
    assert deltas[-1].usage is not None and deltas[-1].usage.prompt_tokens == 11
    sent = rec.requests[-1]
    assert sent["prompt"].startswith("<fim_prefix>") and sent["stream"] is True and sent["stop"] == ["<|endoftext|>"]
    assert sent["max_tokens"] == 20 and sent["seed"] == 5 and sent["stream_options"] == {"include_usage": True}
    assert rec.headers[-1]["authorization"] == "Bearer sk-test"


async def test_stop_is_enforced_here_when_upstream_ignores_it(openai_upstream: Upstream) -> None:
    url, _ = openai_upstream
    gen = await provider(url, options={"max_upstream_stops": 0}).generate(req(stop=("\n\n",)))
    assert gen.choices[0].text == "return a + b"
    assert gen.choices[0].finish_reason is FinishReason.STOP


async def test_n_choices_and_length_reason(openai_upstream: Upstream) -> None:
    url, rec = openai_upstream
    gen = await provider(url, model="long").generate(req(n=2))
    assert [c.text for c in gen.choices] == [REPLY, f"{REPLY} #1"]
    assert all(c.finish_reason is FinishReason.LENGTH for c in gen.choices)
    assert rec.requests[-1]["n"] == 2


async def test_chat_goes_to_chat_completions(openai_upstream: Upstream) -> None:
    url, rec = openai_upstream
    messages = (ChatMessage("system", "be brief"), ChatMessage("user", "add"))
    gen = await provider(url).generate(EngineRequest(params=GenerateParams(max_tokens=30), messages=messages))
    assert gen.choices[0].text == REPLY
    assert rec.requests[-1]["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "add"}]


async def test_plain_json_answer_is_accepted(openai_upstream: Upstream) -> None:
    url, _ = openai_upstream
    gen = await provider(url, model="json").generate(req())
    assert gen.choices[0].text == REPLY and gen.usage.completion_tokens == 7


async def test_time_budget_ends_reading_with_time(openai_upstream: Upstream) -> None:
    url, _ = openai_upstream
    start = time.monotonic()
    gen = await provider(url, model="trickle").generate(req(time_budget_s=0.5))
    assert time.monotonic() - start < 1.5
    assert gen.choices[0].finish_reason is FinishReason.TIME
    assert 0 < len(gen.choices[0].text) < len(REPLY) * 20


async def test_hung_upstream_is_a_504_within_the_budget_not_an_empty_answer() -> None:
    """QA: a listener that accepts and never answers gave an empty ``length`` answer after the budget; a dead
    backend must not look like "the model had nothing to suggest"."""
    with silent_listener() as url:
        start = time.monotonic()
        with pytest.raises(ProviderTimeout, match=r"model 'remote': upstream http://127.0.0.1:\d+/v1/completions "
                                                  r"sent nothing within the time budget of 0.5 s") as info:
            await provider(f"{url}/v1").generate(req(time_budget_s=0.5))
    assert time.monotonic() - start < 2
    assert info.value.status_code == 504


@pytest.mark.parametrize(("chat", "what"), [(False, "sent nothing"), (True, "answered but sent no text")])
async def test_headers_then_silence_is_a_504(openai_upstream: Upstream, chat: bool, what: str) -> None:
    """Response headers (and on chat the role chunk) but no token before the budget ran out: still a 504."""
    request = (EngineRequest(params=GenerateParams(time_budget_s=0.5), messages=(ChatMessage("user", "add"),))
               if chat else req(time_budget_s=0.5))
    with pytest.raises(ProviderTimeout, match=f"{what} within the time budget of 0.5 s"):
        await provider(openai_upstream[0], model="stall").generate(request)


async def test_slow_upstream_is_a_504(openai_upstream: Upstream) -> None:
    url, _ = openai_upstream
    start = time.monotonic()
    with pytest.raises(ProviderTimeout, match=r"model 'remote': upstream .*/v1/completions did not answer within 0.3s"):
        await provider(url, model="slow", timeout_s=0.3).generate(req())
    assert time.monotonic() - start < 1.5


@pytest.mark.parametrize(
    ("model", "error", "pattern"),
    [
        ("500", ProviderError, r"answered HTTP 500: CUDA out of memory"),
        ("garbage", ProviderError, r"unusable response: not JSON"),
        ("html", ProviderError, r"unusable response \(content-type 'text/html'\)"),
        ("401", ProviderError, r"refused authentication \(HTTP 401\)"),
        ("429", RateLimited, r"rate-limiting requests \(HTTP 429\)"),
        ("midway-error", ProviderError, r"upstream reported an error: upstream fell over"),
    ],
)
async def test_faults_map_to_assay_errors(openai_upstream: Upstream, model: str, error: type[Exception],
                                          pattern: str) -> None:
    with pytest.raises(error, match=pattern) as info:
        await provider(openai_upstream[0], model=model).generate(req())
    assert type(info.value) is error and "\n" not in str(info.value)
    if model == "429":
        assert info.value.retry_after_s == 3.0  # type: ignore[attr-defined]
    if model in ("500", "garbage", "html", "401"):
        assert info.value.status_code == 502  # type: ignore[attr-defined]


async def test_connection_refused_is_a_502() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ProviderError, match=r"cannot reach upstream http://127.0.0.1:\d+/v1/completions") as info:
        await provider(f"http://127.0.0.1:{port}/v1").generate(req())
    assert info.value.status_code == 502


async def test_tokenizer_option_counts_when_upstream_reports_nothing(openai_upstream: Upstream, tiny_model_dir) -> None:
    url, _ = openai_upstream
    p = provider(url, tokenizer=str(tiny_model_dir), options={"stream_usage": False})
    assert p.tokenizer() is None
    await p.start()
    tok = p.tokenizer()
    assert tok is not None and "<fim_prefix>" in (p.special_tokens() or set())
    gen = await p.generate(req(stop=("\n\n",)))
    assert gen.usage.prompt_tokens == len(tok.encode(req().prompt or ""))
    assert gen.usage.completion_tokens == len(tok.encode("return a + b"))


def test_missing_base_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="needs base_url"):
        create_provider(ModelConfig(name="remote", provider="openai", model="x"))
