"""check_spec_against_tokenizer with small in-test tokenizers (the tiny real model is checked in integration)."""

from __future__ import annotations

import pytest

from assay.errors import ConfigError
from assay.providers.checks import check_spec_against_tokenizer
from assay.specs.registry import get_spec


def chars(text: str) -> list[int]:
    """A tokenizer that knows no special tokens: one id per character."""
    return [ord(c) for c in text]


def test_declared_special_tokens_pass() -> None:
    spec = get_spec("qwen2.5-coder")
    check_spec_against_tokenizer(spec, set(spec.special_tokens()), chars)


def test_missing_token_is_named_with_model() -> None:
    spec = get_spec("qwen2.5-coder")
    special = set(spec.special_tokens()) - {"<|file_sep|>"}
    with pytest.raises(ConfigError) as info:
        check_spec_against_tokenizer(spec, special, chars, model="qwen")
    msg = info.value.message
    assert "'<|file_sep|>'" in msg and "model 'qwen'" in msg and "qwen2.5-coder" in msg and "\n" not in msg


def test_single_id_encoding_counts_when_special_set_unknown() -> None:
    spec = get_spec("codellama")
    vocab = {"\u2581<PRE>": 1, "\u2581<SUF>": 2, "\u2581<MID>": 3}

    def sentencepiece_like(text: str) -> list[int]:
        piece = "\u2581" + text.strip()
        return [vocab[piece]] if piece in vocab else chars(text)

    check_spec_against_tokenizer(spec, None, sentencepiece_like)
    with pytest.raises(ConfigError, match="'<PRE>'"):
        check_spec_against_tokenizer(spec, None, chars)


def test_chat_and_generic_specs_need_no_tokens() -> None:
    check_spec_against_tokenizer(get_spec("chat"), set(), chars)
    check_spec_against_tokenizer(get_spec("generic"), set(), chars)
