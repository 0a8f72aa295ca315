"""Truncate a multi-line completion to the syntactic unit the cursor opened (tree-sitter).

The document ``prefix + completion + suffix`` is parsed; starting from the smallest named node
around the cursor, the first node that began before the cursor and ends inside the completion is
the unit the completion finishes. The completion is cut at the end of that node's last line.
When no such node exists (the unit ends in the suffix, or the parse gives nothing usable) the
completion is left alone.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from assay.languages import Language

SYNTAX_LANGUAGES = frozenset({
    "python", "javascript", "typescript", "tsx", "go", "java", "rust", "c", "cpp", "ruby", "php",
    "csharp", "kotlin", "scala", "swift", "lua",
})
"""Languages whose grammar the truncation step uses; others fall back to indentation."""

_CONTEXT_CHARS = 20_000
"""How much of the prefix / suffix around the cursor is parsed (cut at a line boundary)."""


@lru_cache(maxsize=32)
def parser_for(grammar: str) -> Any | None:
    """A cached tree-sitter parser for ``grammar``; None when the language pack lacks it."""
    try:
        from tree_sitter_language_pack import get_parser

        return get_parser(grammar)  # type: ignore[arg-type]
    except (LookupError, ValueError, ImportError):
        return None


def has_grammar(language: Language | None) -> bool:
    return (language is not None and language.id in SYNTAX_LANGUAGES and language.tree_sitter is not None
            and parser_for(language.tree_sitter) is not None)


def _window(prefix: str, suffix: str) -> tuple[str, str]:
    if len(prefix) > _CONTEXT_CHARS:
        cut = prefix.find("\n", len(prefix) - _CONTEXT_CHARS)
        prefix = prefix[cut + 1:] if cut >= 0 else prefix[-_CONTEXT_CHARS:]
    if len(suffix) > _CONTEXT_CHARS:
        cut = suffix.rfind("\n", 0, _CONTEXT_CHARS)
        suffix = suffix[:cut] if cut >= 0 else suffix[:_CONTEXT_CHARS]
    return prefix, suffix


def unit_end(completion: str, prefix: str, suffix: str, language: Language | None) -> int | None:
    """Character offset in ``completion`` where the cursor's unit ends (end of that line), or None."""
    if not has_grammar(language) or not completion.strip():
        return None
    assert language is not None and language.tree_sitter is not None
    parser = parser_for(language.tree_sitter)
    prefix, suffix = _window(prefix, suffix)
    head = prefix.encode("utf-8")
    body = completion.encode("utf-8")
    tree = parser.parse(head + body + suffix.encode("utf-8"))
    start, end = len(head), len(head) + len(body)
    node = tree.root_node.named_descendant_for_byte_range(max(start - 1, 0), start)
    while node is not None and node.parent is not None:
        if node.type != "ERROR" and node.start_byte < start < node.end_byte <= end:
            cut = node.end_byte - start
            newline = body.find(b"\n", cut)
            cut = len(body) if newline < 0 else newline
            return len(body[:cut].decode("utf-8", errors="ignore"))
        node = node.parent
    return None


def error_count(completion: str, prefix: str, suffix: str, language: Language | None) -> int | None:
    """How many ERROR / MISSING nodes the document with ``completion`` has; None without a grammar."""
    if not has_grammar(language):
        return None
    assert language is not None and language.tree_sitter is not None
    prefix, suffix = _window(prefix, suffix)
    tree = parser_for(language.tree_sitter).parse((prefix + completion + suffix).encode("utf-8"))
    count = 0
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            count += 1
        if node.has_error:
            stack.extend(node.children)
    return count
