"""Token healing end to end on the tiny real model (random weights, real byte-level BPE tokenizer, real
transformers generate), through the local provider and through the Engine.

The weights are random, so the answers are gibberish; what is checked holds for any model: the raw
generation starts with the text healing cut from the prefix, the answer is the rest of it (nothing
repeated, nothing lost), streaming and non-streaming agree, the trace says what was cut, and
providers that never see tokens leave the prompt alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from assay.config import ModelConfig, Settings
from assay.pipeline.engine import Engine, StreamChunk
from assay.pipeline.types import CompletionInput, CompletionResult, RequestOverrides
from assay.providers.healing import HealingConstraint, HealingLogitsProcessor, Vocabulary
from assay.providers.local import LocalProvider
from assay.providers.registry import create_provider
from assay.types import EngineRequest, GenerateParams
from tests.integration.pipeline.test_engine_local import talkative

HEAL = RequestOverrides(max_tokens=16, temperature=0.0, time_budget_s=60.0, token_healing=True)
CASES = [("def hel", "\n"), ("x = 'é", "'\n"), ("def hello_world():\n    print('hel", "')\n"), ("for i in ran", ":\n")]


@pytest.fixture(scope="module")
def talkative_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return talkative(tiny_model_dir, tmp_path_factory.mktemp("talkative-heal") / "tiny")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def local(talkative_dir: Path) -> LocalProvider:
    provider = create_provider(ModelConfig(name="tiny", path=str(talkative_dir), spec="assay-nano"))
    assert isinstance(provider, LocalProvider)
    await provider.start()
    return provider


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def engine(talkative_dir: Path):
    engine = Engine(Settings(models=[
        {"name": "tiny", "provider": "local", "path": str(talkative_dir), "spec": "assay-nano",
         "defaults": {"repetition_penalty": 1.0}},
        {"name": "echo", "provider": "echo", "spec": "generic", "options": {"mode": "echo"}},
    ]))
    await engine.start()
    yield engine
    await engine.close()


def raw_generation(provider: LocalProvider, prompt: str, removed: str, max_tokens: int) -> str:
    """The healed prompt decoded greedily by transformers directly, with the healing constraint only."""
    import torch
    from transformers import LogitsProcessorList

    assert provider.model is not None and provider.tok is not None
    ids = provider.tok(prompt, add_special_tokens=False)["input_ids"]
    vocab = Vocabulary.of(provider.tok)
    assert vocab is not None
    processor = HealingLogitsProcessor(HealingConstraint(vocab, removed), len(ids))
    inputs = torch.tensor([ids])
    out = provider.model.generate(input_ids=inputs, attention_mask=torch.ones_like(inputs), do_sample=False,
                                  max_new_tokens=max_tokens, logits_processor=LogitsProcessorList([processor]),
                                  eos_token_id=None, pad_token_id=0)
    return provider.tok.decode(out[0, len(ids):].tolist(), skip_special_tokens=False)


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("prefix", "suffix"), CASES)
async def test_answer_is_the_healed_generation_without_the_cut_text(local: LocalProvider, prefix: str,
                                                                    suffix: str) -> None:
    split = local.heal_split(prefix)
    assert split is not None and split.removed and split.kept + split.removed == prefix
    prompt = f"<fim_prefix>{split.kept}<fim_suffix>{suffix}<fim_middle>"
    raw = raw_generation(local, prompt, split.removed, 12)
    assert raw.startswith(split.removed)
    gen = await local.generate(EngineRequest(params=GenerateParams(max_tokens=12), prompt=prompt,
                                             healed=split.removed))
    answer = gen.choices[0].text
    assert answer
    assert answer == raw[len(split.removed):].split("<|endoftext|>")[0]


@pytest.mark.asyncio(loop_scope="module")
async def test_healing_changes_what_a_prefix_cut_mid_token_gets(local: LocalProvider) -> None:
    params = GenerateParams(max_tokens=8)
    plain = await local.generate(EngineRequest(params=params, prompt="<fim_prefix>def hel<fim_suffix>\n<fim_middle>"))
    healed = await local.generate(EngineRequest(params=params, prompt="<fim_prefix>def <fim_suffix>\n<fim_middle>",
                                                healed="hel"))
    assert plain.choices[0].text != healed.choices[0].text


@pytest.mark.asyncio(loop_scope="module")
async def test_sampled_choices_are_healed_and_stream_what_they_return(local: LocalProvider) -> None:
    """Were the constraint not applied while sampling, the output would stray and the provider raise."""
    request = EngineRequest(params=GenerateParams(max_tokens=16, temperature=1.0, seed=5, n=2),
                            prompt="<fim_prefix>def <fim_suffix>\n<fim_middle>", healed="hello_world")
    whole = await local.generate(request)
    deltas = [d async for d in local.stream(request)]
    assert [c.text for c in whole.choices] == ["".join(d.text for d in deltas if d.index == i) for i in (0, 1)]


async def collect(engine: Engine, inp: CompletionInput) -> tuple[str, CompletionResult]:
    chunks: list[str] = []
    result: CompletionResult | None = None
    async for item in engine.stream_complete(inp):
        if isinstance(item, StreamChunk):
            chunks.append(item.text)
        else:
            result = item
    assert result is not None
    return "".join(chunks), result


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("prefix", "suffix"), CASES)
@pytest.mark.parametrize("postprocess", [True, False])
async def test_engine_streams_what_it_completes_and_traces_the_cut(engine: Engine, prefix: str, suffix: str,
                                                                    postprocess: bool) -> None:
    inp = CompletionInput(prefix=prefix, suffix=suffix, file_name="a.py", model="tiny", overrides=HEAL,
                          postprocess=postprocess)
    whole = await engine.complete(inp)
    streamed, result = await collect(engine, inp)
    assert streamed == whole.choices[0].text == result.choices[0].text
    removed = whole.trace.healing["removed"]
    assert prefix.endswith(removed) and whole.trace.healing["removed_chars"] == len(removed)
    assert f"<fim_prefix>{prefix[:-len(removed)]}<fim_suffix>" in whole.trace.prompt
    assert result.trace.healing == whole.trace.healing
    if not postprocess:
        assert whole.choices[0].text == whole.trace.raw_outputs[0]


@pytest.mark.asyncio(loop_scope="module")
async def test_healing_off_leaves_the_prompt_whole(engine: Engine) -> None:
    inp = CompletionInput(prefix="def hel", suffix="\n", file_name="a.py", model="tiny",
                          overrides=RequestOverrides(max_tokens=4, time_budget_s=60.0, token_healing=False))
    result = await engine.complete(inp)
    assert result.trace.healing == {}
    assert "<fim_prefix>def hel<fim_suffix>" in result.trace.prompt


@pytest.mark.asyncio(loop_scope="module")
async def test_providers_without_tokens_ignore_healing(engine: Engine) -> None:
    """The echo provider (no tokenizer) answers the prompt's last line (the prefix, for a ``generic`` spec)."""
    inp = CompletionInput(prefix="def hel", suffix="", file_name="a.py", model="echo", overrides=HEAL,
                          postprocess=False)
    result = await engine.complete(inp)
    assert result.trace.healing == {}
    assert result.trace.prompt == "def hel"
    assert result.choices[0].text == "def hel"


def test_heal_split_needs_a_loaded_tokenizer(tiny_model_dir: Path) -> None:
    provider: Any = create_provider(ModelConfig(name="cold", path=str(tiny_model_dir), spec="assay-nano"))
    assert provider.heal_split("def hel") is None
