"""Single line or a block? Decided from the cursor position alone.

* Non-whitespace after the cursor on its line → single line.
* The cursor's line (up to the cursor) opens a block (ends with ``{ ( [ :``, ``=>``, ``do``, ``then``
  or starts a Ruby block keyword) → multi-line.
* An empty line right after a block opener, in a block that is still empty (the next non-blank line
  after the cursor is not indented deeper than the opener) → multi-line. Comment lines and a Python
  docstring between the opener and the cursor do not count as a body: a cursor under a function's
  signature and docstring (HumanEval's prompts) gets the whole body.
* Otherwise → single line.
"""

from __future__ import annotations

import re

from assay.languages import Language
from assay.pipeline.postprocess.types import Mode

_OPENER_END = re.compile(r"(?:[{(\[:]|=>|->|\bdo(?:\s*\|[^|]*\|)?|\bthen|\bbegin)\s*$")
_RUBY_KEYWORD = re.compile(r"^\s*(?:def|class|module|if|unless|while|until|case|for|begin)\b")
_COMMENT_ONLY = re.compile(r"^\s*(?:#|//|--|/\*|\*)")
_TRIPLE_QUOTES = ('"""', "'''")


def indent_width(line: str) -> int:
    """Leading whitespace width, a tab counting as 4 columns."""
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += 4
        else:
            break
    return width


def opens_block(line: str, language: Language | None = None) -> bool:
    """Whether ``line`` ends by opening a block (its body would go on the next lines)."""
    stripped = line.rstrip()
    if not stripped or _COMMENT_ONLY.match(stripped):
        return False
    if _OPENER_END.search(stripped):
        return True
    if language is not None and language.id == "ruby":
        return bool(_RUBY_KEYWORD.match(stripped)) and not re.search(r"\bend\s*$", stripped)
    return False


def decide_mode(prefix: str, suffix: str, language: Language | None = None) -> Mode:
    """``"single"`` or ``"multi"`` for a cursor between ``prefix`` and ``suffix``."""
    newline = suffix.find("\n")
    after = suffix if newline < 0 else suffix[:newline]
    if after.strip():
        return "single"
    before = prefix[prefix.rfind("\n") + 1:]
    if before.strip():
        return "multi" if opens_block(before, language) else "single"
    earlier = prefix[:len(prefix) - len(before)].rstrip("\n").split("\n")
    opener = _opener_above([line for line in earlier if line.strip()])
    if opener is None or not opens_block(opener, language):
        return "single"
    rest = suffix[newline + 1:] if newline >= 0 else ""
    following = next((line for line in rest.split("\n") if line.strip()), None)
    if following is None or indent_width(following) <= indent_width(opener):
        return "multi"
    return "single"


def _opener_above(lines: list[str]) -> str | None:
    """The last of the non-blank ``lines``, looking past comment lines and one docstring right under it."""
    i = len(lines) - 1
    while i >= 0 and _COMMENT_ONLY.match(lines[i]):
        i -= 1
    if i >= 0:
        start = _docstring_start(lines, i)
        if start is not None:
            i = start - 1
            while i >= 0 and _COMMENT_ONLY.match(lines[i]):
                i -= 1
    return lines[i] if i >= 0 else None


def _docstring_start(lines: list[str], end: int) -> int | None:
    """Index of the line opening the triple-quoted string that ``lines[end]`` closes, if it closes one."""
    closing = lines[end].rstrip()
    quote = next((q for q in _TRIPLE_QUOTES if closing.endswith(q)), None)
    if quote is None:
        return None
    opening = closing.lstrip()
    opening = opening.lstrip("rRbBuU")
    if opening.startswith(quote) and len(opening) >= 6:
        return end
    for i in range(end - 1, -1, -1):
        if lines[i].lstrip().lstrip("rRbBuU").startswith(quote):
            return i
    return None
