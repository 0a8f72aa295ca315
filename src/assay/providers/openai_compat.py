"""The ``openai`` provider: any OpenAI-compatible server (vLLM, Ollama, llama.cpp server, OpenAI, assay).

Raw prompts go to ``POST {base_url}/completions``, chat messages to ``POST {base_url}/chat/completions``,
always with ``stream: true`` (a plain JSON answer is accepted too); each delta is passed on as it
arrives (a chat model serving FIM-as-chat included: the pipeline reads its answer from the stream with
:class:`~assay.providers.fim_chat_stream.FimAnswerStream`). Stop sequences are sent upstream
(at most ``options.max_upstream_stops``, OpenAI's limit being 4) and also enforced here; the wall-time
budget ends reading with ``FinishReason.TIME`` once some text came, and is a 504 (``ProviderTimeout``)
when none did: a hung upstream is not an empty suggestion. Usage comes from the upstream's usage chunk
(``stream_options.include_usage``), else from the ``tokenizer:`` of the model entry when set.

Options: ``stream_usage`` (default true: send ``stream_options``), ``max_upstream_stops`` (4),
``headers`` (extra request headers).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
from pydantic import Field

from assay.config import ModelConfig
from assay.errors import ConfigError, ProviderError
from assay.providers.base import Provider, TokenCounter
from assay.providers.hf_tokenizer import HFTokenizer, load_tokenizer
from assay.providers.http import Deadline, Event, events, make_client, silent_upstream, unexpected
from assay.providers.options import ProviderOptions, parse_options
from assay.providers.stops import StopScanner
from assay.specs.schema import ModelSpec
from assay.types import EngineRequest, FinishReason, TextDelta, Usage

_REASONS = {"length": FinishReason.LENGTH, "max_tokens": FinishReason.LENGTH}


class OpenAIOptions(ProviderOptions):
    stream_usage: bool = True
    max_upstream_stops: int = Field(4, ge=0)
    headers: dict[str, str] = Field(default_factory=dict)


class OpenAIProvider(Provider):
    """See the module docstring."""

    def __init__(self, config: ModelConfig, spec: ModelSpec) -> None:
        super().__init__(config, spec)
        if not config.base_url:
            raise ConfigError(f"model '{config.name}': provider openai needs base_url (e.g. http://localhost:8000/v1)")
        self.options = parse_options(config, OpenAIOptions)
        self.who = f"model '{config.name}'"
        self._client: httpx.AsyncClient | None = None
        self._tokenizer: HFTokenizer | None = None

    async def start(self) -> None:
        if self.config.tokenizer and self._tokenizer is None:
            self._tokenizer = await asyncio.to_thread(load_tokenizer, self.config.tokenizer, self.config.name)
        self.client()

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            headers = {"Content-Type": "application/json", **self.options.headers}
            if key := self.config.api_key():
                headers["Authorization"] = f"Bearer {key}"
            self._client = make_client(self.config, self.config.base_url or "", headers)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def tokenizer(self) -> TokenCounter | None:
        return self._tokenizer

    def special_tokens(self) -> set[str] | None:
        return self._tokenizer.special_tokens() if self._tokenizer is not None else None

    def _body(self, request: EngineRequest) -> tuple[str, dict[str, Any]]:
        p = request.params
        body: dict[str, Any] = {"model": self.config.upstream_model, "max_tokens": p.max_tokens,
                                "temperature": p.temperature, "top_p": p.top_p, "n": p.n, "stream": True}
        if p.stop and self.options.max_upstream_stops:
            body["stop"] = list(p.stop[: self.options.max_upstream_stops])
        if p.seed is not None:
            body["seed"] = p.seed
        if self.options.stream_usage:
            body["stream_options"] = {"include_usage": True}
        if request.prompt is not None:
            return "completions", {**body, "prompt": request.prompt}
        return "chat/completions", {**body, "messages": [{"role": m.role, "content": m.content} for m in request.messages]}

    async def stream(self, request: EngineRequest) -> AsyncIterator[TextDelta]:
        params = request.params
        path, body = self._body(request)
        scanners = [StopScanner(params.stop) for _ in range(params.n)]
        reasons: dict[int, FinishReason] = {}
        usage: Usage | None = None
        deadline = Deadline(params.time_budget_s)
        answered = produced = False
        try:
            async for event in deadline.take(events(self.client(), path, body, self.who)):
                answered = True
                usage = _usage(event) or usage
                for index, text, reason in _pieces(event, self.who):
                    produced = produced or bool(text)
                    if index >= params.n or scanners[index].stopped:
                        continue
                    delta = scanners[index].push(text)
                    if delta:
                        yield TextDelta(text=delta, index=index)
                    if scanners[index].stopped:
                        reasons[index] = FinishReason.STOP
                    elif reason is not None:
                        reasons[index] = _REASONS.get(reason, FinishReason.STOP)
                if all(s.stopped for s in scanners):
                    break
        except Exception as exc:
            raise unexpected(self.who, exc) from None
        if deadline.expired and not produced:
            raise silent_upstream(self.who, self.client(), path, params.time_budget_s, answered)
        if usage is None:
            usage = self._count(request, [s.text for s in scanners])
        for index, scanner in enumerate(scanners):
            default = FinishReason.TIME if deadline.expired else FinishReason.LENGTH
            yield TextDelta(text=scanner.finish(), index=index, finish_reason=reasons.get(index, default),
                            usage=usage if index == params.n - 1 else None)

    def _count(self, request: EngineRequest, texts: list[str]) -> Usage:
        tok = self._tokenizer
        if tok is None:
            return Usage()
        prompt = request.prompt if request.prompt is not None else "\n".join(m.content for m in request.messages)
        return Usage(prompt_tokens=len(tok.encode(prompt)), completion_tokens=sum(len(tok.encode(t)) for t in texts))


def _usage(event: Event) -> Usage | None:
    data = event.data
    raw = data.get("usage") if isinstance(data, dict) else None
    if not isinstance(raw, dict):
        return None
    return Usage(prompt_tokens=int(raw.get("prompt_tokens") or 0), completion_tokens=int(raw.get("completion_tokens") or 0))


def _pieces(event: Event, who: str) -> list[tuple[int, str, str | None]]:
    """``(index, text, finish_reason)`` for each choice in a completions / chat chunk or full body."""
    data = event.data
    if not isinstance(data, dict):
        raise ValueError("an event that is not a JSON object")
    if "error" in data and "choices" not in data:
        err = data["error"]
        message = str(err.get("message", err)) if isinstance(err, dict) else str(err)
        raise ProviderError(f"{who}: upstream reported an error: {message}"[:300])
    out: list[tuple[int, str, str | None]] = []
    for choice in data.get("choices") or []:
        if "text" in choice:
            text = choice["text"]
        else:
            part = choice.get("delta") or choice.get("message") or {}
            text = part.get("content")
        out.append((int(choice.get("index", 0)), text or "", choice.get("finish_reason")))
    return out
