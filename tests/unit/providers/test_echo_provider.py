"""The echo provider: scripted replies, chunking, delays against budgets, and injected failures."""

from __future__ import annotations

import time
from typing import Any

import pytest

from assay.config import ModelConfig
from assay.errors import ConfigError, ProviderError, ProviderTimeout, RateLimited
from assay.providers.echo import EchoProvider
from assay.providers.registry import create_provider
from assay.types import ChatMessage, EngineRequest, FinishReason, GenerateParams


def echo(timeout_s: float = 30.0, **options: Any) -> EchoProvider:
    provider = create_provider(ModelConfig(name="fake", provider="echo", timeout_s=timeout_s, options=options))
    assert isinstance(provider, EchoProvider)
    return provider


def req(prompt: str = "line one\nline two\n", **params: Any) -> EngineRequest:
    return EngineRequest(params=GenerateParams(**params), prompt=prompt)


async def test_echo_mode_returns_last_prompt_line() -> None:
    gen = await echo().generate(req())
    assert gen.choices[0].text == "line two"
    assert gen.choices[0].finish_reason is FinishReason.STOP
    assert gen.usage.prompt_tokens == 4 and gen.usage.completion_tokens == 2


async def test_echo_mode_on_chat_messages() -> None:
    request = EngineRequest(params=GenerateParams(), messages=(ChatMessage("user", "hi\nthere"),))
    assert (await echo().generate(request)).choices[0].text == "there"


async def test_reply_list_cycles_per_choice_and_call() -> None:
    provider = echo(reply=["a", "b", "c"])
    gen = await provider.generate(req(n=2))
    assert [c.text for c in gen.choices] == ["a", "b"]
    assert [c.index for c in gen.choices] == [0, 1]
    assert (await provider.generate(req())).choices[0].text == "c"


async def test_chunks_stream_in_order_and_usage_on_last() -> None:
    deltas = [d async for d in echo(reply="return a + b", chunk_size=4).stream(req())]
    assert [d.text for d in deltas] == ["retu", "rn a", " + b"]
    assert [d.finish_reason for d in deltas] == [None, None, FinishReason.STOP]
    assert deltas[-1].usage is not None and all(d.usage is None for d in deltas[:-1])


async def test_stop_sequence_cuts_reply() -> None:
    gen = await echo(reply="a + b\n\nprint(x)").generate(req(stop=("\n\n",)))
    assert gen.choices[0].text == "a + b"


async def test_delay_past_time_budget_finishes_with_time() -> None:
    start = time.monotonic()
    gen = await echo(reply="late", delay_s=5.0).generate(req(time_budget_s=0.05))
    assert time.monotonic() - start < 1.0
    assert gen.choices[0].text == "" and gen.choices[0].finish_reason is FinishReason.TIME


async def test_delay_past_timeout_raises_provider_timeout() -> None:
    start = time.monotonic()
    with pytest.raises(ProviderTimeout, match="within 0.05s"):
        await echo(timeout_s=0.05, reply="x", delay_s=5.0).generate(req())
    assert time.monotonic() - start < 1.0


@pytest.mark.parametrize(("status", "error", "code"), [(504, ProviderTimeout, 504), (429, RateLimited, 429),
                                                       (500, ProviderError, 502)])
async def test_fail_status_maps_to_error_tree(status: int, error: type[Exception], code: int) -> None:
    with pytest.raises(error) as info:
        await echo(fail_status=status).generate(req())
    assert type(info.value) is error and info.value.status_code == code


def test_bad_option_is_refused_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"model 'fake': options\.chunk_size"):
        echo(chunk_size=0)
    with pytest.raises(ConfigError, match=r"options\.replies"):
        echo(replies=["x"])
