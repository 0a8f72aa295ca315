"""Checks every in-process provider (``local``, ``ctranslate2``, ``llamacpp``) must pass, on the tiny model."""

from __future__ import annotations

from typing import Any

from assay.providers.base import Provider
from assay.types import EngineRequest, GenerateParams

FIM = "<fim_prefix>def add(a, b):\n    return <fim_suffix>\n\nprint(add(1, 2))\n<fim_middle>"


def req(prompt: str = FIM, **params: Any) -> EngineRequest:
    return EngineRequest(params=GenerateParams(**params), prompt=prompt)


async def assert_stream_equals_generate(provider: Provider, *param_sets: dict[str, Any]) -> None:
    """For each parameter set, the streamed deltas (more than one) join to the non-streamed text, and only
    the last carries the finish reason and the usage, equal to the non-streamed ones."""
    for params in param_sets:
        whole = await provider.generate(req(**params))
        deltas = [d async for d in provider.stream(req(**params))]
        assert "".join(d.text for d in deltas) == whole.choices[0].text
        assert deltas[-1].finish_reason is whole.choices[0].finish_reason
        assert deltas[-1].usage is not None and deltas[-1].usage.completion_tokens == whole.usage.completion_tokens
        assert all(d.finish_reason is None for d in deltas[:-1])
        assert len(deltas) > 1


async def assert_seeded_choices_repeat(provider: Provider) -> None:
    """``n=2`` sampled choices with a seed: indexed 0 and 1, different from each other, the same again."""
    params = {"max_tokens": 12, "temperature": 1.0, "seed": 3, "n": 2}
    first = await provider.generate(req(prompt="def ", **params))
    again = await provider.generate(req(prompt="def ", **params))
    assert [c.index for c in first.choices] == [0, 1]
    assert [c.text for c in first.choices] == [c.text for c in again.choices]
    assert first.choices[0].text != first.choices[1].text
    assert 2 <= first.usage.completion_tokens <= 24
