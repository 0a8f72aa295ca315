"""The ``echo`` provider: deterministic answers for CI, demos and fault tests. Never a real model.

Like GitLab's ``AIGW_MOCK_MODEL_RESPONSES``, it lets the whole gateway run without weights. Options
(``options:`` of the model entry)::

    mode: reply | echo     reply: answer ``reply``; echo: answer the prompt's last line
                           (default: reply when ``reply`` is set, else echo)
    reply: "text" | [..]   a fixed answer, or a list answered in turn (cycling; one per choice)
    delay_s: 0.5           sleep before answering; past ``time_budget_s`` the answer is cut with
                           FinishReason.TIME, past the model's ``timeout_s`` it raises ProviderTimeout
    fail_status: 502       raise instead of answering: 504 → ProviderTimeout, 429 → RateLimited,
                           anything else → ProviderError naming the status
    chunk_size: 4          stream the answer in pieces of this many characters (default: one piece)

Stop sequences are honoured (the answer is cut before the first one). Usage counts whitespace-
separated words, since there is no tokenizer.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Literal

from pydantic import Field

from assay.config import ModelConfig
from assay.errors import ProviderError, ProviderTimeout, RateLimited
from assay.providers.base import Provider
from assay.providers.options import ProviderOptions, parse_options
from assay.providers.stops import StopScanner
from assay.specs.schema import ModelSpec
from assay.types import EngineRequest, FinishReason, TextDelta, Usage


class EchoOptions(ProviderOptions):
    mode: Literal["echo", "reply"] | None = None
    reply: str | list[str] | None = None
    delay_s: float = Field(0.0, ge=0.0)
    fail_status: int | None = Field(None, ge=400, le=599)
    chunk_size: int | None = Field(None, ge=1)


class EchoProvider(Provider):
    """See the module docstring."""

    def __init__(self, config: ModelConfig, spec: ModelSpec) -> None:
        super().__init__(config, spec)
        self.options = parse_options(config, EchoOptions)
        replies = self.options.reply
        self._replies = itertools.cycle([replies] if isinstance(replies, str) else (replies or [""]))
        self.mode = self.options.mode or ("reply" if replies is not None else "echo")
        self.calls = 0

    def _answer(self, request: EngineRequest) -> str:
        if self.mode == "reply":
            return next(self._replies)
        text = request.prompt if request.prompt is not None else request.messages[-1].content
        return text.rstrip("\n").rsplit("\n", 1)[-1]

    async def _wait(self, params_budget: float | None) -> bool:
        """Sleep ``delay_s``; False when the time budget ran out first. Raises on the model's timeout."""
        delay = self.options.delay_s
        budget = params_budget if params_budget is not None else float("inf")
        timeout = self.config.timeout_s
        if delay >= timeout and timeout <= budget:
            await asyncio.sleep(timeout)
            raise ProviderTimeout(f"model '{self.name}' (echo) did not answer within {timeout:g}s")
        if delay > budget:
            await asyncio.sleep(budget)
            return False
        await asyncio.sleep(delay)
        return True

    async def stream(self, request: EngineRequest) -> AsyncIterator[TextDelta]:
        self.calls += 1
        params = request.params
        status = self.options.fail_status
        in_time = await self._wait(params.time_budget_s)
        if status is not None:
            if status == 504:
                raise ProviderTimeout(f"model '{self.name}' (echo) was told to time out (fail_status 504)")
            if status == 429:
                raise RateLimited(f"model '{self.name}' (echo) was told to rate-limit (fail_status 429)", 1.0)
            raise ProviderError(f"model '{self.name}' (echo) was told to fail with HTTP {status}")
        prompt_text = request.prompt if request.prompt is not None else " ".join(m.content for m in request.messages)
        usage = Usage(prompt_tokens=len(prompt_text.split()))
        for index in range(params.n):
            answer = self._answer(request) if in_time else ""
            scanner = StopScanner(params.stop)
            scanner.update(answer)
            text = scanner.text
            size = self.options.chunk_size or max(len(text), 1)
            pieces = [text[i:i + size] for i in range(0, len(text), size)] or [""]
            reason = FinishReason.STOP if in_time else FinishReason.TIME
            usage.completion_tokens += len(text.split())
            last_choice = index == params.n - 1
            for k, piece in enumerate(pieces):
                last = k == len(pieces) - 1
                yield TextDelta(text=piece, index=index, finish_reason=reason if last else None,
                                usage=usage if last and last_choice else None)
                await asyncio.sleep(0)
