"""Stop sequences over a growing text: what is safe to stream now, and where the text ends.

Every provider feeds the text decoded so far (or appends upstream pieces) and emits only what
:meth:`StopScanner.update` returns, so a stop sequence is never streamed and then taken back:
a tail that could still become a stop sequence, and a trailing ``U+FFFD`` (an incomplete UTF-8
character from a byte-level BPE decoder), are held back until the next token settles them.
"""

from __future__ import annotations

from collections.abc import Iterable

_PARTIAL = "\ufffd"


class StopScanner:
    """Tracks one choice's text: ``update(full_text)`` / ``push(piece)`` return the new safe delta."""

    def __init__(self, stops: Iterable[str]) -> None:
        self.stops = tuple(dict.fromkeys(s for s in stops if s))
        self._longest = max((len(s) for s in self.stops), default=0)
        self.text = ""
        self.emitted = 0
        self.stopped = False
        """True once the text contains a stop sequence; the text is cut before it."""

    def push(self, piece: str) -> str:
        """Append an upstream piece; return the newly safe text."""
        return self.update(self.text + piece)

    def update(self, full_text: str) -> str:
        """Replace the text with ``full_text`` (the whole decode so far); return the newly safe text."""
        if self.stopped:
            return ""
        cut = self._first_stop(full_text)
        if cut is not None:
            self.stopped = True
            self.text = full_text[:cut]
            return self._emit(len(self.text))
        self.text = full_text
        end = len(full_text)
        while end > self.emitted and full_text[end - 1] == _PARTIAL:
            end -= 1
        for k in range(min(self._longest - 1, end - self.emitted), 0, -1):
            tail = full_text[end - k:end]
            if any(s.startswith(tail) for s in self.stops):
                end -= k
                break
        return self._emit(end)

    def finish(self) -> str:
        """Everything not yet emitted (the generation is over, nothing more can complete a stop)."""
        return self._emit(len(self.text))

    def _first_stop(self, text: str) -> int | None:
        start = max(0, self.emitted - self._longest)
        hits = [i for s in self.stops if (i := text.find(s, start)) >= 0]
        return min(hits) if hits else None

    def _emit(self, end: int) -> str:
        if end <= self.emitted:
            return ""
        delta = self.text[self.emitted:end]
        self.emitted = end
        return delta
