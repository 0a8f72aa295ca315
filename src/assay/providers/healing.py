"""Token healing: cut a prefix back to a token boundary, then make the answer re-grow the cut text.

A prompt cut mid-token (``def hel|``) ends on a token the model rarely saw followed by what comes
next (in training, ``hello`` was one token). Healing removes the prefix's last token from the prompt
and constrains the first generated tokens so that the output starts with the removed text, which is
then left out of the answer. The same works for FIM: the cut comes off the prefix part of the prompt.

* :func:`split_for_healing` decides the cut with the model's tokenizer: ``kept + removed == prefix``,
  ``kept`` ends on a token boundary and on a whole character.
* :class:`Vocabulary` holds the bytes every token stands for in running text (byte-level BPE pieces
  through GPT-2's byte table; SentencePiece pieces with ``▁`` as a space and ``<0xNN>`` byte
  fallback), so a token that is half of a UTF-8 character is matched byte by byte. Build it once per
  tokenizer; added tokens (the special ones among them) are never allowed while healing.
* :class:`HealingConstraint` says which tokens may come next (those whose bytes are a prefix of the
  bytes still owed, or start with them) and gives the answer text once the owed bytes are reproduced.
* :class:`HealingLogitsProcessor` applies the constraint inside ``transformers`` ``generate``.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay.errors import ProviderError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

    from assay.providers.base import TokenCounter

MAX_BACKOFF_TOKENS = 4
"""How many tokens :func:`split_for_healing` may back off to end the kept text on a whole character."""


@dataclass(frozen=True)
class HealSplit:
    """A prefix cut for healing: the prompt gets ``kept``; the answer must start with ``removed``."""

    kept: str
    removed: str


def split_for_healing(tokenizer: TokenCounter, prefix: str) -> HealSplit:
    """Cut ``prefix`` before its last token (further back when that token ends mid-character).

    ``removed`` is ``""`` (nothing to heal) for an empty prefix or when no cut within
    ``MAX_BACKOFF_TOKENS`` tokens decodes to a prefix of ``prefix``.
    """
    ids = tokenizer.encode(prefix)
    for cut in range(len(ids) - 1, max(-1, len(ids) - 1 - MAX_BACKOFF_TOKENS), -1):
        kept = tokenizer.decode(ids[:cut])
        if prefix.startswith(kept) and len(kept) < len(prefix):
            return HealSplit(kept, prefix[len(kept):])
    return HealSplit(prefix, "")


def _sentencepiece_bytes(piece: str) -> bytes:
    if len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
        return bytes([int(piece[3:5], 16)])
    return piece.replace("\u2581", " ").encode("utf-8")


class Vocabulary:
    """The bytes of every token of one tokenizer, and lookups of the tokens consistent with a text."""

    def __init__(self, pieces: list[bytes], special: set[int]) -> None:
        self.pieces = pieces
        """``pieces[id]``: what token ``id`` stands for in running text (an added token: its content)."""
        self.special = frozenset(special)
        """Added tokens (special ones among them): never allowed while healing."""
        self._by_piece: dict[bytes, list[int]] = {}
        for token_id, piece in enumerate(pieces):
            if piece and token_id not in self.special:
                self._by_piece.setdefault(piece, []).append(token_id)
        self._sorted = sorted(self._by_piece)

    @classmethod
    def of(cls, tok: PreTrainedTokenizerBase) -> Vocabulary | None:
        """The vocabulary of a fast tokenizer with a byte-level or SentencePiece (byte-fallback) model;
        None for other tokenizers (healing then stays off)."""
        backend = getattr(tok, "backend_tokenizer", None)
        if backend is None:
            return None
        from tokenizers import decoders

        tokens = tok.convert_ids_to_tokens(list(range(len(tok))))
        if isinstance(backend.decoder, decoders.ByteLevel):
            from transformers.convert_slow_tokenizer import bytes_to_unicode

            table = {char: byte for byte, char in bytes_to_unicode().items()}

            def to_bytes(piece: str) -> bytes:
                if all(c in table for c in piece):
                    return bytes(table[c] for c in piece)
                return piece.encode("utf-8")
        elif "<0x41>" in tok.get_vocab():
            to_bytes = _sentencepiece_bytes
        else:
            return None
        added = {i: t.content for i, t in tok.added_tokens_decoder.items()}
        pieces = [added[i].encode("utf-8") if i in added else to_bytes(t or "") for i, t in enumerate(tokens)]
        return cls(pieces, set(added))

    def spells(self, text: str) -> bool:
        """True when every byte of ``text`` is a token of its own, so any text can be reproduced."""
        return all(bytes([b]) in self._by_piece for b in set(text.encode("utf-8")))

    def consistent(self, owed: bytes) -> list[int]:
        """Ordinary tokens whose bytes are a prefix of ``owed`` or start with ``owed`` (``owed`` non-empty)."""
        found: list[int] = []
        for end in range(1, len(owed)):
            found += self._by_piece.get(owed[:end], [])
        index = bisect.bisect_left(self._sorted, owed)
        while index < len(self._sorted) and self._sorted[index].startswith(owed):
            found += self._by_piece[self._sorted[index]]
            index += 1
        return found

    def bytes_of(self, ids: list[int]) -> bytes:
        return b"".join(self.pieces[i] for i in ids)


class HealingConstraint:
    """One choice's healing: the generated tokens must first reproduce ``removed``."""

    def __init__(self, vocab: Vocabulary, removed: str) -> None:
        self.vocab = vocab
        self.owed = removed.encode("utf-8")

    def allowed(self, generated: list[int]) -> list[int] | None:
        """The tokens allowed next after ``generated``; None once the removed text is reproduced."""
        got = self.vocab.bytes_of(generated)
        if len(got) >= len(self.owed):
            return None
        return self.vocab.consistent(self.owed[len(got):])

    def text(self, generated: list[int]) -> str:
        """The answer so far: the generated text after the removed text (``""`` until it is reproduced).

        Raises ``ProviderError`` when ``generated`` strays from the removed text (the constraint was not applied).
        """
        got = self.vocab.bytes_of(generated)
        if not (got.startswith(self.owed) or self.owed.startswith(got)):
            raise ProviderError(f"token healing was not honoured: the output does not start with {self.owed!r}")
        if len(got) < len(self.owed):
            return ""
        return got[len(self.owed):].decode("utf-8", errors="replace")


class HealingLogitsProcessor:
    """A ``transformers`` logits processor: while healing, every token but the allowed ones gets ``-inf``."""

    def __init__(self, constraint: HealingConstraint, prompt_len: int) -> None:
        self.constraint = constraint
        self.prompt_len = prompt_len

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        allowed = self.constraint.allowed(input_ids[0, self.prompt_len:].tolist())
        if allowed is None:
            return scores
        mask = torch.full_like(scores, float("-inf"))
        mask[:, [i for i in allowed if i < scores.shape[-1]]] = 0.0
        return scores + mask
