"""Filters at the end of post-processing: trailing whitespace, empty and comment-only suggestions."""

from __future__ import annotations

from assay.languages import Language


def is_comment_only(text: str, language: Language | None) -> bool:
    """Whether every non-blank line of ``text`` is a comment in ``language`` (False when unknown).

    Quote-delimited "block comments" (Python docstrings) are strings, not comments, and are kept.
    """
    if language is None or not text.strip():
        return False
    stripped = text.strip()
    if language.block_comment and language.block_comment[0][0] not in "\"'":
        start, end = language.block_comment
        if stripped.startswith(start) and stripped.endswith(end) and len(stripped) >= len(start) + len(end):
            return True
    if language.line_comment:
        lines = [line.strip() for line in text.split("\n") if line.strip()]
        return all(line.startswith(language.line_comment) for line in lines)
    return False


def trim_trailing_whitespace(text: str) -> str:
    return text.rstrip()
