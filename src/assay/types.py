"""Shared domain types: what every layer passes to the one below it.

These are strict, frozen dataclasses. Wire formats (OpenAI, GitLab, llama.cpp JSON bodies) live in
``assay.server.protocol`` and are converted into these types exactly once, in one function per
endpoint family.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal


class FinishReason(str, enum.Enum):
    """Why a generation ended."""

    STOP = "stop"
    """A stop sequence or the end-of-text token was produced, or post-processing closed the unit."""
    LENGTH = "length"
    """The max-token budget was reached."""
    TIME = "time"
    """The wall-time budget was reached (reported as ``length`` on OpenAI-shaped wires)."""

    def wire(self) -> str:
        """The value OpenAI-compatible clients understand (``stop`` or ``length``)."""
        return "stop" if self is FinishReason.STOP else "length"


Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class GenerateParams:
    """Decoding parameters handed to a provider. Precedence when built: request → model defaults → these defaults."""

    max_tokens: int = 64
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    n: int = 1
    time_budget_s: float | None = None
    """Wall-clock budget for decoding; a provider stops and reports ``FinishReason.TIME`` when it runs out."""
    seed: int | None = None
    repetition_penalty: float = 1.0
    """CTRL-style penalty on tokens already in the prompt or the output (1.0 = off); honoured by local models,
    where small ones otherwise fall into loops."""
    token_healing: bool = False
    """Heal the prefix of FIM prompts the pipeline builds (``assay.providers.healing``), for providers that can
    (``Provider.heal_split``); providers themselves read ``EngineRequest.healed``, not this flag."""


@dataclass(frozen=True)
class EngineRequest:
    """One request to a provider: either a raw text prompt (already templated) or chat messages."""

    params: GenerateParams
    prompt: str | None = None
    messages: tuple[ChatMessage, ...] = ()
    healed: str = ""
    """Text token healing cut from the prompt's prefix: the answer must begin with it, and the provider
    leaves it out of the text it returns. Set only for providers whose ``heal_split`` gave it."""

    def __post_init__(self) -> None:
        if (self.prompt is None) == (not self.messages):
            raise ValueError("EngineRequest needs exactly one of prompt or messages")


@dataclass(frozen=True)
class TextDelta:
    """A streamed piece of one choice. The last delta of a choice carries its finish reason."""

    text: str
    index: int = 0
    finish_reason: FinishReason | None = None
    usage: Usage | None = None
    """Token counts for the whole request; set on the stream's final delta when the backend reports them."""


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Choice:
    text: str
    index: int = 0
    finish_reason: FinishReason = FinishReason.LENGTH


@dataclass(frozen=True)
class Generation:
    """A finished provider response (all choices)."""

    choices: tuple[Choice, ...]
    usage: Usage = field(default_factory=Usage)
    model: str = ""
