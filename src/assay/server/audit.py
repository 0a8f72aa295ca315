"""What a finished call cost and who made it: the model and token counts read from the response (OpenAI
``usage``, GitLab ``tokens_consumption_metadata``, llama.cpp ``tokens_evaluated`` / ``tokens_predicted``),
else from the request's pipeline trace; then one append-only audit record per call."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from assay.pipeline.engine import Engine
from assay.server.auth.principal import Principal
from assay.store import AuditEntry, Store

log = logging.getLogger("assay.server.audit")

CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class Metered:
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def _int(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def _from_json(data: Any) -> Metered | None:
    if not isinstance(data, dict):
        return None
    usage = data.get("usage")
    if isinstance(usage, dict) and "prompt_tokens" in usage:
        model = data.get("model") if isinstance(data.get("model"), str) else None
        return Metered(model, _int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens")))
    model = data.get("model")
    if isinstance(model, dict):
        tokens = model.get("tokens_consumption_metadata")
        if isinstance(tokens, dict):
            return Metered(model.get("name"), _int(tokens.get("input_tokens")), _int(tokens.get("output_tokens")))
    if "tokens_predicted" in data:
        return Metered(model if isinstance(model, str) else None, _int(data.get("tokens_evaluated")),
                       _int(data.get("tokens_predicted")))
    return None


def meter(engine: Engine, content_type: str, body: bytes, streamed_chars: int, trace_id: str | None) -> Metered:
    """The model and tokens of one response (``body``: the buffered JSON body, if any)."""
    if body and content_type.startswith("application/json"):
        try:
            found = _from_json(json.loads(body))
        except ValueError:
            found = None
        if found is not None:
            return found
    trace = engine.trace(trace_id) if trace_id else None
    if trace is None:
        return Metered(completion_tokens=streamed_chars // CHARS_PER_TOKEN)
    output_chars = streamed_chars or sum(len(t) for t in trace.raw_outputs)
    return Metered(trace.model or None, trace.prompt_tokens, output_chars // CHARS_PER_TOKEN)


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
