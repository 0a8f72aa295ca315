"""A Hugging Face tokenizer as assay needs it: encode/decode without BOS/EOS, and its special tokens."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from assay.errors import ConfigError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


class HFTokenizer:
    """Implements ``assay.providers.base.TokenCounter``; decoding keeps special tokens as text."""

    def __init__(self, tok: PreTrainedTokenizerBase) -> None:
        self.tok = tok

    def encode(self, text: str) -> list[int]:
        return list(self.tok.encode(text, add_special_tokens=False))

    def decode(self, ids: list[int]) -> str:
        return self.tok.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)

    def special_tokens(self) -> set[str]:
        """Declared special and added special tokens, plus CodeLlama's infill pieces without their ``▁``."""
        tok = self.tok
        found = set(tok.all_special_tokens)
        found |= {t.content for t in tok.added_tokens_decoder.values() if t.special}
        for attr in ("prefix_token", "suffix_token", "middle_token", "eot_token"):
            if isinstance(value := getattr(tok, attr, None), str):
                found |= {value, value.lstrip("\u2581")}
        return found


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def missing_directory(source: str) -> bool:
    """Whether ``source`` is written as a filesystem path (``/``, ``./``, ``../``, ``~``) to a directory that is
    not there; Hugging Face would otherwise report it as a malformed repository id."""
    return source.startswith(("/", "./", "../", "~")) and not Path(source).expanduser().is_dir()


def load_tokenizer(source: str, model_name: str) -> HFTokenizer:
    """``AutoTokenizer.from_pretrained(source)``; ``ConfigError`` naming the model when it cannot load."""
    if missing_directory(source):
        raise ConfigError(f"model '{model_name}': tokenizer directory '{source}' does not exist")
    from transformers import AutoTokenizer

    try:
        return HFTokenizer(AutoTokenizer.from_pretrained(source))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"model '{model_name}': cannot load tokenizer '{source}': {first_line(exc)}") from None
