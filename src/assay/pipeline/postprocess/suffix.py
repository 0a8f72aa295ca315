"""Remove the end of a completion that repeats what already follows the cursor.

Two cases:

* whole lines: the completion's last non-blank lines equal the suffix's first non-blank lines (after
  the cursor's own line), compared without surrounding whitespace, e.g. a closing ``}`` the file
  already has;
* the cursor's line: the completion's last line ends with the start of the text after the cursor,
  when that overlap is the whole rest of the line or only closing brackets / quotes / punctuation,
  e.g. ``print('hi')`` typed before a ``)`` that is already there.
"""

from __future__ import annotations

from collections.abc import Callable

_CLOSING = set(")]}>'\"`;,: \t")


def _full_suffix_lines(suffix: str) -> list[str]:
    newline = suffix.find("\n")
    if newline < 0:
        return []
    return [line.strip() for line in suffix[newline + 1:].split("\n") if line.strip()]


def repeated_lines_start(completion: str, suffix: str) -> int | None:
    """Offset where trailing lines that repeat the suffix's next lines begin, or None."""
    lines = completion.split("\n")
    if len(lines) < 2:
        return None
    wanted = _full_suffix_lines(suffix)
    if not wanted:
        return None
    offset = len(lines[0]) + 1
    content: list[tuple[int, str]] = []
    for line in lines[1:]:
        if line.strip():
            content.append((offset, line.strip()))
        offset += len(line) + 1
    for k in range(min(len(content), len(wanted)), 0, -1):
        if [text for _, text in content[-k:]] == wanted[:k]:
            start = content[-k][0]
            return start - 1
    return None


def repeated_line_tail(completion: str, suffix: str) -> int:
    """How many characters at the end of ``completion`` repeat the start of the cursor's line rest."""
    newline = suffix.find("\n")
    rest = (suffix if newline < 0 else suffix[:newline]).rstrip()
    if not rest or "\n" in completion.rstrip("\n"):
        return 0
    text = completion.rstrip("\n")
    for size in range(min(len(rest), len(text)), 0, -1):
        piece = rest[:size]
        if text.endswith(piece) and (size == len(rest) or set(piece) <= _CLOSING):
            if piece.strip():
                return size + (len(completion) - len(text))
    return 0


def remove_suffix_overlap(completion: str, suffix: str,
                          parses_no_worse: Callable[[str, str], bool] | None = None) -> str:
    """``completion`` without the text that repeats the start of ``suffix``.

    ``parses_no_worse(shorter, original)`` (from the grammar, when there is one) must agree before
    whole lines are removed: a closing line can legitimately repeat the suffix's first line (an inner
    block's ``}`` before the function's ``}``), and then removing it breaks the file.
    """
    cut = repeated_lines_start(completion, suffix)
    if cut is not None and (parses_no_worse is None or parses_no_worse(completion[:cut], completion)):
        return completion[:cut]
    tail = repeated_line_tail(completion, suffix)
    return completion[:len(completion) - tail] if tail else completion
