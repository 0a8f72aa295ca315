"""Every in-process provider (``local``, ``ctranslate2``, ``llamacpp``), on real tiny models and real engines:

* an empty prompt generates from the start of text (BOS, else end-of-text), streamed or not, instead of
  failing inside the engine (QA: ``/v1/completions`` with ``"prompt": ""`` gave a 502 from torch);
* special tokens the model emits never reach the text (QA: nano's ``explain_code`` answer contained a
  literal ``<fim_middle>``), unless the request stops on them, which still ends the choice there.

The "sentinel" model is the tiny test model rewired so greedy decoding emits one special token forever:
every token embeds alike, the layers add nothing, and the output head scores only that token.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from assay.config import ModelConfig
from assay.providers.base import Provider
from assay.providers.registry import create_provider
from assay.train.export import export_gguf
from assay.types import FinishReason
from tests.integration.providers.inprocess_contract import req
from tests.integration.server.test_duo_health import talkative_model

KINDS = ("local", "ctranslate2", "llamacpp")


def sentinel_model(src: Path, dst: Path, token: str) -> Path:
    """A copy of the tiny model whose greedy output is ``token`` at every step."""
    import shutil

    import torch
    from transformers import AutoTokenizer, LlamaForCausalLM

    shutil.copytree(src, dst)
    token_id = AutoTokenizer.from_pretrained(src).convert_tokens_to_ids(token)
    model = LlamaForCausalLM.from_pretrained(src)
    model.config.tie_word_embeddings = False
    with torch.no_grad():
        model.model.embed_tokens.weight.fill_(1.0)
        model.model.norm.weight.fill_(1.0)
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        head = torch.zeros_like(model.lm_head.weight)
        head[token_id] = 1.0
        model.lm_head.weight = torch.nn.Parameter(head)
    model.save_pretrained(dst, safe_serialization=True)
    return dst


def provider(kind: str, model_dir: Path, cache: Path) -> Provider:
    """A started provider of ``kind`` on the model in ``model_dir`` (exported to GGUF for llamacpp)."""
    path: str = str(model_dir)
    options: dict[str, Any] = {"threads": 1}
    if kind == "llamacpp":
        path = str(cache / f"{model_dir.name}.gguf")
        export_gguf(str(model_dir), Path(path), "f32", spec="assay-nano")
    if kind == "ctranslate2":
        options["cache_dir"] = str(cache)
    made = create_provider(ModelConfig(name=f"{kind}-{model_dir.name}", provider=kind, path=path,
                                       spec="assay-nano", device="cpu", options=options))
    asyncio.run(made.start())
    return made


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("inprocess-special")


@pytest.fixture(scope="module")
def talkative(tiny_model_dir: Path, cache: Path) -> dict[str, Provider]:
    model_dir = talkative_model(tiny_model_dir, cache / "talkative")
    return {kind: provider(kind, model_dir, cache) for kind in KINDS}


@pytest.fixture(scope="module")
def sentinel(tiny_model_dir: Path, cache: Path) -> dict[str, Provider]:
    model_dir = sentinel_model(tiny_model_dir, cache / "sentinel", "<fim_middle>")
    return {kind: provider(kind, model_dir, cache) for kind in KINDS}


@pytest.mark.parametrize("kind", KINDS)
async def test_empty_prompt_generates_from_the_start_of_text(talkative: dict[str, Provider], kind: str) -> None:
    engine = talkative[kind]
    whole = await engine.generate(req(prompt="", max_tokens=6))
    assert whole.usage.prompt_tokens == 1
    assert 1 <= whole.usage.completion_tokens <= 6
    deltas = [d async for d in engine.stream(req(prompt="", max_tokens=6))]
    assert "".join(d.text for d in deltas) == whole.choices[0].text
    assert deltas[-1].finish_reason is whole.choices[0].finish_reason


@pytest.mark.parametrize("kind", KINDS)
async def test_special_tokens_never_reach_the_text(sentinel: dict[str, Provider], kind: str) -> None:
    engine = sentinel[kind]
    whole = await engine.generate(req(prompt="def add(a, b):", max_tokens=5))
    assert whole.choices[0].text == ""
    assert whole.usage.completion_tokens == 5 and whole.choices[0].finish_reason is FinishReason.LENGTH
    deltas = [d async for d in engine.stream(req(prompt="def add(a, b):", max_tokens=5))]
    assert "".join(d.text for d in deltas) == ""


@pytest.mark.parametrize("kind", KINDS)
async def test_a_special_token_that_is_a_stop_still_ends_the_choice(sentinel: dict[str, Provider], kind: str) -> None:
    gen = await sentinel[kind].generate(req(prompt="def add(a, b):", max_tokens=5, stop=["<fim_middle>"]))
    assert gen.choices[0].text == ""
    assert gen.choices[0].finish_reason is FinishReason.STOP and gen.usage.completion_tokens == 1


async def test_a_tokenizer_special_token_outside_the_spec_is_hidden_too(tiny_model_dir: Path, cache: Path) -> None:
    """``<fim_pad>`` is one of the tokenizer's special tokens but none of the assay-nano spec's sentinels."""
    model_dir = sentinel_model(tiny_model_dir, cache / "pad", "<fim_pad>")
    engine = create_provider(ModelConfig(name="pad", provider="local", path=str(model_dir), spec="assay-nano"))
    gen = await engine.generate(req(prompt="def", max_tokens=3))
    assert gen.choices[0].text == "" and gen.usage.completion_tokens == 3
