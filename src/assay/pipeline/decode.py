"""Stage 5: decoding. The provider decodes within the request's max-token and wall-time budgets; this
module bounds the whole call by the model's timeout and feeds the raw deltas through post-processing.

``stream_within`` turns an overrun into ``ProviderTimeout`` (and any foreign exception a provider lets
escape into ``ProviderError``). ``DecodeState`` keeps each choice's raw text, runs the incremental
post-processor, and says when every choice's unit has ended so the caller can stop decoding.
Replies of FIM-as-chat models are read by :class:`~assay.providers.fim_chat_stream.FimAnswerStream`
first: the answer streams as soon as it is inside ``<COMPLETION>`` (a reply without the tag is
released at the end); with ``postprocess=False`` raw deltas pass straight through.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from assay.errors import AssayError, ProviderError, ProviderTimeout
from assay.pipeline.postprocess import PostResult
from assay.pipeline.postprocess.stream import StreamingPostprocessor
from assay.pipeline.prepare import PreparedCompletion
from assay.pipeline.types import Trace
from assay.providers.base import Provider
from assay.providers.fim_chat_stream import FimAnswerStream
from assay.types import Choice, EngineRequest, FinishReason, TextDelta, Usage

_TRUNCATING_STEPS = frozenset({"single_line", "truncate_syntax", "truncate_indent"})


async def stream_within(provider: Provider, request: EngineRequest, timeout_s: float) -> AsyncGenerator[TextDelta]:
    """The provider's deltas; ``ProviderTimeout`` when the whole stream takes longer than ``timeout_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    stream = aiter(provider.stream(request))
    try:
        while True:
            remaining = deadline - loop.time()
            try:
                if remaining <= 0:
                    raise TimeoutError
                delta = await asyncio.wait_for(anext(stream), remaining)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise ProviderTimeout(f"model '{provider.name}' did not finish within {timeout_s:g} s") from None
            except AssayError:
                raise
            except Exception as exc:
                raise ProviderError(f"model '{provider.name}' failed: {type(exc).__name__}: {exc}"[:300]) from None
            yield delta
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()


class DecodeState:
    """Raw text, finish reasons and post-processing of every choice of one completion request."""

    def __init__(self, prepared: PreparedCompletion) -> None:
        self.prepared = prepared
        self.n = prepared.request.params.n
        self.readers = {i: FimAnswerStream() for i in range(self.n)} if prepared.chat_answer else {}
        self.processors = ({i: StreamingPostprocessor(prepared.post) for i in range(self.n)}
                           if prepared.post is not None else {})
        self.raw: dict[int, list[str]] = {i: [] for i in range(self.n)}
        self.reasons: dict[int, FinishReason] = {}
        self.provider_usage: Usage | None = None
        self.results: dict[int, PostResult] = {}

    def feed(self, delta: TextDelta) -> str:
        """Record one delta; return the text of choice ``delta.index`` that became final."""
        if delta.usage is not None:
            self.provider_usage = delta.usage
        if delta.finish_reason is not None:
            self.reasons[delta.index] = delta.finish_reason
        processor = self.processors.get(delta.index)
        if processor is not None and processor.done:
            return ""
        self.raw.setdefault(delta.index, []).append(delta.text)
        reader = self.readers.get(delta.index)
        text = reader.push(delta.text) if reader is not None else delta.text
        return processor.feed(text) if processor is not None and text else text

    def all_done(self) -> bool:
        """True when post-processing has decided where every choice ends (decoding may stop)."""
        return bool(self.processors) and all(p.done for p in self.processors.values())

    def raw_outputs(self) -> list[str]:
        return ["".join(parts) for _, parts in sorted(self.raw.items())]

    def finish(self, trace: Trace) -> list[tuple[int, str]]:
        """Post-process every choice; returns ``(index, text not yet streamed)`` per choice."""
        rests: list[tuple[int, str]] = []
        for index, parts in sorted(self.raw.items()):
            raw = "".join(parts)
            processor = self.processors.get(index)
            reader = self.readers.get(index)
            tail = reader.finish() if reader is not None else ""
            if reader is not None and reader.answer != raw:
                trace.postprocess.append({"choice": index, "step": "extract_chat_answer", "removed": ""})
            if processor is not None:
                head = processor.feed(tail) if tail and not processor.done else ""
                result, rest = processor.finish()
                rest = head + rest
                if not processor.consistent:
                    trace.postprocess.append({"choice": index, "step": "stream_mismatch",
                                              "removed": processor.emitted})
            else:
                result, rest = PostResult(reader.answer if reader is not None else raw), tail
            for removal in result.removals:
                trace.postprocess.append({"choice": index, "step": removal.step, "removed": removal.removed})
            self.results[index] = result
            rests.append((index, rest))
        return rests

    def _reason(self, index: int) -> FinishReason:
        processor = self.processors.get(index)
        result = self.results.get(index)
        if (processor is not None and processor.done) or (
                result is not None and any(r.step in _TRUNCATING_STEPS for r in result.removals)):
            return FinishReason.STOP
        return self.reasons.get(index, FinishReason.LENGTH)

    def choices(self) -> tuple[Choice, ...]:
        return tuple(Choice(text=self.results[i].text if i in self.results else "".join(self.raw[i]),
                            index=i, finish_reason=self._reason(i)) for i in sorted(self.raw))

    def usage(self, prompt_tokens: int) -> Usage:
        """The provider's counts when it reported them (decoding ran to the end), else our own."""
        if self.provider_usage is not None:
            return self.provider_usage
        meter = self.prepared.meter
        return Usage(prompt_tokens=prompt_tokens, completion_tokens=sum(meter.count(t) for t in self.raw_outputs()))
