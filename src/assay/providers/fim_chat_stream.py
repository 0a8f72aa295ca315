"""Reading a FIM-as-chat answer while the reply streams in.

:class:`FimAnswerStream` takes the reply's pieces as they arrive and returns the part of the answer
that is final, so a streaming client gets the completion while the chat model is still writing it.
The contract: for any split of a reply into pieces, the concatenation of every :meth:`~FimAnswerStream.push`
and the :meth:`~FimAnswerStream.finish` equals :func:`~assay.providers.fim_chat.extract_fim_answer`
of the whole reply.

* Before ``<COMPLETION>`` nothing is released: the tag could still come, and it wins over a fenced
  block or the whole reply.
* After it, text is released as it arrives, except a tail that could still become ``</COMPLETION>``
  or ``<CURSOR>`` (removed markers are never streamed and then taken back); ``closed`` turns true at
  ``</COMPLETION>`` and later pieces are ignored.
* A reply without the tag is read by ``extract_fim_answer`` (fenced block, else the whole reply) and
  released whole by ``finish``.
"""

from __future__ import annotations

from assay.providers.fim_chat import CLOSE_TAG, CURSOR, OPEN_TAG, extract_fim_answer

_MARKERS = (CLOSE_TAG, CURSOR)
_LONGEST = max(len(m) for m in _MARKERS)


class FimAnswerStream:
    """One choice's reply: ``push(piece)`` returns newly final answer text, ``finish()`` the rest."""

    def __init__(self) -> None:
        self.reply = ""
        """Everything pushed so far."""
        self.answer = ""
        """Everything returned so far (after ``finish``: the whole answer)."""
        self.closed = False
        """True once ``</COMPLETION>`` has arrived: the answer is complete."""
        self._read: int | None = None

    @property
    def tagged(self) -> bool:
        """True once ``<COMPLETION>`` has arrived (text is released as it streams)."""
        return self._read is not None

    def push(self, piece: str) -> str:
        scan_from = max(0, len(self.reply) - len(OPEN_TAG) + 1)
        self.reply += piece
        if self.closed:
            return ""
        if self._read is None:
            start = self.reply.find(OPEN_TAG, scan_from)
            if start < 0:
                return ""
            self._read = start + len(OPEN_TAG)
        end = self.reply.find(CLOSE_TAG, self._read)
        if end >= 0:
            self.closed = True
            return self._release(end)
        return self._release(self._safe_end(self._read))

    def finish(self) -> str:
        """The answer text not yet returned (the reply is complete)."""
        if self._read is None:
            self.answer = extract_fim_answer(self.reply)
            return self.answer
        return "" if self.closed else self._release(len(self.reply))

    def _safe_end(self, start: int) -> int:
        """Where the tail that could still grow into a marker begins (the reply's end when none)."""
        end = len(self.reply)
        for at in range(max(start, end - _LONGEST + 1), end):
            tail = self.reply[at:]
            if any(m.startswith(tail) for m in _MARKERS):
                return at
        return end

    def _release(self, end: int) -> str:
        assert self._read is not None
        text = self.reply[self._read:end].replace(CURSOR, "")
        self._read = end
        self.answer += text
        return text
