"""The Engine on the real ``local`` provider with the tiny random-weight model (tests/support/tiny_model.py).

The weights are random, so texts are gibberish: these tests check what holds for any model (real
tokenizer counts, budgets, the spec check, stream/non-stream equality under greedy decoding). With
its tied embeddings the tiny model greedily repeats the prompt's last token (``<fim_middle>``, a stop)
and says nothing; ``talkative`` gives it a seeded, untied output head so greedy decoding produces
long, multi-line text for the post-processor.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import pytest_asyncio

from assay.config import Settings
from assay.errors import ConfigError
from assay.pipeline.engine import Engine, StreamChunk
from assay.pipeline.types import CompletionInput, CompletionResult, RequestOverrides
from assay.specs.registry import get_spec

GREEDY = RequestOverrides(max_tokens=24, temperature=0.0, time_budget_s=60.0)


def settings(path: Path) -> Settings:
    """The random tiny model with assay-nano's tokens, decoded without the spec's repetition penalty (the cases
    below were chosen for what plain greedy decoding of this seeded model produces)."""
    return Settings(models=[{"name": "tiny", "provider": "local", "path": str(path), "spec": "assay-nano",
                             "defaults": {"repetition_penalty": 1.0}}])


def talkative(src: Path, dst: Path, seed: int = 1) -> Path:
    import torch
    from transformers import LlamaForCausalLM

    shutil.copytree(src, dst)
    model = LlamaForCausalLM.from_pretrained(src)
    model.config.tie_word_embeddings = False
    generator = torch.Generator().manual_seed(seed)
    model.lm_head.weight = torch.nn.Parameter(torch.randn(model.lm_head.weight.shape, generator=generator) * 0.5)
    model.save_pretrained(dst, safe_serialization=True)
    return dst


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def engine(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    engine = Engine(settings(talkative(tiny_model_dir, tmp_path_factory.mktemp("talkative") / "tiny")))
    await engine.start()
    yield engine
    await engine.close()


@pytest.mark.asyncio(loop_scope="module")
async def test_stream_and_complete_agree_under_greedy_decoding(engine: Engine) -> None:
    cases = [
        CompletionInput(prefix="def hello_world():", suffix="\n", file_name="a.py", overrides=GREEDY),
        CompletionInput(prefix="x = [1, ", suffix="]\n", file_name="a.py", overrides=GREEDY),
        CompletionInput(prefix="function add(a, b) {\n  ", suffix="\n}\n", file_name="a.js", overrides=GREEDY),
        CompletionInput(prefix="fn main() {", suffix="\n", file_name="m.rs", postprocess=False, overrides=GREEDY),
    ]
    steps: set[str] = set()
    for inp in cases:
        whole = await engine.complete(inp)
        items = [item async for item in engine.stream_complete(inp)]
        final = items[-1]
        assert isinstance(final, CompletionResult)
        chunks = [i for i in items[:-1] if isinstance(i, StreamChunk)]
        assert final.choices[0].text == whole.choices[0].text
        assert "".join(c.text for c in chunks) == final.choices[0].text
        assert final.trace.raw_outputs == whole.trace.raw_outputs
        assert whole.trace.raw_outputs[0], "the talkative model must say something"
        steps |= {p["step"] for p in whole.trace.postprocess}
    assert {"truncate_syntax", "single_line"} <= steps


@pytest.mark.asyncio(loop_scope="module")
async def test_prompt_counted_with_the_real_tokenizer_and_fits_the_context(engine: Engine) -> None:
    long_prefix = "".join(f"value_{i} = compute(value_{i - 1}, {i})\n" for i in range(3000))
    result = await engine.complete(CompletionInput(prefix=long_prefix + "result = ", suffix="\nprint(result)\n",
                                                   file_name="big.py", overrides=GREEDY))
    trace = result.trace
    assert trace.budget["counted_with"] == "tokenizer"
    assert trace.budget["prefix_truncated"] is True
    budget = get_spec("assay-nano").defaults.prompt_tokens
    assert trace.prompt_tokens <= budget and trace.prompt_tokens + 24 <= 1024
    assert trace.prompt.startswith("<fim_prefix>value_")
    assert "\nresult = <fim_suffix>" in trace.prompt
    assert result.usage.prompt_tokens > budget - 64, "the budget is used, not wasted"


async def test_spec_that_disagrees_with_the_tokenizer_is_refused(tmp_path: Path) -> None:
    from tests.support.tiny_model import build_tiny_model

    plain = build_tiny_model(tmp_path / "plain", vocab_size=300, hidden=16, layers=1,
                             special_tokens=["<|endoftext|>"])
    engine = Engine(settings(plain))
    with pytest.raises(ConfigError) as err:
        await engine.start()
    assert "<fim_prefix>" in err.value.message or "<fim_suffix>" in err.value.message \
        or "<fim_middle>" in err.value.message
