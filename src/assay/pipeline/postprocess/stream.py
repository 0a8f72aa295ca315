"""Incremental post-processing for streamed completions.

``feed`` takes raw deltas and returns only text that is final: text no later step can remove.
In multi-line mode that is every line before the line being written, except lines that may still
be removed (lines that repeat the suffix's next lines, anything past the current truncation point,
and everything while the suggestion is still whitespace or comments). In single-line mode the line
is released as it grows, except its trailing whitespace and as many characters as the rest of the
cursor's line has (they may repeat it and be removed).

``done`` turns true as soon as truncation has decided where the completion ends (the line break
of a single-line completion, or a complete line after the end of the unit in multi-line mode); the
caller stops decoding then. ``finish`` runs :func:`postprocess` on all the raw text and returns the
final result and the text still to emit. Callers that do not stream use the same object, so both
paths see the same raw text and give the same final text.
"""

from __future__ import annotations

from assay.pipeline.postprocess import cut_point, postprocess
from assay.pipeline.postprocess.filters import is_comment_only
from assay.pipeline.postprocess.suffix import repeated_lines_start
from assay.pipeline.postprocess.types import PostContext, PostResult


class StreamingPostprocessor:
    def __init__(self, ctx: PostContext) -> None:
        self.ctx = ctx
        self.raw = ""
        self.emitted = ""
        self.done = False
        self.consistent = True
        """False when the final text does not start with what was emitted (recorded in the trace)."""

    def feed(self, delta: str) -> str:
        """Add raw text; return the newly final text (often ``""``)."""
        self.raw += delta
        if self.done:
            return ""
        if "\n" not in delta:
            return self._release_line() if self.ctx.mode == "single" and "\n" not in self.raw else ""
        decision = cut_point(self.raw, self.ctx)
        if decision is not None and self._decided(decision[1]):
            self.done = True
            return ""
        if self.ctx.mode == "single":
            return ""
        return self._release(None if decision is None else decision[1])

    def _decided(self, end: int) -> bool:
        if self.ctx.mode == "single":
            return True
        after = self.raw[end:]
        for line in after.split("\n")[1:-1]:
            if line.strip():
                return True
        return False

    def _release_line(self) -> str:
        """Single-line mode before any line break: all but what could still repeat the rest of the line."""
        hold = len(self.ctx.line_after.rstrip())
        return self._emit(self.raw[:len(self.raw) - hold].rstrip())

    def _emit(self, safe: str) -> str:
        if not safe.strip() or is_comment_only(safe, self.ctx.language):
            return ""
        if len(safe) <= len(self.emitted) or not safe.startswith(self.emitted):
            return ""
        new = safe[len(self.emitted):]
        self.emitted = safe
        return new

    def _release(self, limit: int | None) -> str:
        end = self.raw.rfind("\n")
        if end <= 0:
            return ""
        if limit is not None:
            end = min(end, limit)
        safe = self.raw[:end].rstrip()
        overlap = repeated_lines_start(safe, self.ctx.suffix)
        if overlap is not None:
            safe = safe[:overlap].rstrip()
        return self._emit(safe)

    def finish(self) -> tuple[PostResult, str]:
        """The final result and the part of its text not yet emitted."""
        result = postprocess(self.raw, self.ctx)
        if not result.text.startswith(self.emitted):
            self.consistent = False
            return result, ""
        return result, result.text[len(self.emitted):]
