"""The ``anthropic`` provider: Claude models over the Messages API (``POST /v1/messages``, streamed).

Chat models have no FIM tokens: for code completion the pipeline sends the messages built by
:func:`assay.providers.fim_chat.fim_chat_messages` (specs with ``fim.mode: chat``) and reads the
answer from the streamed reply with :class:`~assay.providers.fim_chat_stream.FimAnswerStream`, so this
provider passes each text delta on as it arrives and never waits for the whole reply. A raw ``prompt``
is sent as one user message. System messages become the top-level ``system`` field. ``n`` choices are
``n`` requests (the API has no ``n``), sharing one wall-time budget; a budget that runs out before any text
came is a 504 (``ProviderTimeout``), not an empty answer. Stop sequences that are only whitespace (which the API
refuses) are enforced here only; the others are sent as ``stop_sequences`` and enforced here too.

Headers: ``x-api-key`` (from ``api_key_env``), ``anthropic-version: 2023-06-01``. ``base_url`` defaults
to ``https://api.anthropic.com``. Options: ``headers`` (extra request headers).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
from pydantic import Field

from assay.config import ModelConfig
from assay.errors import ProviderError
from assay.providers.base import Provider
from assay.providers.http import Deadline, Event, events, make_client, silent_upstream, unexpected
from assay.providers.options import ProviderOptions, parse_options
from assay.providers.stops import StopScanner
from assay.specs.schema import ModelSpec
from assay.types import EngineRequest, FinishReason, TextDelta, Usage

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
_REASONS = {"max_tokens": FinishReason.LENGTH}


class AnthropicOptions(ProviderOptions):
    headers: dict[str, str] = Field(default_factory=dict)


class AnthropicProvider(Provider):
    """See the module docstring."""

    def __init__(self, config: ModelConfig, spec: ModelSpec) -> None:
        super().__init__(config, spec)
        self.options = parse_options(config, AnthropicOptions)
        self.who = f"model '{config.name}'"
        base = (config.base_url or DEFAULT_BASE_URL).rstrip("/")
        self.base_url = base[: -len("/v1")] if base.endswith("/v1") else base
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self.client()

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            headers = {"anthropic-version": API_VERSION, "content-type": "application/json", **self.options.headers}
            if key := self.config.api_key():
                headers["x-api-key"] = key
            self._client = make_client(self.config, self.base_url, headers)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def body(self, request: EngineRequest) -> dict[str, Any]:
        """The Messages API request body (streaming) for ``request``."""
        p = request.params
        if request.prompt is not None:
            system, turns = [], [{"role": "user", "content": request.prompt}]
        else:
            system = [m.content for m in request.messages if m.role == "system"]
            turns = [{"role": m.role, "content": m.content} for m in request.messages if m.role != "system"]
        body: dict[str, Any] = {"model": self.config.upstream_model, "max_tokens": p.max_tokens, "messages": turns,
                                "temperature": p.temperature, "stream": True}
        if system:
            body["system"] = "\n\n".join(system)
        if p.top_p < 1.0:
            body["top_p"] = p.top_p
        if stops := [s for s in p.stop if s.strip()]:
            body["stop_sequences"] = stops
        return body

    async def stream(self, request: EngineRequest) -> AsyncIterator[TextDelta]:
        params = request.params
        deadline = Deadline(params.time_budget_s)
        usage = Usage()
        body = self.body(request)
        answered = produced = False
        for index in range(params.n):
            scanner = StopScanner(params.stop)
            reason: FinishReason | None = None
            try:
                async for event in deadline.take(events(self.client(), "/v1/messages", body, self.who, done_marker=None)):
                    answered = True
                    text, stop_reason = _read(event, usage, self.who)
                    produced = produced or bool(text)
                    if text and (delta := scanner.push(text)):
                        yield TextDelta(text=delta, index=index)
                    if scanner.stopped:
                        reason = FinishReason.STOP
                        break
                    if stop_reason is not None:
                        reason = _REASONS.get(stop_reason, FinishReason.STOP)
            except Exception as exc:
                raise unexpected(self.who, exc) from None
            if deadline.expired and not produced:
                raise silent_upstream(self.who, self.client(), "/v1/messages", params.time_budget_s, answered)
            if reason is None:
                reason = FinishReason.TIME if deadline.expired else FinishReason.LENGTH
            yield TextDelta(text=scanner.finish(), index=index, finish_reason=reason,
                            usage=usage if index == params.n - 1 else None)


def _read(event: Event, usage: Usage, who: str) -> tuple[str, str | None]:
    """Text and stop reason carried by one Messages API event; adds its token counts to ``usage``."""
    data = event.data
    if not isinstance(data, dict):
        raise ValueError("an event that is not a JSON object")
    kind = data.get("type", event.name)
    if kind == "error":
        err = data.get("error") or {}
        raise ProviderError(f"{who}: upstream reported {err.get('type', 'an error')}: {err.get('message', '')}"[:300])
    if kind == "message_start":
        usage.prompt_tokens += int((data["message"].get("usage") or {}).get("input_tokens") or 0)
    elif kind == "content_block_delta":
        delta = data.get("delta") or {}
        if delta.get("type") == "text_delta":
            return delta.get("text", ""), None
    elif kind == "message_delta":
        usage.completion_tokens += int((data.get("usage") or {}).get("output_tokens") or 0)
        return "", (data.get("delta") or {}).get("stop_reason")
    elif kind == "message":
        usage.prompt_tokens += int((data.get("usage") or {}).get("input_tokens") or 0)
        usage.completion_tokens += int((data.get("usage") or {}).get("output_tokens") or 0)
        text = "".join(block.get("text", "") for block in data.get("content") or [] if block.get("type") == "text")
        return text, data.get("stop_reason") or "end_turn"
    return "", None
