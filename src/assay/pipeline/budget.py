"""Stage 3: the token budget of the prompt, counted with the model's real tokenizer.

The prompt budget is ``spec.defaults.prompt_tokens`` or ``spec.context_length - max_tokens``, minus
what the template itself costs. The suffix may take ``suffix_share`` of it (keeping its start: it is
right-truncated), context snippets at most ``context_share``, and the prefix the rest (keeping its
end: it is left-truncated). Budget a short prefix leaves unused goes to the suffix.

Cuts fall on line starts (prefix) or line ends (suffix). Only when a single line is longer than the
budget is that line cut, and then on a token boundary of the real tokenizer, never mid-token: small
models derail on prompts cut inside a token.

A remote model without a tokenizer is measured with an estimate of ``CHARS_PER_TOKEN`` characters
per token; ``TokenMeter.exact`` says which was used, and the trace records it.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from assay.errors import RequestInvalid
from assay.providers.base import TokenCounter
from assay.specs.schema import ModelSpec

CHARS_PER_TOKEN = 3.0
"""Estimate for models without a tokenizer: BPE code tokenizers average 3-4 characters per token, so 3
errs towards prompts that are shorter than the window, never longer."""


class TokenMeter:
    """Counts and cuts text by tokens: the real tokenizer when given, else the character estimate."""

    def __init__(self, tokenizer: TokenCounter | None) -> None:
        self.tokenizer = tokenizer

    @property
    def exact(self) -> bool:
        return self.tokenizer is not None

    @property
    def kind(self) -> str:
        return "tokenizer" if self.exact else f"estimate ({CHARS_PER_TOKEN:g} chars/token)"

    def count(self, text: str) -> int:
        if not text:
            return 0
        if self.tokenizer is not None:
            return len(self.tokenizer.encode(text))
        return math.ceil(len(text) / CHARS_PER_TOKEN)

    def tail(self, text: str, budget: int) -> str:
        """The longest end of ``text`` within ``budget`` tokens, starting at a line start when one fits."""
        if budget <= 0:
            return ""
        if self.count(text) <= budget:
            return text
        window = min(len(text), max(budget * 8, 64))
        while window < len(text) and self.count(text[-window:]) <= budget:
            window = min(len(text), window * 2)
        offset = len(text) - window
        starts = [i + 1 for i in range(offset, len(text) - 1) if text[i] == "\n"]
        if offset == 0 or text[offset - 1] == "\n":
            starts.insert(0, offset)
        lo = bisect.bisect_left(range(len(starts)), True, key=lambda j: self.count(text[starts[j]:]) <= budget)
        if lo < len(starts):
            return text[starts[lo]:]
        last_line = text[(starts[-1] if starts else offset):]
        return self._token_tail(last_line, budget)

    def head(self, text: str, budget: int) -> str:
        """The longest start of ``text`` within ``budget`` tokens, ending at a line end when one fits."""
        if budget <= 0:
            return ""
        if self.count(text) <= budget:
            return text
        window = min(len(text), max(budget * 8, 64))
        while window < len(text) and self.count(text[:window]) <= budget:
            window = min(len(text), window * 2)
        ends = [i + 1 for i in range(window) if text[i] == "\n"]
        hi = bisect.bisect_left(range(len(ends)), True, key=lambda j: self.count(text[:ends[j]]) > budget)
        if hi > 0:
            return text[:ends[hi - 1]]
        first_line = text[:ends[0]] if ends else text[:window]
        return self._token_head(first_line, budget)

    def _token_tail(self, line: str, budget: int) -> str:
        if self.tokenizer is None:
            return line[len(line) - int(budget * CHARS_PER_TOKEN):]
        ids = self.tokenizer.encode(line)
        for k in range(min(budget, len(ids)), 0, -1):
            piece = self.tokenizer.decode(ids[-k:])
            if line.endswith(piece) and self.count(piece) <= budget:
                return piece
        return ""

    def _token_head(self, line: str, budget: int) -> str:
        if self.tokenizer is None:
            return line[:int(budget * CHARS_PER_TOKEN)]
        ids = self.tokenizer.encode(line)
        for k in range(min(budget, len(ids)), 0, -1):
            piece = self.tokenizer.decode(ids[:k])
            if line.startswith(piece) and self.count(piece) <= budget:
                return piece
        return ""


@dataclass(frozen=True)
class BudgetPlan:
    """Token allowances for one prompt (the template's own tokens already taken out of ``total``)."""

    total: int
    suffix: int
    context: int


MARGIN_TOKENS = 4
"""Slack taken off when a prompt, counted whole, exceeds the sum of its separately counted parts."""


def window_tokens(spec: ModelSpec, max_tokens: int) -> int:
    """The prompt budget: the context length minus ``max_tokens``, capped by ``spec.defaults.prompt_tokens``."""
    room = spec.context_length - max_tokens
    return min(spec.defaults.prompt_tokens, room) if spec.defaults.prompt_tokens else room


def plan_budget(spec: ModelSpec, max_tokens: int, template_tokens: int = 0) -> BudgetPlan:
    """Split the spec's prompt budget; raises ``RequestInvalid(field="max_tokens")`` when nothing is left."""
    window = window_tokens(spec, max_tokens)
    total = window - template_tokens
    if total < 1:
        raise RequestInvalid(f"{max_tokens} leaves no room for a prompt in the {spec.context_length}-token "
                             f"context of {spec.family}", field="max_tokens")
    return BudgetPlan(total=total, suffix=int(total * spec.defaults.suffix_share),
                      context=int(total * spec.defaults.context_share))


@dataclass(frozen=True)
class BudgetedText:
    """The prefix and suffix cut to the budget, with their token counts."""

    prefix: str
    suffix: str
    prefix_tokens: int
    suffix_tokens: int


def fit_prefix_suffix(prefix: str, suffix: str, plan: BudgetPlan, meter: TokenMeter,
                      context_tokens: int = 0) -> BudgetedText:
    """Cut ``suffix`` (keeping its start) and ``prefix`` (keeping its end) to what ``plan`` leaves."""
    room = max(plan.total - context_tokens, 0)
    prefix_need = meter.count(prefix) if len(prefix) <= room * 16 else room + 1
    suffix_budget = min(plan.suffix, room)
    if prefix_need + suffix_budget < room:
        suffix_budget = room - prefix_need
    kept_suffix = meter.head(suffix, suffix_budget)
    suffix_tokens = meter.count(kept_suffix)
    kept_prefix = meter.tail(prefix, room - suffix_tokens)
    return BudgetedText(kept_prefix, kept_suffix, meter.count(kept_prefix), suffix_tokens)
