"""Fill-in-the-middle transforms for training data (Bavarian et al., 2022, "Efficient Training of
Language Models to Fill in the Middle").

A document is cut into ``prefix + middle + suffix`` (which always reassemble the original exactly) and
rearranged with the model's sentinel tokens:

- PSM: ``<pre>prefix<suf>suffix<mid>middle<eos>``
- SPM: ``<pre><suf>suffix<mid>prefix middle<eos>`` (the "joint" SPM variant StarCoder uses, so that
  PSM and SPM share one token vocabulary and the middle still directly follows ``<mid>``)

Spans are either character-level (two uniform cut points) or syntax-aware: a whole statement, block
or the inside of a call's argument list, found with tree-sitter. Every random choice comes from the
``random.Random`` the caller passes in, so a seeded caller gets reproducible data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from assay.errors import ConfigError
from assay.languages import get_language
from assay.specs.registry import get_spec

FIM_PAD = "<fim_pad>"
"""Padding token added to FIM vocabularies (the spec does not name one; StarCoder's convention)."""

SpanKind = Literal["random", "syntax"]
FimMode = Literal["psm", "spm", "plain"]


@dataclass(frozen=True)
class FimTokens:
    """The sentinel strings of one model family."""

    prefix: str
    suffix: str
    middle: str
    eos: str

    @classmethod
    def from_spec(cls, family: str) -> FimTokens:
        """Tokens from the spec registry; ``ConfigError`` when the family has no FIM tokens or eos."""
        spec = get_spec(family)
        if not (spec.fim.prefix and spec.fim.suffix and spec.fim.middle):
            raise ConfigError(f"model spec '{family}' declares no FIM prefix/suffix/middle tokens")
        if not spec.eos:
            raise ConfigError(f"model spec '{family}' declares no eos token")
        return cls(spec.fim.prefix, spec.fim.suffix, spec.fim.middle, spec.eos)


@dataclass(frozen=True)
class FimConfig:
    """How often and how documents are rearranged."""

    rate: float = 0.5
    """Share of documents turned into FIM examples (the FIM paper finds 0.5 costs no left-to-right skill)."""
    spm_share: float = 0.5
    """Share of FIM examples in SPM order; the rest are PSM."""
    syntax_share: float = 0.5
    """Share of FIM examples whose middle is a syntax node (when the language has a grammar)."""

    def __post_init__(self) -> None:
        for name in ("rate", "spm_share", "syntax_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"fim.{name} must be between 0 and 1, got {value}")


@dataclass(frozen=True)
class FimSplit:
    """A document cut in three; ``prefix + middle + suffix`` is the original text."""

    prefix: str
    middle: str
    suffix: str
    kind: SpanKind = "random"

    @property
    def text(self) -> str:
        return self.prefix + self.middle + self.suffix


@dataclass(frozen=True)
class FimExample:
    """A training string and how it was made."""

    text: str
    mode: FimMode
    split: FimSplit | None = None


_STATEMENT_MARKERS = ("statement", "declaration", "definition", "assignment")
_BLOCK_TYPES = frozenset({"block", "compound_statement", "statement_block", "declaration_list", "class_body",
                          "function_body", "body_statement", "do_block", "field_declaration_list"})
_ARGUMENT_TYPES = frozenset({"argument_list", "arguments", "value_arguments", "actual_parameters",
                            "fncallarguments"})


def random_span(text: str, rng: random.Random) -> FimSplit:
    """Cut at two uniformly drawn character positions (the FIM paper's character-level spans)."""
    a, b = sorted((rng.randint(0, len(text)), rng.randint(0, len(text))))
    return FimSplit(text[:a], text[a:b], text[b:], "random")


@lru_cache(maxsize=64)
def _parser(grammar: str) -> Any:
    from tree_sitter_language_pack import get_parser

    return get_parser(grammar)  # type: ignore[arg-type]


def _span_of(node: Any) -> tuple[int, int] | None:
    """Byte range a node contributes as a middle: the whole node, or the inside of an argument list.

    Node kinds are compared lower-cased: most grammars use snake_case, Zig's uses CamelCase.
    """
    kind = node.type.lower()
    if kind in _ARGUMENT_TYPES:
        children = node.children
        if len(children) >= 2 and not children[0].is_named and not children[-1].is_named:
            return children[0].end_byte, children[-1].start_byte
        return node.start_byte, node.end_byte
    if kind in _BLOCK_TYPES or kind.endswith("block") or any(m in kind for m in _STATEMENT_MARKERS):
        return node.start_byte, node.end_byte
    return None


def syntax_span(text: str, grammar: str, rng: random.Random) -> FimSplit | None:
    """A statement, block or call-argument middle around a random position; None when none is found.

    ``grammar`` is a tree-sitter-language-pack grammar name (``Language.tree_sitter``).
    """
    data = text.encode("utf-8", "surrogatepass")
    if not data:
        return None
    try:
        tree = _parser(grammar).parse(data)
    except (LookupError, ValueError) as exc:
        raise ConfigError(f"no tree-sitter grammar '{grammar}': {exc}") from None
    pos = rng.randrange(len(data))
    node = tree.root_node.descendant_for_byte_range(pos, pos)
    while node is not None and node.parent is not None:
        span = _span_of(node)
        if span is not None and span[1] > span[0]:
            start, end = span
            try:
                return FimSplit(data[:start].decode("utf-8", "surrogatepass"),
                                data[start:end].decode("utf-8", "surrogatepass"),
                                data[end:].decode("utf-8", "surrogatepass"), "syntax")
            except UnicodeDecodeError:
                return None
        node = node.parent
    return None


def format_psm(split: FimSplit, tokens: FimTokens) -> str:
    return f"{tokens.prefix}{split.prefix}{tokens.suffix}{split.suffix}{tokens.middle}{split.middle}{tokens.eos}"


def format_spm(split: FimSplit, tokens: FimTokens) -> str:
    return f"{tokens.prefix}{tokens.suffix}{split.suffix}{tokens.middle}{split.prefix}{split.middle}{tokens.eos}"


def grammar_for(language: str | None) -> str | None:
    """The tree-sitter grammar of an ``assay.languages`` id, or None."""
    lang = get_language(language) if language else None
    return lang.tree_sitter if lang else None


def apply_fim(text: str, rng: random.Random, tokens: FimTokens, config: FimConfig = FimConfig(),
              language: str | None = None) -> FimExample:
    """Turn one document into a training string: FIM (PSM or SPM) at ``config.rate``, else plain text + eos.

    ``language`` is an ``assay.languages`` id; syntax-aware spans need it, and fall back to random
    character spans when the language has no grammar or no suitable node is found.
    """
    if rng.random() >= config.rate or not text:
        return FimExample(text + tokens.eos, "plain")
    split: FimSplit | None = None
    grammar = grammar_for(language)
    if grammar is not None and rng.random() < config.syntax_share:
        split = syntax_span(text, grammar, rng)
    if split is None:
        split = random_span(text, rng)
    if rng.random() < config.spm_share:
        return FimExample(format_spm(split, tokens), "spm", split)
    return FimExample(format_psm(split, tokens), "psm", split)


def parse_example(text: str, tokens: FimTokens) -> FimSplit | None:
    """Invert ``format_psm`` / ``format_spm``: the split a FIM string encodes, None for plain text.

    SPM does not mark where the prefix ends, so an SPM string comes back with prefix and middle joined
    in ``prefix`` (``text`` still reassembles the document); so does a PSM string with an empty prefix,
    which reads the same. Assumes the document contains no sentinels.
    """
    if not text.startswith(tokens.prefix) or not text.endswith(tokens.eos):
        return None
    body = text[len(tokens.prefix) : len(text) - len(tokens.eos)]
    if body.startswith(tokens.suffix):
        suffix, _, rest = body[len(tokens.suffix) :].partition(tokens.middle)
        return FimSplit(rest, "", suffix)
    prefix, _, rest = body.partition(tokens.suffix)
    suffix, _, middle = rest.partition(tokens.middle)
    return FimSplit(prefix, middle, suffix)
