"""The provider contract: one abstract streaming method, everything else a hook with a default.

A provider turns an :class:`~assay.types.EngineRequest` into text. It knows nothing of HTTP endpoints,
FIM templates or post-processing: the pipeline renders the prompt from the model spec and the
provider only decodes it within ``params.max_tokens`` and ``params.time_budget_s``, honouring
``params.stop``.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Protocol

from assay.types import Choice, EngineRequest, FinishReason, Generation, TextDelta, Usage

if TYPE_CHECKING:
    from assay.config import ModelConfig
    from assay.providers.healing import HealSplit
    from assay.specs.schema import ModelSpec


class TokenCounter(Protocol):
    """The model's tokenizer as the pipeline needs it: count and cut by tokens."""

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: list[int]) -> str: ...


class Provider(abc.ABC):
    """Base class of every backend. Subclasses register with ``@register_provider("name")``."""

    def __init__(self, config: ModelConfig, spec: ModelSpec) -> None:
        self.config = config
        self.spec = spec

    @property
    def name(self) -> str:
        return self.config.name

    @abc.abstractmethod
    def stream(self, request: EngineRequest) -> AsyncIterator[TextDelta]:
        """Yield text deltas; the last delta of each choice carries its finish reason.

        Raises ``ProviderError`` / ``ProviderTimeout`` (from ``assay.errors``) on failure, never a
        foreign exception type.
        """

    async def generate(self, request: EngineRequest) -> Generation:
        """Non-streaming convenience built on :meth:`stream`."""
        texts: dict[int, list[str]] = {}
        reasons: dict[int, FinishReason] = {}
        usage = Usage()
        async for delta in self.stream(request):
            if delta.usage is not None:
                usage = delta.usage
            texts.setdefault(delta.index, []).append(delta.text)
            if delta.finish_reason is not None:
                reasons[delta.index] = delta.finish_reason
        choices = tuple(
            Choice(text="".join(parts), index=i, finish_reason=reasons.get(i, FinishReason.LENGTH))
            for i, parts in sorted(texts.items())
        )
        return Generation(choices=choices, usage=usage, model=self.name)

    def tokenizer(self) -> TokenCounter | None:
        """The model's real tokenizer, when the provider has one (local models, or ``tokenizer:`` in config)."""
        return None

    def heal_split(self, prefix: str) -> HealSplit | None:
        """Token healing: ``prefix`` cut at a token boundary, when this provider can constrain its answer to
        re-grow the cut (``EngineRequest.healed``); None when it cannot (providers that never see tokens)."""
        return None

    def special_tokens(self) -> set[str] | None:
        """Special tokens the tokenizer declares, for the spec check at start; None when unknown."""
        return None

    async def start(self) -> None:  # noqa: B027
        """Load weights / open connections. Called once before serving."""

    async def close(self) -> None:  # noqa: B027
        """Release resources."""
