"""The FIM probe, driven by the echo provider with scripted answers (no model needed)."""

from __future__ import annotations

import json
from typing import Any

from assay.config import ModelConfig
from assay.providers.probe import CASES, check_answer, probe
from assay.providers.registry import create_provider


def echo(**options: Any) -> Any:
    return create_provider(ModelConfig(name="fake", provider="echo", spec="starcoder", options=options))


async def test_correct_middles_pass() -> None:
    result = await probe(echo(reply=["a + b", "values"]))
    assert result.fills_middle and result.verdict == "fills the middle (2/2 cases)"
    assert [c.name for c in result.cases] == ["add", "connect"]
    assert result.cases[0].prompt.startswith("<fim_prefix>def add(a, b):") and result.cases[0].prompt.endswith("<fim_middle>")
    assert result.family == "starcoder" and result.mode == "psm"
    assert json.loads(json.dumps(result.as_dict()))["cases"][0]["passed"] is True


async def test_ignoring_the_suffix_fails_connect_case() -> None:
    result = await probe(echo(reply=["a + b", "values)"]))
    assert not result.fills_middle
    assert result.cases[1].checks["consistent_with_suffix"] is False
    assert "connect: consistent_with_suffix" in result.verdict


async def test_leaked_tokens_and_empty_answers_fail() -> None:
    result = await probe(echo(reply=["a + b<fim_middle>", ""]))
    assert result.cases[0].checks["no_leaked_tokens"] is False
    assert result.cases[1].checks["non_empty"] is False
    assert result.verdict.startswith("does not fill the middle (0/2")


async def test_provider_errors_are_reported_not_raised() -> None:
    result = await probe(echo(fail_status=502))
    assert not result.fills_middle and result.verdict.startswith("could not probe: add: model 'fake'")
    assert result.cases[0].error is not None


async def test_chat_models_are_probed_through_fim_as_chat() -> None:
    provider = create_provider(ModelConfig(name="claude", provider="echo", spec="chat",
                                           options={"reply": ["<COMPLETION>a + b</COMPLETION>", "```python\nvalues\n```"]}))
    result = await probe(provider)
    assert result.mode == "chat" and result.fills_middle, result.verdict
    assert "<CURSOR>" in result.cases[0].prompt and result.cases[1].answer == "values"


def test_repeating_the_suffix_is_caught() -> None:
    checks = check_answer(CASES[1], ", reverse=True)", [])
    assert checks["not_suffix"] is False
