"""Stage 2: pick snippets from other files by Jaccard similarity of sliding windows.

Each context file is cut into windows of ``window_lines`` lines every ``stride`` lines. A window's
score is the Jaccard similarity between its set of identifier-like words and the words of the
query (the last ``query_lines`` lines of the prefix). The best windows are taken first, overlapping
windows of the same file are skipped, and windows are added while they fit the token budget.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from assay.pipeline.types import ContextFile

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Snippet:
    """A chosen window of a context file; lines are 1-based and inclusive."""

    file: str
    start_line: int
    end_line: int
    score: float
    text: str
    tokens: int

    def trace_entry(self) -> dict[str, object]:
        return {"file": self.file, "start_line": self.start_line, "end_line": self.end_line,
                "score": round(self.score, 4), "tokens": self.tokens}


def words(text: str) -> set[str]:
    """Identifier-like words of ``text`` (letters, digits, underscore; not starting with a digit)."""
    return set(_WORD.findall(text))


def jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True)
class _Window:
    file: str
    start: int
    end: int
    text: str
    score: float


def _windows(file: ContextFile, query: set[str], window_lines: int, stride: int) -> Iterable[_Window]:
    lines = file.content.splitlines(keepends=True)
    if not lines:
        return
    last_start = max(len(lines) - window_lines, 0)
    starts = list(range(0, last_start + 1, stride))
    if starts[-1] != last_start:
        starts.append(last_start)
    for start in starts:
        chunk = lines[start:start + window_lines]
        text = "".join(chunk)
        score = jaccard(words(text), query)
        if score > 0:
            yield _Window(file.name, start, start + len(chunk), text, score)


def select_context(files: Iterable[ContextFile], prefix: str, *, token_budget: int,
                   count_tokens: Callable[[str], int], window_lines: int = 20, stride: int | None = None,
                   query_lines: int | None = None, max_snippets: int = 4,
                   exclude: str | None = None) -> list[Snippet]:
    """The best-scoring windows that fit ``token_budget``, best first.

    ``exclude`` names a file to skip (the file being edited). Windows with no shared word score 0
    and are never chosen. Ties keep file order, then position order.
    """
    if token_budget <= 0 or max_snippets <= 0 or window_lines <= 0:
        return []
    step = stride or max(window_lines // 2, 1)
    query_text = "".join(prefix.splitlines(keepends=True)[-(query_lines or window_lines):])
    query = words(query_text)
    if not query:
        return []
    candidates: list[_Window] = []
    for file in files:
        if exclude is not None and file.name == exclude:
            continue
        candidates.extend(_windows(file, query, window_lines, step))
    candidates.sort(key=lambda w: -w.score)

    chosen: list[Snippet] = []
    taken: dict[str, list[tuple[int, int]]] = {}
    used = 0
    for window in candidates:
        if len(chosen) >= max_snippets:
            break
        spans = taken.setdefault(window.file, [])
        if any(window.start < end and start < window.end for start, end in spans):
            continue
        tokens = count_tokens(window.text)
        if used + tokens > token_budget:
            continue
        spans.append((window.start, window.end))
        used += tokens
        chosen.append(Snippet(window.file, window.start + 1, window.end, window.score, window.text, tokens))
    return chosen
