"""TEMPORARY stand-in Engine (echo providers only, no pipeline stages) until the real Engine lands."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from assay.errors import ModelNotFound
from assay.pipeline.engine import ChatInput, Engine, ModelInfo, StreamChunk
from assay.pipeline.types import CompletionInput, CompletionResult, Trace
from assay.providers.registry import create_provider
from assay.types import EngineRequest, GenerateParams, Generation


class StubEngine(Engine):
    async def start(self) -> None:
        self.providers = {m.name: create_provider(m) for m in self.settings.models}
        self.traces: dict[str, Trace] = {}

    async def close(self) -> None:
        pass

    def models(self) -> list[ModelInfo]:
        return [ModelInfo(m.name, m.provider, "echo", 1024) for m in self.settings.models]

    def _provider(self, name):
        if name not in self.providers:
            raise ModelNotFound(name, list(self.providers))
        return self.providers[name]

    def _params(self, o):
        return GenerateParams(n=o.n, stop=o.stop or (), max_tokens=o.max_tokens or 16,
                              time_budget_s=o.time_budget_s)

    async def complete(self, inp: CompletionInput) -> CompletionResult:
        name = inp.model or self.settings.model_for("code_completions").name
        p = self._provider(name)
        prompt = inp.raw_prompt or inp.prefix
        gen = await p.generate(EngineRequest(params=self._params(inp.overrides), prompt=prompt))
        trace = Trace(id=inp.trace_id or uuid.uuid4().hex, model=name, prompt=prompt)
        self.traces[trace.id] = trace
        return CompletionResult(gen.choices, name, _lang(inp), gen.usage, trace)

    async def stream_complete(self, inp: CompletionInput) -> AsyncIterator[StreamChunk | CompletionResult]:
        name = inp.model or self.settings.model_for("code_completions").name
        p = self._provider(name)
        prompt = inp.raw_prompt or inp.prefix
        texts: dict[int, str] = {}
        from assay.types import Choice, Usage
        reasons = {}
        usage = Usage()
        async for d in p.stream(EngineRequest(params=self._params(inp.overrides), prompt=prompt)):
            texts[d.index] = texts.get(d.index, "") + d.text
            if d.finish_reason:
                reasons[d.index] = d.finish_reason
            if d.usage:
                usage = d.usage
            if d.text:
                yield StreamChunk(d.text, d.index)
        trace = Trace(id=inp.trace_id or uuid.uuid4().hex, model=name, prompt=prompt)
        self.traces[trace.id] = trace
        yield CompletionResult(tuple(Choice(t, i, reasons[i]) for i, t in texts.items()), name, _lang(inp), usage, trace)

    async def chat(self, inp: ChatInput) -> Generation:
        name = inp.model or self.settings.model_for("chat").name
        return await self._provider(name).generate(EngineRequest(params=self._params(inp.overrides),
                                                                 messages=inp.messages))

    async def stream_chat(self, inp: ChatInput) -> AsyncIterator[StreamChunk | Generation]:
        gen = await self.chat(inp)
        for c in gen.choices:
            yield StreamChunk(c.text, c.index)
        yield gen

    def trace(self, trace_id: str) -> Trace | None:
        return self.traces.get(trace_id)


def engine_for(settings) -> Engine:
    """The real Engine once it is implemented, else the stand-in."""
    real = Engine(settings)
    if type(real).start is not Engine.start or "NotImplementedError" not in _source(Engine.start):
        return real
    return StubEngine(settings)


def _source(fn) -> str:
    import inspect

    return inspect.getsource(fn)


def _lang(inp):
    from assay.languages import detect_language

    lang = detect_language(inp.file_name, inp.language_id)
    return lang.id if lang else None
