"""Token budgets: real-tokenizer counting, cuts on line starts / token boundaries, the estimate."""

from __future__ import annotations

import pytest

from assay.errors import RequestInvalid
from assay.pipeline.budget import CHARS_PER_TOKEN, TokenMeter, fit_prefix_suffix, plan_budget
from assay.specs.registry import get_spec


class WordTokenizer:
    """A whitespace-keeping word tokenizer: each word and each whitespace run is one token."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.back: dict[int, str] = {}

    def encode(self, text: str) -> list[int]:
        import re

        ids = []
        for piece in re.findall(r"\s+|\S+", text):
            if piece not in self.vocab:
                self.vocab[piece] = len(self.vocab)
                self.back[self.vocab[piece]] = piece
            ids.append(self.vocab[piece])
        return ids

    def decode(self, ids: list[int]) -> str:
        return "".join(self.back[i] for i in ids)


@pytest.fixture
def meter() -> TokenMeter:
    return TokenMeter(WordTokenizer())


def test_tail_cuts_at_a_line_start(meter: TokenMeter) -> None:
    text = "a b c\nd e f\ng h\n"
    kept = meter.tail(text, 6)
    assert kept == "g h\n"
    assert text.endswith(kept)
    assert meter.count(kept) <= 6


def test_tail_cuts_a_long_line_on_a_token_boundary(meter: TokenMeter) -> None:
    text = "one two three four five six"
    kept = meter.tail(text, 3)
    assert kept in {"five six", " six"}
    assert text.endswith(kept)
    assert meter.count(kept) <= 3


def test_head_keeps_whole_lines(meter: TokenMeter) -> None:
    text = "a b\nc d\ne f g h\n"
    kept = meter.head(text, 9)
    assert kept == "a b\nc d\n"
    assert meter.count(kept) <= 9


def test_tail_of_long_prefix_is_fast_and_bounded(meter: TokenMeter) -> None:
    text = "".join(f"line_{i} = {i}\n" for i in range(20_000))
    kept = meter.tail(text, 100)
    assert meter.count(kept) <= 100
    assert kept.startswith("line_") and text.endswith(kept)
    assert meter.count(kept) > 90


def test_estimate_without_tokenizer() -> None:
    meter = TokenMeter(None)
    assert not meter.exact and "estimate" in meter.kind
    assert meter.count("x" * 30) == int(30 / CHARS_PER_TOKEN)
    kept = meter.tail("aaaa\nbbbb\ncccc\n", 2)
    assert kept == "cccc\n"


def test_plan_uses_spec_shares() -> None:
    spec = get_spec("assay-nano")
    plan = plan_budget(spec, max_tokens=24, template_tokens=3)
    assert spec.defaults.prompt_tokens is not None
    assert plan.total == min(spec.defaults.prompt_tokens, spec.context_length - 24) - 3
    assert plan.suffix == int(plan.total * spec.defaults.suffix_share)
    assert plan.context == int(plan.total * spec.defaults.context_share)


def test_plan_refuses_max_tokens_that_fill_the_context() -> None:
    spec = get_spec("assay-nano")
    with pytest.raises(RequestInvalid) as err:
        plan_budget(spec, max_tokens=spec.context_length)
    assert err.value.field == "max_tokens"


def test_fit_truncates_prefix_from_the_left_and_suffix_from_the_right(meter: TokenMeter) -> None:
    spec = get_spec("assay-nano")
    plan = plan_budget(spec, max_tokens=spec.context_length - 100)
    prefix = "".join(f"p{i} = {i}\n" for i in range(200))
    suffix = "".join(f"s{i} = {i}\n" for i in range(200))
    fitted = fit_prefix_suffix(prefix, suffix, plan, meter, context_tokens=10)
    assert prefix.endswith(fitted.prefix) and suffix.startswith(fitted.suffix)
    assert fitted.prefix.startswith("p") and fitted.suffix.endswith("\n")
    assert fitted.suffix_tokens <= plan.suffix
    assert fitted.prefix_tokens + fitted.suffix_tokens + 10 <= plan.total


def test_short_prefix_leaves_room_to_the_suffix(meter: TokenMeter) -> None:
    spec = get_spec("assay-nano")
    plan = plan_budget(spec, max_tokens=spec.context_length - 100)
    suffix = "".join(f"s{i} = {i}\n" for i in range(200))
    fitted = fit_prefix_suffix("x = 1\n", suffix, plan, meter)
    assert fitted.prefix == "x = 1\n"
    assert fitted.suffix_tokens > plan.suffix
    assert fitted.prefix_tokens + fitted.suffix_tokens <= plan.total


def test_prompt_budget_never_crowds_out_the_new_tokens() -> None:
    """A spec's prompt budget is a cap: prompt plus new tokens still fit the context length."""
    spec = get_spec("assay-nano")
    assert plan_budget(spec, max_tokens=48).total == spec.defaults.prompt_tokens
    assert plan_budget(spec, max_tokens=900).total == spec.context_length - 900
