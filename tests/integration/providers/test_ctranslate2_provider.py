"""The ctranslate2 provider on tiny real models (random weights, real tokenizer, real conversion, real decoding),
checked against the local (transformers) provider on the same directory."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from assay.config import ModelConfig
from assay.errors import ConfigError, RequestInvalid
from assay.providers.checks import check_provider_spec
from assay.providers.ctranslate2 import CTranslate2Provider
from assay.providers.local import LocalProvider
from assay.providers.registry import create_provider
from assay.types import FinishReason
from tests.integration.providers.inprocess_contract import FIM, assert_stream_equals_generate, req
from tests.integration.server.test_duo_health import talkative_model

PROMPTS = (FIM, "def hello", "class Greeter:\n    def __init__(self, name):\n", "<fim_prefix>import os\n<fim_suffix><fim_middle>")


@pytest.fixture(scope="module")
def talkative_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with an untied output head, so greedy decoding says varied things (see test_duo_health)."""
    return talkative_model(tiny_model_dir, tmp_path_factory.mktemp("ct2") / "tiny")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ct2-cache")


def make(kind: str, path: Path | str, cache: Path, **options: Any) -> Any:
    opts = {"cache_dir": str(cache), **options} if kind == "ctranslate2" else {}
    return create_provider(ModelConfig(name=kind, provider=kind, path=str(path), spec="assay-nano", device="cpu",
                                       options=opts))


@pytest.fixture(scope="module")
def pair(talkative_dir: Path, cache_dir: Path) -> tuple[LocalProvider, CTranslate2Provider]:
    """Both providers on the talkative tiny model, loaded once for the module."""
    local, fast = make("local", talkative_dir, cache_dir), make("ctranslate2", talkative_dir, cache_dir)
    asyncio.run(local.start())
    asyncio.run(fast.start())
    return local, fast


async def text(provider: Any, prompt: str, **params: Any) -> str:
    return (await provider.generate(req(prompt, **params))).choices[0].text


@pytest.mark.parametrize("prompt", PROMPTS)
async def test_greedy_output_equals_the_local_providers(pair: tuple[LocalProvider, CTranslate2Provider],
                                                        prompt: str) -> None:
    local, fast = pair
    want, got = await local.generate(req(prompt, max_tokens=24)), await fast.generate(req(prompt, max_tokens=24))
    assert got.choices[0].text == want.choices[0].text
    assert len(got.choices[0].text) > 10
    assert got.usage == want.usage
    assert got.choices[0].finish_reason is want.choices[0].finish_reason


async def test_penalize_prompt_gives_the_local_providers_text_under_a_repetition_penalty(
        pair: tuple[LocalProvider, CTranslate2Provider], talkative_dir: Path, cache_dir: Path) -> None:
    local, fast = pair
    exact = make("ctranslate2", talkative_dir, cache_dir, penalize_prompt=True)
    await exact.start()
    params = {"max_tokens": 32, "repetition_penalty": 1.3}
    for prompt in PROMPTS:
        assert await text(exact, prompt, **params) == await text(local, prompt, **params)
    assert await text(local, FIM, max_tokens=32) != await text(local, FIM, **params)


async def test_streaming_concatenates_to_non_streaming(pair: tuple[LocalProvider, CTranslate2Provider]) -> None:
    await assert_stream_equals_generate(pair[1], {"max_tokens": 16}, {"max_tokens": 16, "repetition_penalty": 1.3})


async def test_max_tokens_is_respected(pair: tuple[LocalProvider, CTranslate2Provider]) -> None:
    _, fast = pair
    gen = await fast.generate(req(max_tokens=7))
    assert gen.choices[0].finish_reason is FinishReason.LENGTH
    assert gen.usage.completion_tokens == 7


async def test_stop_sequence_is_trimmed(pair: tuple[LocalProvider, CTranslate2Provider]) -> None:
    _, fast = pair
    free = (await fast.generate(req(prompt="def hello", max_tokens=24))).choices[0].text
    stop = free[6:9]
    gen = await fast.generate(req(prompt="def hello", max_tokens=24, stop=(stop,)))
    assert gen.choices[0].text == free[: free.index(stop)]
    assert gen.choices[0].finish_reason is FinishReason.STOP
    assert gen.usage.completion_tokens < 24


async def test_end_of_text_ends_the_choice_and_is_not_text(tiny_model_dir: Path, cache_dir: Path) -> None:
    """The plain tiny model (tied embeddings) repeats the prompt's last token, so ending on it is the eos."""
    fast = make("ctranslate2", tiny_model_dir, cache_dir)
    gen = await fast.generate(req(prompt="def f():<|endoftext|>", max_tokens=10))
    assert gen.choices[0].finish_reason is FinishReason.STOP
    assert gen.choices[0].text == "" and gen.usage.completion_tokens == 1


async def test_tiny_time_budget_stops_early_with_time(pair: tuple[LocalProvider, CTranslate2Provider]) -> None:
    _, fast = pair
    gen = await fast.generate(req(max_tokens=200, time_budget_s=0.0))
    assert gen.choices[0].finish_reason is FinishReason.TIME
    assert gen.usage.completion_tokens == 1


async def test_n_sampled_choices(pair: tuple[LocalProvider, CTranslate2Provider]) -> None:
    _, fast = pair
    gen = await fast.generate(req(prompt="def ", max_tokens=12, temperature=1.0, top_p=0.95, n=2))
    assert [c.index for c in gen.choices] == [0, 1]
    assert gen.choices[0].text != gen.choices[1].text
    assert gen.usage.completion_tokens == 24


async def test_closing_a_stream_early_frees_the_model(pair: tuple[LocalProvider, CTranslate2Provider]) -> None:
    _, fast = pair
    stream = fast.stream(req(max_tokens=400))
    async for _ in stream:
        break
    await stream.aclose()
    assert (await fast.generate(req(max_tokens=2))).usage.completion_tokens == 2


async def test_too_long_prompt_is_refused(pair: tuple[LocalProvider, CTranslate2Provider]) -> None:
    _, fast = pair
    with pytest.raises(RequestInvalid, match="takes at most"):
        await fast.generate(req(prompt="x = 1\n" * 2000, max_tokens=2))


def test_tokenizer_spec_check_and_no_healing(pair: tuple[LocalProvider, CTranslate2Provider]) -> None:
    local, fast = pair
    check_provider_spec(fast)
    assert fast.special_tokens() == local.special_tokens()
    assert fast.tokenizer().encode(FIM) == local.tokenizer().encode(FIM)  # type: ignore[union-attr]
    assert fast.heal_split("def hel") is None


async def test_a_second_start_reuses_the_converted_model(talkative_dir: Path, cache_dir: Path,
                                                         pair: tuple[LocalProvider, CTranslate2Provider]) -> None:
    _, fast = pair
    assert fast.model_dir is not None and fast.model_dir.parent == cache_dir
    written = (fast.model_dir / "model.bin").stat().st_mtime_ns
    again = make("ctranslate2", talkative_dir, cache_dir)
    await again.start()
    assert again.model_dir == fast.model_dir
    assert (again.model_dir / "model.bin").stat().st_mtime_ns == written
    assert [p.name for p in cache_dir.iterdir() if p.name.startswith(".")] == []


async def test_int8_compute_type_loads_and_decodes(talkative_dir: Path, cache_dir: Path) -> None:
    fast = make("ctranslate2", talkative_dir, cache_dir, compute_type="int8")
    gen = await fast.generate(req(max_tokens=5))
    assert gen.usage.completion_tokens == 5


async def test_unconvertible_and_missing_models_are_config_errors(tmp_path: Path, cache_dir: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"model_type": "no-such-architecture"}')
    with pytest.raises(ConfigError, match="model 'ctranslate2': cannot load"):
        await make("ctranslate2", broken, cache_dir).start()
    missing = tmp_path / "absent"
    with pytest.raises(ConfigError, match=f"model directory '{missing}' does not exist"):
        await make("ctranslate2", missing, cache_dir).start()


async def test_a_model_ctranslate2_cannot_convert_is_a_config_error_naming_it(tiny_model_dir: Path, tmp_path: Path,
                                                                               cache_dir: Path) -> None:
    """Config and tokenizer load, the weights do not: the converter fails, and nothing is left in the cache."""
    import shutil

    weightless = tmp_path / "weightless"
    shutil.copytree(tiny_model_dir, weightless)
    (weightless / "model.safetensors").unlink()
    before = sorted(p.name for p in cache_dir.iterdir())
    with pytest.raises(ConfigError, match=f"model 'ctranslate2': ctranslate2 cannot convert '{weightless}'"):
        await make("ctranslate2", weightless, cache_dir).start()
    assert sorted(p.name for p in cache_dir.iterdir()) == before


async def test_unusable_device_is_a_config_error(talkative_dir: Path, cache_dir: Path) -> None:
    provider = create_provider(ModelConfig(name="dev", provider="ctranslate2", path=str(talkative_dir),
                                           device="no-such-device", options={"cache_dir": str(cache_dir)}))
    with pytest.raises(ConfigError, match="model 'dev': ctranslate2 cannot load it on 'no-such-device' as float32"):
        await provider.start()
