"""The openai provider against a real second assay gateway (uvicorn on a real socket, echo models behind it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from assay.config import ModelConfig
from assay.errors import ProviderError
from assay.providers.registry import create_provider
from assay.types import ChatMessage, EngineRequest, FinishReason, GenerateParams
from tests.support.live_server import live_server

UPSTREAM_MODELS = [
    {"name": "up", "provider": "echo", "spec": "starcoder", "options": {"reply": "return a + b", "chunk_size": 3}},
    {"name": "broken", "provider": "echo", "spec": "starcoder", "options": {"fail_status": 500}},
]


@pytest.fixture(scope="module")
def second_gateway() -> Iterator[str]:
    with live_server({"models": UPSTREAM_MODELS}) as server:
        yield f"{server.url}/v1"


def via(base_url: str, model: str) -> Any:
    return create_provider(ModelConfig(name="via", provider="openai", base_url=base_url, model=model, spec="starcoder"))


async def test_fim_prompt_streams_through_second_gateway(second_gateway: str) -> None:
    provider = via(second_gateway, "up")
    request = EngineRequest(params=GenerateParams(max_tokens=16), prompt="def add(a, b):\n    ")
    deltas = [d async for d in provider.stream(request)]
    await provider.close()
    assert "".join(d.text for d in deltas) == "return a + b"
    assert len(deltas) > 2 and deltas[-1].finish_reason is FinishReason.STOP
    assert deltas[-1].usage is not None and deltas[-1].usage.completion_tokens > 0


async def test_chat_through_second_gateway(second_gateway: str) -> None:
    gen = await via(second_gateway, "up").generate(
        EngineRequest(params=GenerateParams(max_tokens=16), messages=(ChatMessage("user", "hi"),)))
    assert gen.choices[0].text == "return a + b"


async def test_second_gateway_failure_is_a_502_naming_its_status(second_gateway: str) -> None:
    with pytest.raises(ProviderError, match=r"answered HTTP 5\d\d") as info:
        await via(second_gateway, "broken").generate(EngineRequest(params=GenerateParams(), prompt="x"))
    assert info.value.status_code == 502 and "\n" not in info.value.message
