"""What a finished call cost and who made it: every route hands its finished engine call to
:func:`report_usage` (model, prompt and completion tokens as the provider counted them, streams when they
end); the guard then charges those tokens to the quota and appends one audit record per call."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import Request

from assay.experiments.runtime import STATE_KEY as EXPERIMENTS_KEY
from assay.pipeline.engine import Engine
from assay.server.auth.principal import Principal
from assay.store import AuditEntry, Store
from assay.types import Usage

log = logging.getLogger("assay.server.audit")

USAGE_KEY = "assay_usage"
"""Where a route leaves what its finished call used, in the request's ``scope["state"]`` (``request.state``)."""


@dataclass(frozen=True)
class Metered:
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Finished(Protocol):
    """A finished engine call: ``CompletionResult`` and ``Generation`` both are one."""

    @property
    def model(self) -> str: ...

    @property
    def usage(self) -> Usage: ...


def report_usage(request: Request, result: Finished | None) -> None:
    """The one place a finished call says what it cost: the model and the provider's token counts (its own
    usage, else its tokenizer's), which the guard charges to the quota and writes to the audit log once
    the response is over, and the request's experiment exposures use when no trace holds them. Streams
    call it when they end, with the engine's final result (``None``: the stream ended without one, nothing
    to add). Several calls in one request add up."""
    if result is None:
        return
    earlier: Metered | None = getattr(request.state, USAGE_KEY, None)
    usage = result.usage
    if earlier is not None:
        usage = Usage(earlier.prompt_tokens + usage.prompt_tokens, earlier.completion_tokens + usage.completion_tokens)
    setattr(request.state, USAGE_KEY, Metered(result.model or None, usage.prompt_tokens, usage.completion_tokens))
    if (pending := getattr(request.state, EXPERIMENTS_KEY, None)) is not None:
        pending.usage = usage


def meter(engine: Engine, state: dict[str, Any], trace_id: str | None) -> Metered:
    """What a finished request used: what its route reported (:func:`report_usage`), else the engine's
    trace of the completion named by ``X-Assay-Trace-Id`` (routes that do not report, e.g. ``/infill``),
    else nothing. Never estimated from the response's bytes: a stream's framing is not tokens."""
    reported = state.get(USAGE_KEY)
    if isinstance(reported, Metered):
        return reported
    trace = engine.trace(trace_id) if trace_id else None
    if trace is None:
        return Metered()
    return Metered(trace.model or None, trace.prompt_tokens, trace.completion_tokens)


class AuditSink:
    """Appends one record per call to the store's audit log (in a worker thread); a failing write is logged,
    never turned into a failed request."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def record(self, principal: Principal, method: str, path: str, feature: str, status: int,
                     metered: Metered) -> None:
        entry = AuditEntry(at=time.time(), user=principal.user, key_id=principal.key_id, auth=principal.kind,
                           method=method, path=path, feature=feature, model=metered.model, status=status,
                           prompt_tokens=metered.prompt_tokens, completion_tokens=metered.completion_tokens)
        try:
            await asyncio.to_thread(self.store.audit.append, entry)
        except Exception as exc:  # noqa: BLE001
            log.error("audit record for %s %s by %s was not written: %s", method, path, principal.user, exc)
