"""The ``llamacpp`` provider on a real GGUF: the tiny test model (untied, seeded output head so greedy
decoding says something) exported with ``assay export``'s GGUF writer, loaded by real llama.cpp
(llama-cpp-python), compared with the ``local`` provider (transformers) on the same weights.

llama-cpp-python is a test dependency (``pip install --find-links wheels -e ".[test]"``): without it these fail.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import time
from pathlib import Path

import pytest

from assay.config import ModelConfig
from assay.errors import ConfigError, RequestInvalid
from assay.providers.checks import check_provider_spec
from assay.providers.llamacpp import LlamaCppProvider
from assay.providers.local import LocalProvider
from assay.providers.registry import create_provider
from assay.train.export import export_gguf
from assay.types import ChatMessage, EngineRequest, FinishReason, GenerateParams, Generation
from tests.integration.providers.inprocess_contract import (
    FIM,
    assert_seeded_choices_repeat,
    assert_stream_equals_generate,
    req,
)
from tests.integration.server.test_duo_health import talkative_model

PROMPTS = ["def hello_world():\n", "class Greeter:\n    def __init__(self, name):\n", FIM, "import os\nimport"]


@pytest.fixture(scope="module")
def model_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return talkative_model(tiny_model_dir, tmp_path_factory.mktemp("llamacpp") / "tiny")


@pytest.fixture(scope="module")
def gguf_file(model_dir: Path) -> Path:
    out = model_dir.parent / "tiny-f32.gguf"
    export_gguf(str(model_dir), out, "f32", spec="assay-nano")
    return out


def gguf_config(path: Path | str) -> ModelConfig:
    return ModelConfig(name="tiny-gguf", provider="llamacpp", path=str(path), spec="assay-nano", options={"threads": 1})


@pytest.fixture
async def gguf(gguf_file: Path) -> LlamaCppProvider:
    provider = create_provider(gguf_config(gguf_file))
    assert isinstance(provider, LlamaCppProvider)
    await provider.start()
    return provider


@pytest.fixture(scope="module")
def local_answers(model_dir: Path) -> dict[tuple[str, float, str], Generation]:
    """The ``local`` provider's greedy answers for PROMPTS (plain and with repetition penalty 1.3) and a healed prefix."""
    async def run() -> dict[tuple[str, float, str], Generation]:
        local = create_provider(ModelConfig(name="tiny", provider="local", path=str(model_dir), spec="assay-nano",
                                            device="cpu"))
        assert isinstance(local, LocalProvider)
        await local.start()
        found = {}
        for prompt in PROMPTS:
            for penalty in (1.0, 1.3):
                found[prompt, penalty, ""] = await local.generate(req(prompt, max_tokens=16, repetition_penalty=penalty))
        split = local.heal_split("def hello_wor")
        assert split is not None and split.removed
        found[split.kept, 1.0, split.removed] = await local.generate(
            EngineRequest(params=GenerateParams(max_tokens=8), prompt=split.kept, healed=split.removed))
        return found

    return asyncio.run(run())


async def test_greedy_text_and_usage_equal_the_local_provider(gguf: LlamaCppProvider,
                                                                local_answers: dict[tuple[str, float, str], Generation]) -> None:
    said = 0
    for (prompt, penalty, healed), expected in local_answers.items():
        request = EngineRequest(params=GenerateParams(max_tokens=16 if not healed else 8, repetition_penalty=penalty),
                                prompt=prompt, healed=healed)
        got = await gguf.generate(request)
        assert got.choices[0].text == expected.choices[0].text, (prompt, penalty, healed)
        assert got.choices[0].finish_reason is expected.choices[0].finish_reason
        assert got.usage == expected.usage
        said += bool(got.choices[0].text.strip())
    assert said >= len(local_answers) - 1, "the talkative model should answer nearly every prompt"


async def test_token_healing_split_matches_the_local_tokenizer(gguf: LlamaCppProvider, model_dir: Path) -> None:
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(model_dir)
    tok = gguf.tokenizer()
    assert tok is not None
    for text in PROMPTS:
        assert tok.encode(text) == hf.encode(text, add_special_tokens=False)
        assert tok.decode(tok.encode(text)) == text
    split = gguf.heal_split("def hello_wor")
    assert split is not None and split.kept + split.removed == "def hello_wor" and split.removed


async def test_streaming_concatenates_to_non_streaming(gguf: LlamaCppProvider) -> None:
    await assert_stream_equals_generate(gguf, {"max_tokens": 16},
                                        {"max_tokens": 16, "temperature": 0.9, "top_p": 0.95, "seed": 7})


async def test_stop_sequence_is_trimmed(gguf: LlamaCppProvider) -> None:
    free = (await gguf.generate(req(prompt="def hello", max_tokens=24))).choices[0].text
    assert len(free) >= 6, free
    stop = free[3:6]
    gen = await gguf.generate(req(prompt="def hello", max_tokens=24, stop=(stop,)))
    assert gen.choices[0].text == free[: free.index(stop)]
    assert gen.choices[0].finish_reason is FinishReason.STOP
    assert gen.usage.completion_tokens < 24


async def test_max_tokens_and_time_budget(gguf: LlamaCppProvider) -> None:
    gen = await gguf.generate(req(max_tokens=7))
    assert gen.usage.completion_tokens == 7 and gen.choices[0].finish_reason is FinishReason.LENGTH
    timed = await gguf.generate(req(max_tokens=200, time_budget_s=0.0))
    assert timed.choices[0].finish_reason is FinishReason.TIME
    assert timed.usage.completion_tokens == 1


async def test_n_choices_with_seed_are_repeatable(gguf: LlamaCppProvider) -> None:
    await assert_seeded_choices_repeat(gguf)


async def test_closing_a_stream_early_frees_the_model(gguf: LlamaCppProvider) -> None:
    stream = gguf.stream(req(max_tokens=400))
    async for _ in stream:
        break
    started = time.monotonic()
    await stream.aclose()
    assert time.monotonic() - started < 2.0
    assert not gguf._lock.locked()
    gen = await gguf.generate(req(max_tokens=2))
    assert gen.usage.completion_tokens == 2


async def test_chat_prompt_and_too_long_prompt(gguf: LlamaCppProvider) -> None:
    tok = gguf.tokenizer()
    assert tok is not None
    messages = (ChatMessage("system", "Be brief."), ChatMessage("user", "Say hi"))
    gen = await gguf.generate(EngineRequest(params=GenerateParams(max_tokens=4), messages=messages))
    assert gen.usage.prompt_tokens == len(tok.encode("System: Be brief.\n\nUser: Say hi\n\nAssistant:"))
    with pytest.raises(RequestInvalid, match="model 'tiny-gguf' takes at most 1023"):
        await gguf.generate(req(prompt="x = 1\n" * 2000, max_tokens=2))


async def test_a_chat_template_in_the_file_renders_chat_as_transformers_does(model_dir: Path) -> None:
    templated = model_dir.parent / "templated"
    shutil.copytree(model_dir, templated)
    tokenizer_config = json.loads((templated / "tokenizer_config.json").read_text())
    tokenizer_config["chat_template"] = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
                                         "{% if add_generation_prompt %}<|assistant|>{% endif %}")
    (templated / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    export_gguf(str(templated), templated / "chat.gguf", "f32", spec="assay-nano")
    gguf = create_provider(gguf_config(templated / "chat.gguf"))
    local = create_provider(ModelConfig(name="t", provider="local", path=str(templated), spec="assay-nano", device="cpu"))
    request = EngineRequest(params=GenerateParams(max_tokens=8), messages=(ChatMessage("user", "Say hi"),))
    got, expected = await gguf.generate(request), await local.generate(request)
    assert got.choices[0].text == expected.choices[0].text
    assert got.usage == expected.usage
    tok = gguf.tokenizer()
    assert tok is not None and got.usage.prompt_tokens == len(tok.encode("<|user|>Say hi\n<|assistant|>"))


async def test_special_tokens_come_from_the_gguf_vocabulary(gguf: LlamaCppProvider) -> None:
    special = gguf.special_tokens()
    assert special is not None
    assert {"<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>", "<|endoftext|>"} <= special
    assert "def" not in special
    check_provider_spec(gguf)


async def test_missing_or_non_gguf_file_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ConfigError, match=f"model 'tiny-gguf': GGUF file '{missing}' does not exist"):
        await create_provider(gguf_config(missing)).start()
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(ConfigError, match="is not a GGUF file"):
        await create_provider(gguf_config(fake)).start()
    with pytest.raises(ConfigError, match="provider llamacpp needs path"):
        await create_provider(ModelConfig(name="tiny-gguf", provider="llamacpp", spec="assay-nano")).start()


async def test_missing_llama_cpp_python_is_a_config_error(gguf_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Mocked: llama-cpp-python is installed here, so its absence is simulated by blocking its import."""
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    with pytest.raises(ConfigError, match=r"needs llama-cpp-python; install it with pip install --find-links wheels"):
        await create_provider(gguf_config(gguf_file)).start()
