"""Engine calls under the server's request budget (``server.request_timeout_s``).

A call that overruns the budget raises ``ProviderTimeout`` (504). Streams are primed: the first item
is awaited before the response starts, so errors that happen before any text still get their own
status code; after that the stream ends early when the budget runs out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from assay.errors import AssayError, ProviderTimeout
from assay.pipeline.engine import ChatInput, Engine, StreamChunk
from assay.pipeline.trace import new_trace_id
from assay.pipeline.types import CompletionInput, CompletionResult
from assay.server.deps import TRACE_HEADER
from assay.types import Generation

log = logging.getLogger("assay.server")
T = TypeVar("T")
R = TypeVar("R")


_Input = TypeVar("_Input", CompletionInput, ChatInput)


def with_trace_id(inp: _Input, preferred: str | None = None) -> _Input:
    """``inp`` with a trace id: its own, else ``preferred`` (a chat-served suggestion's id, so that the
    suggestion id names its trace), else a fresh one. The route returns it as ``X-Assay-Trace-Id``."""
    return inp if inp.trace_id else replace(inp, trace_id=preferred or new_trace_id())


def trace_header(inp: CompletionInput | ChatInput) -> dict[str, str]:
    """``X-Assay-Trace-Id: <inp's trace id>``, readable at ``GET /v1/traces/{id}``; empty without one."""
    return {TRACE_HEADER: inp.trace_id} if inp.trace_id else {}


def _timeout(budget_s: float) -> ProviderTimeout:
    return ProviderTimeout(f"no answer within the request budget of {budget_s:g} s (server.request_timeout_s)")


async def within(awaitable: Awaitable[T], budget_s: float) -> T:
    try:
        async with asyncio.timeout(budget_s):
            return await awaitable
    except TimeoutError:
        raise _timeout(budget_s) from None


async def complete(engine: Engine, inp: CompletionInput, budget_s: float) -> CompletionResult:
    return await within(engine.complete(inp), budget_s)


async def chat(engine: Engine, inp: ChatInput, budget_s: float) -> Generation:
    return await within(engine.chat(inp), budget_s)


@dataclass
class Primed(Generic[R]):
    """A started stream: text chunks as they come, then ``final`` (the engine's last item) once drained."""

    chunks: AsyncIterator[StreamChunk]
    final: R | None = None
    error: AssayError | None = None


async def prime(stream: AsyncIterator[StreamChunk | R], budget_s: float) -> Primed[R]:
    """Await the stream's first item within the budget, then hand back an iterator over the chunks.

    Errors before the first item propagate (and get their status code); later ones end the stream
    and are kept in ``error`` for the caller to report in-band.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget_s
    it = aiter(stream)

    async def next_item() -> StreamChunk | R:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise _timeout(budget_s)
        try:
            async with asyncio.timeout(remaining):
                return await anext(it)
        except TimeoutError:
            raise _timeout(budget_s) from None

    try:
        first = await next_item()
    except StopAsyncIteration:
        first = None
    except BaseException:
        await _close(it)
        raise
    primed: Primed[R] = Primed(chunks=_empty())

    async def chunks() -> AsyncIterator[StreamChunk]:
        item = first
        try:
            while item is not None:
                if isinstance(item, StreamChunk):
                    yield item
                else:
                    primed.final = item
                try:
                    item = await next_item()
                except StopAsyncIteration:
                    item = None
        except AssayError as exc:
            log.warning("stream ended early: %s", exc.message)
            primed.error = exc
        except Exception as exc:
            log.error("stream failed", exc_info=exc)
            primed.error = AssayError(f"internal server error ({type(exc).__name__}); see the assay server log")
        finally:
            await _close(it)

    primed.chunks = chunks()
    return primed


async def _empty() -> AsyncIterator[StreamChunk]:
    return
    yield


async def _close(it: AsyncIterator[object]) -> None:
    aclose = getattr(it, "aclose", None)
    if aclose is not None:
        try:
            await aclose()
        except Exception:  # noqa: BLE001
            log.debug("closing an engine stream failed", exc_info=True)
