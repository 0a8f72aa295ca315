"""One choice's incremental decode for the local provider, run as a transformers stopping criterion.

transformers calls the criterion after every new token with the whole sequence; the criterion decodes
the generated ids, streams the newly safe text, and ends generation on a stop sequence, the wall-time
budget, or cancellation. End-of-text tokens and the job's hidden special tokens are never part of the text.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from assay.providers.base import TokenCounter
from assay.providers.inprocess import DecodeOutcome, ended_by
from assay.providers.stops import StopScanner


class ChoiceDecoder:
    """A ``StoppingCriteria``-compatible callable; see the module docstring."""

    def __init__(self, tokenizer: TokenCounter, prompt_len: int, stops: Sequence[str], deadline: float | None,
                 *, eos_ids: Sequence[int], on_text: Callable[[str], None], cancelled: threading.Event,
                 text_of: Callable[[list[int]], str] | None = None, hidden_ids: frozenset[int] = frozenset()) -> None:
        self.tokenizer = tokenizer
        self.text_of = text_of or tokenizer.decode
        """The choice's text from its generated ids (a healed choice's leaves out the text healing removed)."""
        self.prompt_len = prompt_len
        self.scanner = StopScanner(stops)
        self.eos_ids = set(eos_ids)
        self.hidden_ids = hidden_ids
        """Special-token ids left out of the text (``ChoiceJob.hidden_ids``)."""
        self.deadline = deadline
        """``time.monotonic()`` value after which decoding ends with ``FinishReason.TIME``; None = no budget."""
        self.on_text = on_text
        self.cancelled = cancelled
        self.timed_out = False
        self.hit_eos = False

    def _text_ids(self, generated: list[int]) -> list[int]:
        if generated and generated[-1] in self.eos_ids:
            self.hit_eos = True
            generated = generated[:-1]
        hidden = self.hidden_ids
        return [i for i in generated if i not in hidden] if hidden else generated

    def __call__(self, input_ids: Any, scores: Any = None, **kwargs: Any) -> Any:
        import torch

        generated = input_ids[0, self.prompt_len:].tolist()
        delta = self.scanner.update(self.text_of(self._text_ids(generated)))
        if delta:
            self.on_text(delta)
        if self.deadline is not None and time.monotonic() >= self.deadline and not self.scanner.stopped:
            self.timed_out = True
        done = self.scanner.stopped or self.timed_out or self.cancelled.is_set()
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)

    def finish(self, generated: list[int]) -> DecodeOutcome:
        """Settle the choice after ``generate`` returned ``generated`` (the new ids)."""
        tail = self.scanner.update(self.text_of(self._text_ids(generated)))
        tail += self.scanner.finish()
        reason = ended_by(self.scanner.stopped or self.hit_eos, self.timed_out)
        return DecodeOutcome(self.scanner.text, tail, reason, len(generated))
