"""OpenAI-compatible wire models (``/v1/completions``, ``/v1/chat/completions``, ``/v1/models``).

Shapes follow OpenAI's API so the official SDK works unchanged. ``prompt`` plus ``suffix`` on
``/v1/completions`` is fill-in-the-middle and runs the whole pipeline; a bare ``prompt`` is sent to
the model verbatim, without template or post-processing, as OpenAI-compatible clients expect.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assay.errors import RequestInvalid
from assay.pipeline.engine import ChatInput
from assay.pipeline.types import CompletionInput, RequestOverrides
from assay.types import ChatMessage, Usage


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore")


class StreamOptions(_Request):
    include_usage: bool = False


class _Sampling(_Request):
    model: str | None = Field(default=None, max_length=255)
    """A configured model name; None = the model serving the endpoint's feature."""
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    stop: str | list[str] | None = None
    n: int = Field(default=1, ge=1, le=16)
    stream: bool = False
    stream_options: StreamOptions | None = None
    seed: int | None = None
    user: str | None = Field(default=None, max_length=256)
    """The end user (OpenAI's field); the unit of assay's experiments when no GitLab user header is sent."""

    def overrides(self, max_tokens: int | None = None) -> RequestOverrides:
        stop = [self.stop] if isinstance(self.stop, str) else self.stop
        return RequestOverrides(
            max_tokens=max_tokens if max_tokens is not None else self.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            stop=tuple(stop) if stop is not None else None,
            n=self.n,
            seed=self.seed,
        )

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


class CompletionRequest(_Sampling):
    prompt: str | list[str] = Field(max_length=1_000_000)
    suffix: str | None = Field(default=None, max_length=1_000_000)


class TextPart(_Request):
    type: Literal["text"]
    text: str


class ChatMessageIn(_Request):
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None = None


class ChatCompletionRequest(_Sampling):
    messages: list[ChatMessageIn] = Field(min_length=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)


def to_completion_input(req: CompletionRequest) -> CompletionInput:
    """``prompt`` (+ ``suffix``) → pipeline input; a list prompt must hold exactly one string."""
    if isinstance(req.prompt, list):
        if len(req.prompt) != 1:
            raise RequestInvalid(f"exactly one prompt per request is supported, got {len(req.prompt)}", field="prompt")
        prompt = req.prompt[0]
    else:
        prompt = req.prompt
    fim = req.suffix is not None
    return CompletionInput(
        prefix=prompt,
        suffix=req.suffix or "",
        model=req.model or None,
        overrides=req.overrides(),
        raw_prompt=None if fim else prompt,
        postprocess=fim,
    )


def to_chat_input(req: ChatCompletionRequest) -> ChatInput:
    """Chat messages → pipeline input (``developer`` counts as ``system``; text parts are joined)."""
    messages = []
    for m in req.messages:
        text = m.content if isinstance(m.content, str) else "".join(p.text for p in m.content or [])
        messages.append(ChatMessage(role="system" if m.role == "developer" else m.role, content=text))
    return ChatInput(
        messages=tuple(messages),
        model=req.model or None,
        overrides=req.overrides(req.max_completion_tokens or req.max_tokens),
    )


class UsageOut(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int

    @classmethod
    def of(cls, usage: Usage) -> UsageOut:
        return cls(prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                   total_tokens=usage.total_tokens)


class CompletionChoice(BaseModel):
    text: str
    index: int
    logprobs: None = None
    finish_reason: Literal["stop", "length"] | None


class CompletionResponse(BaseModel):
    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: UsageOut | None = None
    assay_experiments: list[dict[str, str | int]] | None = Field(default=None, exclude_if=lambda v: v is None)
    """``[{name, variant, arm}]`` of the experiments this request is in (also in ``X-Assay-Experiments``)."""


class ChatMessageOut(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int
    message: ChatMessageOut
    logprobs: None = None
    finish_reason: Literal["stop", "length"]


class ChatCompletionResponse(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: UsageOut
    assay_experiments: list[dict[str, str | int]] | None = Field(default=None, exclude_if=lambda v: v is None)
    """``[{name, variant, arm}]`` of the experiments a ``feature:<id>`` request is in (also in ``X-Assay-Experiments``)."""


class ChatDelta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChatChunkChoice(BaseModel):
    index: int
    delta: ChatDelta
    logprobs: None = None
    finish_reason: Literal["stop", "length"] | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChatChunkChoice]
    usage: UsageOut | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "assay"
    provider: str
    family: str
    context_length: int


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    """OpenAI's error shape; the SDK picks its typed exception from the HTTP status."""

    error: ErrorDetail
