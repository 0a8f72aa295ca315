"""The engine: the one object every endpoint calls. It owns the providers and runs the pipeline.

Completion (every code endpoint, every model)::

    language → context → token budget → FIM template (model spec) → decode (max tokens, wall time,
    stop sequences) → tree-sitter post-processing → filters

Chat requests skip the FIM stages and go straight to the provider with chat messages.

Before any stage sees a request, path exclusion drops excluded context files (an excluded current
file is answered with empty choices and no model call) and secret redaction replaces every secret
with a per-request placeholder; answers are restored on the way out (``assay.pipeline.redact``).

Non-streaming completions run through the same incremental post-processor as streaming ones, so both
stop decoding at the same point and give the same final text. Every call records a trace (failed
ones too, with ``Trace.error``) in a store of the last ``settings.server.trace_buffer`` traces.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

from assay.config import Settings
from assay.errors import ConfigError
from assay.pipeline.decode import DecodeState, stream_within
from assay.pipeline.exclusion import apply_exclusion, excluded_result, rules_for
from assay.pipeline.params import build_params
from assay.pipeline.prepare import prepare_completion
from assay.pipeline.redact import SecretVault, StreamRestorer, redact_completion, redact_messages
from assay.pipeline.trace import TraceStore, new_trace_id, records_error, timed
from assay.pipeline.types import CompletionInput, CompletionResult, RequestOverrides, Trace
from assay.providers.base import Provider
from assay.types import ChatMessage, Choice, EngineRequest, FinishReason, Generation, Usage


@dataclass(frozen=True)
class ModelInfo:
    name: str
    provider: str
    family: str
    context_length: int


@dataclass(frozen=True)
class ChatInput:
    messages: tuple[ChatMessage, ...]
    model: str | None = None
    overrides: RequestOverrides = RequestOverrides()
    file_name: str | None = None
    """The file the chat is about (GitLab generations); an excluded one gets no answer."""
    project: str | None = None
    trace_id: str | None = None
    """The id the engine's trace of this call gets (the server returns it as ``X-Assay-Trace-Id``); None: a fresh one."""


@dataclass(frozen=True)
class StreamChunk:
    """A piece of post-processed text for choice ``index`` (streaming endpoints frame these)."""

    text: str
    index: int = 0

_R = TypeVar("_R")


async def _final(items: AsyncIterator[object], kind: type[_R]) -> _R:
    """Drain ``items`` and return its last ``kind`` item (the pipelines yield their result last)."""
    result: _R | None = None
    async for item in items:
        if isinstance(item, kind):
            result = item
    assert result is not None
    return result


class Engine:
    """Holds the configured providers and runs the completion pipeline.

    Lifecycle: ``await engine.start()`` loads every model (and checks each spec against its
    tokenizer, raising ``ConfigError`` naming the token on a mismatch); ``await engine.close()``.
    Calls made before ``start()`` start the engine first.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._providers: dict[str, Provider] = {}
        self._traces = TraceStore(settings.server.trace_buffer)
        self._start_lock = asyncio.Lock()
        self._started = False

    async def start(self) -> None:
        from assay.providers.checks import check_provider_spec
        from assay.providers.registry import create_provider

        async with self._start_lock:
            if self._started:
                return
            started: dict[str, Provider] = {}
            try:
                for config in self.settings.models:
                    provider = create_provider(config)
                    started[config.name] = provider
                    await provider.start()
                    check_provider_spec(provider)
            except BaseException:
                for provider in started.values():
                    await provider.close()
                raise
            self._providers = started
            self._started = True

    async def close(self) -> None:
        async with self._start_lock:
            providers, self._providers, self._started = self._providers, {}, False
            for provider in providers.values():
                await provider.close()

    def models(self) -> list[ModelInfo]:
        from assay.providers.registry import model_id
        from assay.specs.registry import spec_for

        infos = []
        for config in self.settings.models:
            provider = self._providers.get(config.name)
            spec = provider.spec if provider is not None else spec_for(config.spec, model_id(config))
            infos.append(ModelInfo(config.name, config.provider, spec.family, spec.context_length))
        return infos

    async def _provider(self, name: str | None, feature: Literal["code_completions", "chat"]) -> Provider:
        config = self.settings.model(name) if name is not None else self.settings.model_for(feature)
        if not self._started:
            await self.start()
        provider = self._providers.get(config.name)
        if provider is None:
            raise ConfigError(f"model '{config.name}' is configured but was not started")
        return provider

    def _timeout_s(self, provider: Provider) -> float:
        return min(provider.config.timeout_s, self.settings.server.request_timeout_s)

    def _new_trace(self, trace_id: str | None, kind: str) -> Trace:
        trace = Trace(id=trace_id or new_trace_id(), kind=kind)
        self._traces.add(trace)
        return trace

    async def complete(self, inp: CompletionInput) -> CompletionResult:
        """Run the whole pipeline and return post-processed choices plus the trace."""
        return await _final(self._complete(inp, streaming=False), CompletionResult)

    def stream_complete(self, inp: CompletionInput) -> AsyncIterator[StreamChunk | CompletionResult]:
        """Yield post-processed text chunks as they become final, then the ``CompletionResult`` last."""
        return self._complete(inp, streaming=True)

    async def _complete(self, inp: CompletionInput, streaming: bool) -> AsyncIterator[StreamChunk | CompletionResult]:
        trace = self._new_trace(inp.trace_id, "completion")
        with records_error(trace):
            provider = await self._provider(inp.model, "code_completions")
            trace.model = provider.name
            inp, exclusion = apply_exclusion(inp, self.settings)
            trace.exclusion = exclusion.trace_entry()
            if exclusion.current_file:
                yield excluded_result(inp, provider.name, trace)
                return
            vault = SecretVault()
            if self.settings.redaction.enabled:
                inp = redact_completion(inp, vault)
                trace.redactions = vault.counts()
            restorers: dict[int, StreamRestorer] = {}
            prepared = prepare_completion(inp, provider, self.settings, trace)
            timeout_s = trace.budget["timeout_s"] = self._timeout_s(provider)
            state = DecodeState(prepared)
            with timed(trace, "decode"):
                async with aclosing(stream_within(provider, prepared.request, timeout_s)) as deltas:
                    async for delta in deltas:
                        out = state.feed(delta)
                        if streaming and out:
                            out = restorers.setdefault(delta.index, StreamRestorer(vault)).feed(out)
                        if streaming and out:
                            yield StreamChunk(out, delta.index)
                        if state.all_done():
                            break
            with timed(trace, "postprocess"):
                finals = state.finish(trace)
            if streaming:
                for index, rest in finals:
                    restorer = restorers.setdefault(index, StreamRestorer(vault))
                    rest = restorer.feed(rest) + restorer.flush()
                    if rest:
                        yield StreamChunk(rest, index)
            trace.raw_outputs = state.raw_outputs()
            usage = state.usage(trace.prompt_tokens)
            trace.completion_tokens = usage.completion_tokens
            choices = tuple(replace(c, text=vault.restore(c.text)) for c in state.choices())
            yield CompletionResult(choices=choices, model=provider.name, language=trace.language,
                                   usage=usage, trace=trace)

    async def chat(self, inp: ChatInput) -> Generation:
        return await _final(self._chat(inp, streaming=False), Generation)

    def stream_chat(self, inp: ChatInput) -> AsyncIterator[StreamChunk | Generation]:
        """Yield chunks, then the finished ``Generation`` last."""
        return self._chat(inp, streaming=True)

    async def _chat(self, inp: ChatInput, streaming: bool) -> AsyncIterator[StreamChunk | Generation]:
        trace = self._new_trace(inp.trace_id, "chat")
        with records_error(trace):
            provider = await self._provider(inp.model, "chat")
            trace.model = provider.name
            if not inp.messages:
                from assay.errors import RequestInvalid

                raise RequestInvalid("at least one message is required", field="messages")
            if rules_for(self.settings, inp.project).excludes(inp.file_name):
                trace.exclusion = {"current_file": True, "context_dropped": 0}
                yield Generation(choices=(), usage=Usage(), model=provider.name)
                return
            vault = SecretVault()
            messages = inp.messages
            if self.settings.redaction.enabled:
                messages = redact_messages(messages, vault)
                trace.redactions = vault.counts()
            restorers: dict[int, StreamRestorer] = {}
            params = build_params(inp.overrides, provider.config, provider.spec, fim_stops=False)
            request = EngineRequest(params=params, messages=messages)
            trace.prompt = "\n".join(f"[{m.role}]\n{m.content}" for m in messages)
            texts: dict[int, list[str]] = {}
            reasons: dict[int, FinishReason] = {}
            usage: Usage | None = None
            with timed(trace, "decode"):
                async with aclosing(stream_within(provider, request, self._timeout_s(provider))) as deltas:
                    async for delta in deltas:
                        texts.setdefault(delta.index, []).append(delta.text)
                        if delta.finish_reason is not None:
                            reasons[delta.index] = delta.finish_reason
                        if delta.usage is not None:
                            usage = delta.usage
                        if streaming:
                            out = restorers.setdefault(delta.index, StreamRestorer(vault)).feed(delta.text)
                            if out:
                                yield StreamChunk(out, delta.index)
            if streaming:
                for index, restorer in sorted(restorers.items()):
                    if rest := restorer.flush():
                        yield StreamChunk(rest, index)
            choices = tuple(Choice("".join(parts), i, reasons.get(i, FinishReason.LENGTH))
                            for i, parts in sorted(texts.items()))
            trace.raw_outputs = [c.text for c in choices]
            choices = tuple(replace(c, text=vault.restore(c.text)) for c in choices)
            usage = usage or Usage()
            # The trace is what a suggestion's exposure and an unreported call's metering read, as for completions.
            trace.prompt_tokens, trace.completion_tokens = usage.prompt_tokens, usage.completion_tokens
            yield Generation(choices=choices, usage=usage, model=provider.name)

    def trace(self, trace_id: str) -> Trace | None:
        """One of the last ``settings.server.trace_buffer`` traces, or None."""
        return self._traces.get(trace_id)
