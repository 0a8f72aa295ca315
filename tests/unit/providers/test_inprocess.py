"""InProcessProvider's own contract, on a character-level engine written here (no model weights).

The engine is a test double for the engine hooks only: each prompt character is one token id, and a
choice "decodes" a fixed reply one character per step. Everything under test (threads, lock, queue,
prompt layout, stops, context check, usage, healing refusal, error mapping, cancellation) is the real
base class.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from assay.config import ModelConfig
from assay.errors import ProviderError, RequestInvalid
from assay.providers.healing import Vocabulary
from assay.providers.inprocess import PLAIN_CHAT_STOP, ChoiceJob, DecodeOutcome, InProcessProvider
from assay.providers.stops import StopScanner
from assay.specs.registry import get_spec
from assay.types import ChatMessage, EngineRequest, FinishReason, GenerateParams

EOS = "<eos>"


class CharEngine(InProcessProvider):
    def __init__(self, reply: str = "hello world", context: int = 32, fail: bool = False) -> None:
        super().__init__(ModelConfig(name="chars", provider="local", path="unused"), get_spec("assay-nano"))
        self.reply, self.context, self.fail = reply, context, fail
        self.loaded = False
        self.loads = 0
        self.jobs: list[ChoiceJob] = []
        self.decoded = 0

    def _is_loaded(self) -> bool:
        return self.loaded

    def _load(self) -> None:
        self.loads += 1
        self.loaded = True

    def _unload(self) -> None:
        self.loaded = False

    def _render_chat(self, messages: tuple[ChatMessage, ...]) -> str | None:
        return None

    def _encode_prompt(self, text: str, templated: bool) -> list[int]:
        return [ord(c) for c in text]

    def _eos_text(self) -> str | None:
        return EOS

    def _eos_ids(self) -> list[int]:
        return [0]

    def _context_length(self) -> int | None:
        return self.context

    def _vocabulary(self) -> Vocabulary | None:
        return None

    def _generate_one(self, job: ChoiceJob) -> DecodeOutcome:
        self.jobs.append(job)
        if self.fail:
            raise KeyError("boom")
        scanner = StopScanner(job.stops)
        count = 0
        for count in range(1, min(job.max_new, len(self.reply)) + 1):
            self.decoded += 1
            if delta := scanner.update(self.reply[:count]):
                job.emit_text(delta)
            if scanner.stopped or job.cancelled.is_set():
                break
            time.sleep(0.001)
        reason = FinishReason.STOP if scanner.stopped else FinishReason.LENGTH
        return DecodeOutcome(scanner.text, scanner.finish(), reason, count)


def req(prompt: str = "abc", **params: object) -> EngineRequest:
    return EngineRequest(params=GenerateParams(**params), prompt=prompt)  # type: ignore[arg-type]


async def test_n_choices_stream_what_generate_returns_with_summed_usage() -> None:
    engine = CharEngine()
    gen = await engine.generate(req(n=2, max_tokens=5))
    assert [c.text for c in gen.choices] == ["hello", "hello"]
    assert gen.usage.prompt_tokens == 3 and gen.usage.completion_tokens == 10
    assert [j.index for j in engine.jobs] == [0, 1] and engine.loads == 1
    streamed = [d async for d in engine.stream(req(max_tokens=5))]
    assert "".join(d.text for d in streamed) == "hello"
    assert streamed[-1].finish_reason is FinishReason.LENGTH and streamed[-1].usage is not None


async def test_max_tokens_is_capped_to_the_room_the_context_leaves() -> None:
    engine = CharEngine(context=10)
    await engine.generate(req("x" * 7, max_tokens=64))
    assert engine.jobs[0].max_new == 3
    with pytest.raises(RequestInvalid, match="the prompt has 10 tokens; model 'chars' takes at most 9"):
        await engine.generate(req("x" * 10))


async def test_chat_without_template_uses_the_plain_layout_and_its_stop() -> None:
    engine = CharEngine(reply="Hi!\nUser: more", context=64)
    request = EngineRequest(params=GenerateParams(max_tokens=20), messages=(ChatMessage("user", "Say hi"),))
    gen = await engine.generate(request)
    assert engine.jobs[0].ids == [ord(c) for c in "User: Say hi\n\nAssistant:"]
    assert engine.jobs[0].stops == (PLAIN_CHAT_STOP, EOS)
    assert gen.choices[0].text == "Hi!" and gen.choices[0].finish_reason is FinishReason.STOP


async def test_healing_on_an_engine_without_vocabulary_is_refused() -> None:
    engine = CharEngine()
    assert engine.heal_split("def hel") is None
    with pytest.raises(RequestInvalid, match="model 'chars' cannot heal tokens"):
        await engine.generate(EngineRequest(params=GenerateParams(), prompt="abc", healed="hel"))


async def test_an_engine_failure_becomes_a_provider_error_naming_the_model() -> None:
    with pytest.raises(ProviderError, match=r"model 'chars' failed while generating: KeyError: 'boom'"):
        await CharEngine(fail=True).generate(req())


async def test_closing_the_stream_early_cancels_the_worker_and_frees_the_lock() -> None:
    engine = CharEngine(reply="x" * 10_000, context=20_000)
    stream = engine.stream(req(max_tokens=10_000))
    async for _ in stream:
        break
    await stream.aclose()
    assert engine.decoded < 1_000
    assert not engine._lock.locked()
    assert (await engine.generate(req(max_tokens=2))).usage.completion_tokens == 2


async def test_close_unloads_and_the_next_request_loads_again() -> None:
    engine = CharEngine()
    await engine.start()
    await asyncio.gather(engine.start(), engine.start())
    assert engine.loads == 1
    await engine.close()
    assert not engine.loaded
    await engine.generate(req(max_tokens=1))
    assert engine.loads == 2
