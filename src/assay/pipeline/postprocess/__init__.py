"""Stage 6: post-processing of raw model output, step by step, each step's removal recorded.

Order: ``single_line`` (single-line mode) or ``truncate`` (multi-line mode: tree-sitter unit, or
indentation without a grammar) → ``suffix_overlap`` → ``trim_whitespace`` → ``drop_empty`` /
``drop_comment_only``. :func:`postprocess` is the one entry point; ``StreamingPostprocessor`` applies
the same steps incrementally.
"""

from __future__ import annotations

from collections.abc import Callable

from assay.languages import Language
from assay.pipeline.postprocess.filters import is_comment_only, trim_trailing_whitespace
from assay.pipeline.postprocess.indent import indent_end
from assay.pipeline.postprocess.mode import decide_mode
from assay.pipeline.postprocess.suffix import remove_suffix_overlap
from assay.pipeline.postprocess.syntax import error_count, has_grammar, unit_end
from assay.pipeline.postprocess.types import Mode, PostContext, PostResult, Removal

__all__ = ["Mode", "PostContext", "PostResult", "Removal", "context_for", "cut_point", "decide_mode",
           "postprocess", "single_line_end"]


def context_for(prefix: str, suffix: str, language: Language | None) -> PostContext:
    """The post-processing context for a cursor, with the single/multi-line decision made."""
    return PostContext(prefix=prefix, suffix=suffix, language=language, mode=decide_mode(prefix, suffix, language))


def single_line_end(text: str, ctx: PostContext) -> int | None:
    """Where a single-line completion ends: at its first line break; when the cursor ends its line and
    the completion starts with a line break, at the end of the first non-blank line instead."""
    newline = text.find("\n")
    if newline < 0:
        return None
    if text[:newline].strip() or ctx.line_after.strip() or ctx.line_before.strip() == "":
        return newline
    rest = text[newline:]
    body = len(rest) - len(rest.lstrip())
    if body == len(rest):
        return newline
    end = text.find("\n", newline + body)
    return None if end < 0 else end


def cut_point(text: str, ctx: PostContext) -> tuple[str, int] | None:
    """The truncation step's decision: (step name, offset where the completion ends), or None."""
    if ctx.mode == "single":
        end = single_line_end(text, ctx)
        return None if end is None else ("single_line", end)
    if has_grammar(ctx.language):
        end = unit_end(text, ctx.prefix, ctx.suffix, ctx.language)
        return None if end is None else ("truncate_syntax", end)
    end = indent_end(text, ctx.prefix)
    return None if end is None else ("truncate_indent", end)


def _parse_check(ctx: PostContext) -> Callable[[str, str], bool] | None:
    if not has_grammar(ctx.language):
        return None

    def parses_no_worse(shorter: str, original: str) -> bool:
        after = error_count(shorter, ctx.prefix, ctx.suffix, ctx.language)
        before = error_count(original, ctx.prefix, ctx.suffix, ctx.language)
        return after is not None and before is not None and after <= before

    return parses_no_worse


def postprocess(raw: str, ctx: PostContext) -> PostResult:
    """Apply every step to ``raw`` and return the final text with what each step removed."""
    removals: list[Removal] = []
    text = raw

    def apply(step: str, new: str) -> None:
        nonlocal text
        if new != text:
            removed = text[len(new):] if text.startswith(new) else text
            removals.append(Removal(step, removed))
            text = new

    decision = cut_point(text, ctx)
    if decision is not None:
        apply(decision[0], text[:decision[1]])
    apply("suffix_overlap", remove_suffix_overlap(text, ctx.suffix, _parse_check(ctx)))
    apply("trim_whitespace", trim_trailing_whitespace(text))
    if not text.strip():
        apply("drop_empty", "")
    elif is_comment_only(text, ctx.language):
        apply("drop_comment_only", "")
    return PostResult(text=text, removals=tuple(removals))
