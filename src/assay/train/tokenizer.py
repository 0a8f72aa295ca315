"""Byte-level BPE tokenizer training (``assay train tokenizer``).

The tokenizer gets every control token of a model spec (FIM prefix/suffix/middle, repository name,
file separator, eos) plus ``<fim_pad>`` as single-id special tokens, eos at id 0, and is saved with
``PreTrainedTokenizerFast.save_pretrained`` so ``transformers.AutoTokenizer`` loads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from assay.errors import ConfigError
from assay.specs.registry import get_spec
from assay.train.fim import FIM_PAD


@dataclass(frozen=True)
class TokenizerResult:
    path: Path
    vocab_size: int
    special_tokens: dict[str, int]
    """Each special token and its id."""


def spec_special_tokens(family: str) -> list[str]:
    """eos first (so it gets id 0), then the spec's control tokens, then ``<fim_pad>``."""
    spec = get_spec(family)
    if not spec.eos:
        raise ConfigError(f"model spec '{family}' declares no eos token")
    ordered = [spec.eos, *spec.special_tokens(), FIM_PAD]
    return list(dict.fromkeys(ordered))


def train_tokenizer(texts: Iterable[str], out: Path, *, vocab_size: int = 8192, family: str = "assay-nano",
                    min_frequency: int = 2, model_max_length: int | None = None,
                    progress: bool = False) -> TokenizerResult:
    """Train a byte-level BPE on ``texts`` and save it to ``out``.

    Byte-level means any input (any language, any bytes) encodes without an unknown token.
    ``progress`` shows the ``tokenizers`` progress bars; they also write a blank line per stage to
    stdout, so leave it off unless both stdout and stderr are a terminal.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = spec_special_tokens(family)
    if vocab_size < 256 + len(specials):
        raise ConfigError(f"vocab_size must be at least {256 + len(specials)} (bytes + special tokens), got {vocab_size}")
    if min_frequency < 1:
        raise ConfigError(f"min_frequency must be at least 1 (times a pair is seen before it is merged), "
                          f"got {min_frequency}")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=progress)
    tok.train_from_iterator(_nonempty(texts), trainer=trainer)
    eos = specials[0]
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=eos, bos_token=eos, pad_token=FIM_PAD,
                                   unk_token=None, additional_special_tokens=specials[1:],
                                   model_max_length=model_max_length or get_spec(family).context_length)
    out.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(out)
    ids = {t: fast.convert_tokens_to_ids(t) for t in specials}
    return TokenizerResult(out, len(fast), ids)


def _nonempty(texts: Iterable[str]) -> Iterator[str]:
    seen = False
    for text in texts:
        if text:
            seen = True
            yield text
    if not seen:
        raise ConfigError("no training text for the tokenizer: every input was empty")


TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.json", "vocab.txt", "tokenizer.model")
"""Files of which a transformers tokenizer folder holds at least one (``train_tokenizer`` writes the first two)."""


def load_tokenizer(path: Path):  # noqa: ANN201 - transformers type, imported lazily
    """Load a saved tokenizer folder (or the folder of a given ``tokenizer.json``).

    ``ConfigError`` when it is missing, is not loadable without a ``tokenizer.json`` (transformers would
    try its slow converters and fail with advice about installing sentencepiece), or is unreadable; the
    message is one line either way.
    """
    from transformers import AutoTokenizer

    path = Path(path)
    if path.is_file() and path.name == "tokenizer.json":
        path = path.parent
    if not path.is_dir():
        raise ConfigError(f"tokenizer directory {path} does not exist")
    not_one = ConfigError(f"{path} is not a tokenizer: expected a tokenizer.json or a folder holding one "
                          "(train one with `assay train tokenizer`)")
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        raise not_one
    try:
        return AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError) as exc:
        if not (path / "tokenizer.json").is_file():
            raise not_one from None
        reason = " ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__
        raise ConfigError(f"cannot load tokenizer from {path}: {reason}") from None
