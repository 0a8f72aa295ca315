"""An empty prompt on an engine whose tokenizer has no start-of-text token is a 422 naming the prompt, not an
engine crash (the character engine of ``test_inprocess`` has none)."""

from __future__ import annotations

import pytest

from assay.errors import RequestInvalid
from assay.types import EngineRequest, GenerateParams
from tests.unit.providers.test_inprocess import CharEngine


async def test_empty_prompt_without_a_start_token_is_request_invalid() -> None:
    engine = CharEngine()
    with pytest.raises(RequestInvalid, match="the prompt is empty and model 'chars' has no start-of-text token"):
        await engine.generate(EngineRequest(params=GenerateParams(max_tokens=3), prompt=""))
    assert engine.jobs == []
