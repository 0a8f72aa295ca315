"""The engine: the one object every endpoint calls. It owns the providers and runs the pipeline.

Completion (every code endpoint, every model)::

    language → context → token budget → FIM template (model spec) → decode (max tokens, wall time,
    stop sequences) → tree-sitter post-processing → filters

Chat requests skip the FIM stages and go straight to the provider with chat messages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from assay.config import Settings
from assay.pipeline.types import CompletionInput, CompletionResult, RequestOverrides, Trace
from assay.types import ChatMessage, Generation


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


@dataclass(frozen=True)
class StreamChunk:
    """A piece of post-processed text for choice ``index`` (streaming endpoints frame these)."""

    text: str
    index: int = 0


class Engine:
    """Holds the configured providers and runs the completion pipeline.

    Lifecycle: ``await engine.start()`` loads every model (and checks each spec against its
    tokenizer, raising ``ConfigError`` naming the token on a mismatch); ``await engine.close()``.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def start(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    def models(self) -> list[ModelInfo]:
        raise NotImplementedError

    async def complete(self, inp: CompletionInput) -> CompletionResult:
        """Run the whole pipeline and return post-processed choices plus the trace."""
        raise NotImplementedError

    def stream_complete(self, inp: CompletionInput) -> AsyncIterator[StreamChunk | CompletionResult]:
        """Yield post-processed text chunks as they become final, then the ``CompletionResult`` last."""
        raise NotImplementedError

    async def chat(self, inp: ChatInput) -> Generation:
        raise NotImplementedError

    def stream_chat(self, inp: ChatInput) -> AsyncIterator[StreamChunk | Generation]:
        """Yield chunks, then the finished ``Generation`` last."""
        raise NotImplementedError

    def trace(self, trace_id: str) -> Trace | None:
        """One of the last ``settings.server.trace_buffer`` traces, or None."""
        raise NotImplementedError
