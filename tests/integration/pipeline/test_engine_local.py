"""The Engine on the real ``local`` provider with the tiny random-weight model (tests/support/tiny_model.py).

The weights are random, so texts are gibberish: these tests check what holds for any model (real
tokenizer counts, budgets, the spec check, stream/non-stream equality under greedy decoding).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio

from assay.config import Settings
from assay.errors import ConfigError
from assay.pipeline.engine import Engine, StreamChunk
from assay.pipeline.types import CompletionInput, CompletionResult, RequestOverrides

GREEDY = RequestOverrides(max_tokens=24, temperature=0.0, time_budget_s=60.0)


def settings(path: Path) -> Settings:
    return Settings(models=[{"name": "tiny", "provider": "local", "path": str(path), "spec": "assay-nano"}])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def engine(tiny_model_dir: Path):
    engine = Engine(settings(tiny_model_dir))
    await engine.start()
    yield engine
    await engine.close()


@pytest.mark.asyncio(loop_scope="module")
async def test_stream_and_complete_agree_under_greedy_decoding(engine: Engine) -> None:
    cases = [
        CompletionInput(prefix="def hello_world():", suffix="\n", file_name="a.py", overrides=GREEDY),
        CompletionInput(prefix="import os\nx = [1, 2", suffix="]\n", file_name="a.py", overrides=GREEDY),
        CompletionInput(prefix="function add(a, b) {\n  ", suffix="\n}\n", file_name="a.js", overrides=GREEDY),
        CompletionInput(prefix="fn main() {", suffix="\n", file_name="m.rs", postprocess=False, overrides=GREEDY),
    ]
    for inp in cases:
        whole = await engine.complete(inp)
        items = [item async for item in engine.stream_complete(inp)]
        final = items[-1]
        assert isinstance(final, CompletionResult)
        chunks = [i for i in items[:-1] if isinstance(i, StreamChunk)]
        assert final.choices[0].text == whole.choices[0].text
        assert "".join(c.text for c in chunks) == final.choices[0].text
        assert final.trace.raw_outputs == whole.trace.raw_outputs


@pytest.mark.asyncio(loop_scope="module")
async def test_stream_and_complete_agree_on_seeded_sampling(engine: Engine) -> None:
    """Greedy decoding of the random tiny model ends at once (it repeats a stop token), so seeded
    sampling is what gives it long, multi-line raw text for the incremental post-processor."""
    texts = []
    cases = ((0, CompletionInput(prefix="def hello_world():", suffix="\n", file_name="a.py")),
             (1, CompletionInput(prefix="function add(a, b) {\n  ", suffix="\n}\n", file_name="a.js")))
    for seed, base in cases:
        inp = replace(base, overrides=RequestOverrides(max_tokens=24, temperature=1.0, seed=seed, time_budget_s=60.0))
        whole = await engine.complete(inp)
        items = [item async for item in engine.stream_complete(inp)]
        final = items[-1]
        assert isinstance(final, CompletionResult)
        assert final.choices[0].text == whole.choices[0].text
        assert final.trace.raw_outputs == whole.trace.raw_outputs
        assert "".join(i.text for i in items[:-1] if isinstance(i, StreamChunk)) == final.choices[0].text
        texts.append(whole.choices[0].text)
    assert all(len(t) > 5 for t in texts)


@pytest.mark.asyncio(loop_scope="module")
async def test_prompt_counted_with_the_real_tokenizer_and_fits_the_context(engine: Engine) -> None:
    long_prefix = "".join(f"value_{i} = compute(value_{i - 1}, {i})\n" for i in range(3000))
    result = await engine.complete(CompletionInput(prefix=long_prefix + "result = ", suffix="\nprint(result)\n",
                                                   file_name="big.py", overrides=GREEDY))
    trace = result.trace
    assert trace.budget["counted_with"] == "tokenizer"
    assert trace.budget["prefix_truncated"] is True
    assert trace.prompt_tokens + 24 <= 1024
    assert trace.prompt.startswith("<fim_prefix>value_")
    assert "\nresult = <fim_suffix>" in trace.prompt
    assert result.usage.prompt_tokens > 500


async def test_spec_that_disagrees_with_the_tokenizer_is_refused(tmp_path: Path) -> None:
    from tests.support.tiny_model import build_tiny_model

    plain = build_tiny_model(tmp_path / "plain", vocab_size=300, hidden=16, layers=1,
                             special_tokens=["<|endoftext|>"])
    engine = Engine(settings(plain))
    with pytest.raises(ConfigError) as err:
        await engine.start()
    assert "<fim_prefix>" in err.value.message or "<fim_suffix>" in err.value.message \
        or "<fim_middle>" in err.value.message
