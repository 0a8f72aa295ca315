"""The local provider on the tiny real model (random weights, real tokenizer, real transformers generate)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.config import ModelConfig
from assay.errors import ConfigError, RequestInvalid
from assay.providers.checks import check_provider_spec, check_spec_against_tokenizer
from assay.providers.inprocess import plain_chat_prompt
from assay.providers.local import LocalProvider, resolve_model_path
from assay.providers.registry import create_provider
from assay.specs.registry import get_spec
from assay.types import ChatMessage, EngineRequest, FinishReason, GenerateParams
from tests.integration.providers.inprocess_contract import (
    FIM,
    assert_seeded_choices_repeat,
    assert_stream_equals_generate,
    req,
)


@pytest.fixture
async def local(tiny_model_dir: Path) -> LocalProvider:
    provider = create_provider(ModelConfig(name="tiny", provider="local", path=str(tiny_model_dir), spec="assay-nano"))
    assert isinstance(provider, LocalProvider)
    await provider.start()
    return provider


async def test_special_tokens_in_prompt_are_single_tokens_and_counted(local: LocalProvider) -> None:
    tok = local.tokenizer()
    assert tok is not None
    assert len(tok.encode("<fim_prefix>")) == 1
    gen = await local.generate(req(max_tokens=3))
    assert gen.usage.prompt_tokens == len(tok.encode(FIM))
    assert gen.usage.completion_tokens == 3


async def test_max_tokens_is_respected(local: LocalProvider) -> None:
    gen = await local.generate(req(max_tokens=7))
    choice = gen.choices[0]
    assert gen.usage.completion_tokens <= 7
    if choice.finish_reason is FinishReason.LENGTH:
        assert gen.usage.completion_tokens == 7
    assert len(local.tokenizer().encode(choice.text)) <= 7  # type: ignore[union-attr]


async def test_tiny_time_budget_stops_early_with_time(local: LocalProvider) -> None:
    gen = await local.generate(req(max_tokens=200, time_budget_s=0.0))
    assert gen.choices[0].finish_reason is FinishReason.TIME
    assert gen.usage.completion_tokens == 1


async def test_stop_sequence_is_trimmed(local: LocalProvider) -> None:
    free = (await local.generate(req(prompt="def hello", max_tokens=24))).choices[0].text
    assert len(free) >= 6, free
    stop = free[3:6]
    cut = free[: free.index(stop)]
    gen = await local.generate(req(prompt="def hello", max_tokens=24, stop=(stop,)))
    assert gen.choices[0].text == cut
    assert gen.choices[0].finish_reason is FinishReason.STOP
    assert gen.usage.completion_tokens < 24


async def test_streaming_concatenates_to_non_streaming(local: LocalProvider) -> None:
    await assert_stream_equals_generate(local, {"prompt": "def hello", "max_tokens": 16},
                                        {"max_tokens": 16, "temperature": 0.9, "top_p": 0.95, "seed": 7})


async def test_n_choices_with_seed_are_repeatable(local: LocalProvider) -> None:
    await assert_seeded_choices_repeat(local)


async def test_closing_a_stream_early_frees_the_model(local: LocalProvider) -> None:
    stream = local.stream(req(max_tokens=400))
    async for _ in stream:
        break
    await stream.aclose()
    gen = await local.generate(req(max_tokens=2))
    assert gen.usage.completion_tokens == 2


async def test_chat_uses_plain_layout_without_template(local: LocalProvider) -> None:
    messages = (ChatMessage("system", "Be brief."), ChatMessage("user", "Say hi"))
    assert plain_chat_prompt(messages) == "System: Be brief.\n\nUser: Say hi\n\nAssistant:"
    gen = await local.generate(EngineRequest(params=GenerateParams(max_tokens=4), messages=messages))
    assert gen.usage.prompt_tokens == len(local.tokenizer().encode(plain_chat_prompt(messages)))  # type: ignore[union-attr]


async def test_too_long_prompt_is_refused(local: LocalProvider) -> None:
    with pytest.raises(RequestInvalid, match="takes at most"):
        await local.generate(req(prompt="x = 1\n" * 2000, max_tokens=2))


def test_spec_check_passes_for_nano_and_fails_for_qwen(local: LocalProvider) -> None:
    check_provider_spec(local)
    tok = local.tokenizer()
    assert tok is not None
    check_spec_against_tokenizer(get_spec("starcoder"), local.special_tokens(), tok.encode, model="tiny")
    with pytest.raises(ConfigError, match=r"model 'tiny': spec 'qwen2.5-coder' token '<\|fim_prefix\|>'"):
        check_spec_against_tokenizer(get_spec("qwen2.5-coder"), local.special_tokens(), tok.encode, model="tiny")


def test_missing_builtin_weights_and_bad_path_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="built-in model 'no-such-model' has no weights"):
        resolve_model_path("builtin:no-such-model")
    assert resolve_model_path("/some/dir") == "/some/dir"


async def test_a_missing_model_directory_is_named_not_read_as_a_hub_id(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-model")
    provider = create_provider(ModelConfig(name="mine", provider="local", path=missing))
    with pytest.raises(ConfigError) as caught:
        await provider.start()
    assert caught.value.message == f"model 'mine': model directory '{missing}' does not exist"


async def test_unloadable_directory_is_a_config_error(tmp_path: Path) -> None:
    provider = create_provider(ModelConfig(name="empty", provider="local", path=str(tmp_path)))
    with pytest.raises(ConfigError, match="model 'empty': cannot load"):
        await provider.start()


async def test_probe_runs_on_the_tiny_model(local: LocalProvider) -> None:
    from assay.providers.probe import probe

    result = await probe(local)
    assert [c.name for c in result.cases] == ["add", "connect"]
    assert all(c.error is None and c.ms > 0 for c in result.cases)
    assert result.cases[0].prompt == "<fim_prefix>def add(a, b):\n    return <fim_suffix>\n\nprint(add(1, 2))\n<fim_middle>"
    assert not result.fills_middle and result.verdict.startswith("does not fill the middle")


async def test_bos_is_added_only_when_the_tokenizer_wants_it_and_never_twice(tiny_model_dir: Path, tmp_path: Path) -> None:
    import shutil

    from tokenizers.processors import TemplateProcessing
    from transformers import AutoTokenizer

    model_dir = tmp_path / "with-bos"
    shutil.copytree(tiny_model_dir, model_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    bos_id = tok.convert_tokens_to_ids("<|endoftext|>")
    tok._tokenizer.post_processor = TemplateProcessing(single="<|endoftext|> $A", special_tokens=[("<|endoftext|>", bos_id)])
    tok.save_pretrained(model_dir)

    provider = create_provider(ModelConfig(name="bos", provider="local", path=str(model_dir), spec="assay-nano"))
    await provider.start()
    counter = provider.tokenizer()
    assert counter is not None
    plain = await provider.generate(req(prompt="def add", max_tokens=1))
    assert plain.usage.prompt_tokens == len(counter.encode("def add")) + 1
    already = await provider.generate(req(prompt="<|endoftext|>def add", max_tokens=1))
    assert already.usage.prompt_tokens == plain.usage.prompt_tokens


async def test_chat_uses_the_tokenizers_chat_template(tiny_model_dir: Path, tmp_path: Path) -> None:
    import shutil

    from transformers import AutoTokenizer

    model_dir = tmp_path / "with-template"
    shutil.copytree(tiny_model_dir, model_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    tok.chat_template = ("{% for m in messages %}<file_sep>{{ m['role'] }}\n{{ m['content'] }}\n{% endfor %}"
                         "{% if add_generation_prompt %}<file_sep>assistant\n{% endif %}")
    tok.save_pretrained(model_dir)

    provider = create_provider(ModelConfig(name="templ", provider="local", path=str(model_dir), spec="assay-nano"))
    await provider.start()
    messages = (ChatMessage("user", "Say hi"),)
    gen = await provider.generate(EngineRequest(params=GenerateParams(max_tokens=2), messages=messages))
    expected = "<file_sep>user\nSay hi\n<file_sep>assistant\n"
    assert gen.usage.prompt_tokens == len(provider.tokenizer().encode(expected))  # type: ignore[union-attr]


async def test_unusable_device_is_a_config_error(tiny_model_dir: Path) -> None:
    provider = create_provider(ModelConfig(name="dev", provider="local", path=str(tiny_model_dir), device="no-such-device"))
    with pytest.raises(ConfigError, match="model 'dev': cannot use device 'no-such-device'"):
        await provider.start()


async def test_repetition_penalty_changes_greedy_output(tiny_model_dir) -> None:
    """The penalty reaches transformers' decoding: a looping greedy output changes under it."""
    from assay.config import ModelConfig
    from assay.providers.registry import create_provider
    from assay.types import EngineRequest, GenerateParams

    provider = create_provider(ModelConfig(name="tiny", provider="local", path=str(tiny_model_dir), spec="assay-nano"))
    await provider.start()
    prompt = "def hello_world():\n    print('hello world')\n    return 0\n" * 3
    plain = await provider.generate(EngineRequest(GenerateParams(max_tokens=24), prompt=prompt))
    penalised = await provider.generate(EngineRequest(GenerateParams(max_tokens=24, repetition_penalty=2.0),
                                                      prompt=prompt))
    assert plain.choices[0].text != penalised.choices[0].text
    await provider.close()
