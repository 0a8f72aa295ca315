"""Token healing's cut and constraint on the tiny test model's real byte-level BPE tokenizer
(tests/support/tiny_model.py); no model weights are run here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assay.config import ModelConfig
from assay.errors import ProviderError
from assay.pipeline.params import build_params
from assay.pipeline.types import RequestOverrides
from assay.providers.healing import (
    HealingConstraint,
    HealingLogitsProcessor,
    Vocabulary,
    split_for_healing,
)
from assay.providers.hf_tokenizer import HFTokenizer
from assay.specs.registry import get_spec

TEXTS = ["def hel", "def hello_world():\n    print('hel", "x = 'é", "name = '日本", "    return a + b;\n  "]


@pytest.fixture(scope="module")
def tok(tiny_model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="module")
def vocab(tok: Any) -> Vocabulary:
    found = Vocabulary.of(tok)
    assert found is not None
    return found


def ids_of(tok: Any, text: str) -> list[int]:
    return list(tok.encode(text, add_special_tokens=False))


@pytest.mark.parametrize("text", TEXTS)
def test_split_keeps_a_token_boundary_and_whole_characters(tok: Any, text: str) -> None:
    split = split_for_healing(HFTokenizer(tok), text)
    assert split.kept + split.removed == text
    assert split.removed
    assert "\ufffd" not in split.removed
    ids = ids_of(tok, text)
    assert ids_of(tok, split.kept) == ids[:len(ids_of(tok, split.kept))]


def test_split_removes_exactly_the_last_token_when_it_is_whole_characters(tok: Any) -> None:
    ids = ids_of(tok, "def hel")
    assert split_for_healing(HFTokenizer(tok), "def hel").removed == tok.decode(ids[-1:])


def test_split_backs_off_over_a_character_split_across_tokens(tok: Any) -> None:
    assert len(ids_of(tok, "é")) == 2
    assert split_for_healing(HFTokenizer(tok), "x = 'é").removed == "é"


def test_empty_prefix_has_nothing_to_heal(tok: Any) -> None:
    split = split_for_healing(HFTokenizer(tok), "")
    assert (split.kept, split.removed) == ("", "")


@pytest.mark.parametrize("text", TEXTS)
def test_vocabulary_bytes_match_the_tokenizer(tok: Any, vocab: Vocabulary, text: str) -> None:
    assert vocab.bytes_of(ids_of(tok, text)) == text.encode("utf-8")
    assert vocab.pieces[tok.convert_tokens_to_ids("<fim_middle>")] == b"<fim_middle>"


@pytest.mark.parametrize("owed", ["hel", "é", "\n    ", "'日本", "(self"])
def test_consistent_tokens_are_exactly_prefixes_of_or_extensions_of_the_owed_bytes(
        vocab: Vocabulary, owed: str) -> None:
    raw = owed.encode("utf-8")
    expected = {i for i, piece in enumerate(vocab.pieces)
                if piece and i not in vocab.special and (raw.startswith(piece) or piece.startswith(raw))}
    assert set(vocab.consistent(raw)) == expected
    assert expected


def test_a_partial_utf8_token_is_allowed_and_special_tokens_never(tok: Any, vocab: Vocabulary) -> None:
    allowed = HealingConstraint(vocab, "é").allowed([])
    assert allowed is not None
    assert ids_of(tok, "é")[0] in allowed
    assert not set(allowed) & vocab.special
    assert not set(HealingConstraint(vocab, "<").allowed([]) or []) & vocab.special


def test_constraint_follows_the_owed_text_and_strips_it(tok: Any, vocab: Vocabulary) -> None:
    constraint = HealingConstraint(vocab, "hel")
    h = ids_of(tok, "h")
    assert h[0] in (constraint.allowed([]) or [])
    assert set(constraint.allowed(h) or []) == set(vocab.consistent(b"el"))
    assert constraint.text(h) == ""
    generated = ids_of(tok, "hello_world")
    assert constraint.allowed(generated) is None
    assert constraint.text(generated) == "lo_world"


def test_output_that_strays_from_the_cut_text_is_an_error(tok: Any, vocab: Vocabulary) -> None:
    with pytest.raises(ProviderError, match="token healing was not honoured"):
        HealingConstraint(vocab, "hel").text(ids_of(tok, "world"))


def test_constraint_strips_a_character_split_across_tokens(tok: Any, vocab: Vocabulary) -> None:
    constraint = HealingConstraint(vocab, "é")
    first, second = ids_of(tok, "é")
    assert constraint.text([first]) == ""
    assert constraint.allowed([first]) is not None and second in constraint.allowed([first])  # type: ignore[operator]
    assert constraint.text([first, second, *ids_of(tok, "x")]) == "x"


def test_logits_processor_masks_until_the_text_is_reproduced(tok: Any, vocab: Vocabulary) -> None:
    import torch

    prompt = ids_of(tok, "def ")
    processor = HealingLogitsProcessor(HealingConstraint(vocab, "hel"), len(prompt))
    scores = torch.zeros((1, len(tok)))
    masked = processor(torch.tensor([prompt]), scores)
    allowed = set(torch.nonzero(masked[0] == 0).flatten().tolist())
    assert allowed == set(vocab.consistent(b"hel"))
    assert torch.isinf(masked[0]).sum().item() == len(tok) - len(allowed)
    done = processor(torch.tensor([prompt + ids_of(tok, "hello")]), scores)
    assert torch.equal(done, scores)


def test_tokenizers_without_byte_pieces_do_not_heal() -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    word = Tokenizer(models.WordLevel({"def": 0, "hello": 1, "[UNK]": 2}, unk_token="[UNK]"))
    word.pre_tokenizer = pre_tokenizers.Whitespace()
    assert Vocabulary.of(PreTrainedTokenizerFast(tokenizer_object=word, unk_token="[UNK]")) is None


def test_request_then_model_config_then_spec_decide_healing() -> None:
    spec = get_spec("assay-nano")
    off = spec.model_copy(update={"defaults": spec.defaults.model_copy(update={"token_healing": False})})
    on = spec.model_copy(update={"defaults": spec.defaults.model_copy(update={"token_healing": True})})
    plain = ModelConfig(name="m", path="x")
    configured_off = ModelConfig(name="m", path="x", defaults={"token_healing": False})  # type: ignore[arg-type]
    assert build_params(RequestOverrides(), plain, on).token_healing is True
    assert build_params(RequestOverrides(), plain, off).token_healing is False
    assert build_params(RequestOverrides(), configured_off, on).token_healing is False
    assert build_params(RequestOverrides(token_healing=True), configured_off, off).token_healing is True
    assert build_params(RequestOverrides(token_healing=False), plain, on).token_healing is False


def sentencepiece_tokenizer() -> Any:
    """A Llama-style tokenizer: SentencePiece BPE with ``▁`` for spaces and ``<0xNN>`` byte fallback."""
    from tokenizers import Tokenizer, decoders, models, normalizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2} | {f"<0x{b:02X}>": 3 + b for b in range(256)}
    for piece in ["▁", "d", "e", "f", "h", "l", "o", "▁d", "▁de", "▁def", "▁h", "el", "▁hel", "lo", "▁hello"]:
        vocab[piece] = len(vocab)
    merges = [("▁", "d"), ("▁d", "e"), ("▁de", "f"), ("▁", "h"), ("e", "l"), ("▁h", "el"), ("l", "o"), ("▁hel", "lo")]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>")


def test_sentencepiece_pieces_heal_with_their_spaces_and_byte_fallback() -> None:
    tok = sentencepiece_tokenizer()
    vocab = Vocabulary.of(tok)
    assert vocab is not None
    split = split_for_healing(HFTokenizer(tok), "def hel")
    assert (split.kept, split.removed) == ("def", " hel")
    constraint = HealingConstraint(vocab, split.removed)
    assert set(tok.convert_ids_to_tokens(constraint.allowed([]))) == {"<0x20>", "▁", "▁h", "▁hel", "▁hello"}
    assert constraint.text(ids_of(tok, "hello")) == "lo"
    assert split_for_healing(HFTokenizer(tok), "def é").removed == "é"
    accent = HealingConstraint(vocab, "é")
    assert tok.convert_ids_to_tokens(accent.allowed([])) == ["<0xC3>"]
    assert accent.text(tok.convert_tokens_to_ids(["<0xC3>", "<0xA9>", "▁hello"])) == " hello"
