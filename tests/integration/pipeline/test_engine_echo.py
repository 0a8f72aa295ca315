"""The Engine end to end with the real ``echo`` provider (deterministic replies, no model)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from assay.config import Settings
from assay.errors import ModelNotFound, ProviderError, ProviderTimeout, RequestInvalid
from assay.pipeline.engine import ChatInput, Engine, StreamChunk
from assay.pipeline.types import CompletionInput, CompletionResult, ContextFile, RequestOverrides
from assay.types import ChatMessage, FinishReason, Generation

REPLY = "\n    return a + b\n\ndef sub(a, b):\n    return a - b\n"
INPUT = CompletionInput(prefix="import math\n\ndef add(a, b):", suffix="\n\nprint(add(1, 2))\n", file_name="calc.py")


def echo(name: str, **options: Any) -> dict[str, Any]:
    timeout = options.pop("timeout_s", 30.0)
    return {"name": name, "provider": "echo", "spec": "assay-nano", "timeout_s": timeout, "options": options}


async def started(*models: dict[str, Any], **settings: Any) -> Engine:
    engine = Engine(Settings(models=list(models), **settings))
    await engine.start()
    return engine


async def collect(stream: Any) -> tuple[list[StreamChunk], Any]:
    items = [item async for item in stream]
    return items[:-1], items[-1]


async def test_complete_runs_every_stage_and_records_the_trace() -> None:
    engine = await started(echo("e", reply=REPLY))
    context = (ContextFile("util.py", "def add_all(values):\n    return sum(values)\n"),
               ContextFile("readme.md", "nothing in common here\n"))
    result = await engine.complete(CompletionInput(prefix=INPUT.prefix, suffix=INPUT.suffix, file_name="calc.py",
                                                   context=context))
    assert [c.text for c in result.choices] == ["\n    return a + b"]
    assert result.choices[0].finish_reason is FinishReason.STOP
    assert result.language == "python" and result.model == "e"
    trace = engine.trace(result.trace.id)
    assert trace is result.trace
    assert trace.prompt.startswith("<file_sep>util.py\n") and "<fim_prefix>import math" in trace.prompt
    assert [c["file"] for c in trace.context] == ["util.py"] and trace.context[0]["score"] > 0
    assert trace.raw_outputs[0].startswith("\n    return a + b\n\ndef sub")
    assert [p["step"] for p in trace.postprocess] == ["truncate_syntax"]
    assert trace.mode == "multi"
    assert trace.budget["counted_with"].startswith("estimate")
    stages = [t.stage for t in trace.timings]
    assert stages == ["language", "context", "budget", "fim", "decode", "postprocess"]
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0
    await engine.close()


async def test_streaming_gives_the_same_final_text_and_stops_early() -> None:
    engine = await started(echo("e", reply=REPLY + "x = 1\n" * 40, chunk_size=2))
    whole = await engine.complete(INPUT)
    chunks, final = await collect(engine.stream_complete(INPUT))
    assert isinstance(final, CompletionResult)
    assert "".join(c.text for c in chunks) == final.choices[0].text == whole.choices[0].text == "\n    return a + b"
    assert len(final.trace.raw_outputs[0]) < len(REPLY)
    assert final.trace.raw_outputs == whole.trace.raw_outputs
    await engine.close()


async def test_stream_chunks_arrive_before_the_end() -> None:
    body = "".join(f"\n    v{i} = {i}" for i in range(6)) + "\n    return v5\n"
    engine = await started(echo("e", reply=body, chunk_size=3))
    chunks, final = await collect(engine.stream_complete(CompletionInput(prefix="def f():", suffix="\n")))
    assert len(chunks) >= 3
    assert "".join(c.text for c in chunks) == final.choices[0].text == body.rstrip()
    await engine.close()


async def test_raw_prompt_and_postprocess_off() -> None:
    engine = await started(echo("e", mode="echo"))
    result = await engine.complete(CompletionInput(prefix="ignored", raw_prompt="line one\nhello(\n",
                                                   postprocess=False))
    assert result.trace.prompt == "line one\nhello(\n"
    assert result.choices[0].text == "hello("
    assert result.trace.postprocess == [] and result.trace.mode is None
    await engine.close()


async def test_models_and_feature_routing() -> None:
    engine = await started(echo("a", reply="A"), echo("b", reply="B"), features={"code_completions": "b"})
    assert [(m.name, m.provider, m.family) for m in engine.models()] == [("a", "echo", "assay-nano"),
                                                                       ("b", "echo", "assay-nano")]
    assert (await engine.complete(CompletionInput(prefix="x = "))).choices[0].text == "B"
    assert (await engine.complete(CompletionInput(prefix="x = ", model="a"))).choices[0].text == "A"
    await engine.close()


async def test_unknown_model_lists_configured_ones_and_is_traced() -> None:
    engine = await started(echo("a"), echo("b"))
    with pytest.raises(ModelNotFound) as err:
        await engine.complete(CompletionInput(prefix="x", model="nope", trace_id="t" * 32))
    assert "a, b" in err.value.message
    trace = engine.trace("t" * 32)
    assert trace is not None and trace.error == err.value.message
    await engine.close()


async def test_request_validation_error_names_the_field() -> None:
    engine = await started(echo("a"))
    with pytest.raises(RequestInvalid) as err:
        await engine.complete(CompletionInput(prefix="x", overrides=RequestOverrides(temperature=3.0)))
    assert err.value.field == "temperature"
    await engine.close()


async def test_provider_failure_is_traced() -> None:
    engine = await started(echo("a", fail_status=502))
    with pytest.raises(ProviderError) as err:
        await engine.complete(CompletionInput(prefix="x", trace_id="f" * 32))
    assert "502" in err.value.message
    assert engine.trace("f" * 32).error == err.value.message  # type: ignore[union-attr]
    await engine.close()


async def test_slow_provider_times_out_within_the_server_budget() -> None:
    engine = await started(echo("slow", reply="x", delay_s=5.0), server={"request_timeout_s": 0.3})
    begin = time.perf_counter()
    with pytest.raises(ProviderTimeout) as err:
        await engine.complete(CompletionInput(prefix="x", overrides=RequestOverrides(time_budget_s=10.0)))
    assert time.perf_counter() - begin < 2.0
    assert err.value.status_code == 504 and "0.3" in err.value.message
    chunks_error = None
    try:
        await collect(engine.stream_complete(CompletionInput(prefix="x", overrides=RequestOverrides(time_budget_s=10.0))))
    except ProviderTimeout as exc:
        chunks_error = exc
    assert chunks_error is not None
    await engine.close()


async def test_chat_and_stream_chat() -> None:
    engine = await started(echo("a", reply="hello there", chunk_size=4), echo("c", reply="from c"),
                           features={"chat": "c"})
    gen = await engine.chat(ChatInput(messages=(ChatMessage("user", "hi"),)))
    assert isinstance(gen, Generation) and gen.choices[0].text == "from c" and gen.model == "c"
    chunks, final = await collect(engine.stream_chat(ChatInput(messages=(ChatMessage("user", "hi"),), model="a")))
    assert [c.text for c in chunks] == ["hell", "o th", "ere"]
    assert isinstance(final, Generation) and final.choices[0].text == "hello there"
    with pytest.raises(RequestInvalid):
        await engine.chat(ChatInput(messages=()))
    await engine.close()


async def test_n_choices_are_post_processed_each() -> None:
    engine = await started(echo("a", reply=["\n    return 1\nx = 2\n", "\n    return 2\nx = 3\n"]))
    result = await engine.complete(CompletionInput(prefix="def f():", suffix="\n", overrides=RequestOverrides(n=2)))
    assert [c.text for c in result.choices] == ["\n    return 1", "\n    return 2"]
    assert [c.index for c in result.choices] == [0, 1]
    await engine.close()


async def test_trace_buffer_is_bounded() -> None:
    engine = await started(echo("a", reply="x"), server={"trace_buffer": 2})
    ids = [(await engine.complete(CompletionInput(prefix="y = "))).trace.id for _ in range(3)]
    assert engine.trace(ids[0]) is None and engine.trace(ids[2]) is not None
    await engine.close()


async def test_chat_spec_completion_uses_messages_and_reads_the_answer() -> None:
    model = echo("claude", reply="Sure:\n<COMPLETION>a + b)</COMPLETION>")
    model["spec"] = "chat"
    engine = await started(model)
    result = await engine.complete(CompletionInput(prefix="print(", suffix=")\n", file_name="a.py"))
    assert result.choices[0].text == "a + b"
    assert result.trace.prompt.startswith("[system]") and "print(<CURSOR>)" in result.trace.prompt
    assert [p["step"] for p in result.trace.postprocess] == ["extract_chat_answer", "suffix_overlap"]
    chunks, final = await collect(engine.stream_complete(CompletionInput(prefix="print(", suffix=")\n")))
    assert "".join(c.text for c in chunks) == final.choices[0].text == "a + b"
    await engine.close()
