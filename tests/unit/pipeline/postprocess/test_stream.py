"""The incremental post-processor: only final text is released, and it ends where the full one does."""

from __future__ import annotations

import pytest

from assay.languages import detect_language, get_language
from assay.pipeline.postprocess import context_for, postprocess
from assay.pipeline.postprocess.stream import StreamingPostprocessor

from .test_languages import CASES


def run_stream(raw: str, ctx, size: int) -> tuple[list[str], str, StreamingPostprocessor, int]:
    proc = StreamingPostprocessor(ctx)
    chunks: list[str] = []
    fed = 0
    for start in range(0, len(raw), size):
        out = proc.feed(raw[start:start + size])
        fed = start + size
        if out:
            chunks.append(out)
        if proc.done:
            break
    result, rest = proc.finish()
    if rest:
        chunks.append(rest)
    return chunks, result.text, proc, fed


def processor(prefix: str, suffix: str, language: str = "python") -> StreamingPostprocessor:
    return StreamingPostprocessor(context_for(prefix, suffix, get_language(language)))


@pytest.mark.parametrize("size", [1, 3, 7])
@pytest.mark.parametrize("name", sorted(CASES))
def test_stream_gives_the_same_text_as_whole_output(name: str, size: int) -> None:
    case = CASES[name]
    ctx = context_for(case.prefix, case.suffix, detect_language(case.file))
    chunks, final, proc, _ = run_stream(case.raw, ctx, size)
    assert final == postprocess(case.raw, ctx).text == case.expected
    assert "".join(chunks) == final
    assert proc.consistent


def test_stream_stops_once_the_unit_has_ended() -> None:
    ctx = context_for("def add(a, b):", "\n", get_language("python"))
    raw = "\n    return a + b\n\ndef sub(a, b):\n    return a - b\n" + "x = 1\n" * 50
    chunks, final, proc, fed = run_stream(raw, ctx, 2)
    assert proc.done
    assert fed < len("\n    return a + b\n\ndef sub(a, b):\n") + 4
    assert final == "\n    return a + b"


def test_stream_releases_lines_before_the_end() -> None:
    proc = processor("def f(x):", "\n")
    assert proc.feed("\n    a = x") == ""
    assert proc.feed(" + 1\n    b") == "\n    a = x + 1"
    assert proc.feed(" = a\n") == "\n    b = a"
    assert not proc.done


def test_stream_holds_lines_that_may_repeat_the_suffix() -> None:
    proc = processor("function f() {", "\n  done();\n}\n", "javascript")
    released = proc.feed("\n  work();\n  done();\n")
    assert released == "\n  work();"


def test_stream_holds_comment_only_text() -> None:
    proc = processor("def f(x):", "\n")
    assert proc.feed("\n    # explain\n    ") == ""
    assert proc.feed("y = 2\n") == "\n    # explain\n    y = 2"


def test_single_line_is_released_as_it_grows_and_stops_at_newline() -> None:
    proc = processor("print(", ")\n")
    assert proc.feed("'hi") == "'h"
    assert proc.feed("')") == "i'"
    assert proc.feed("\nmore") == ""
    assert proc.done
    result, rest = proc.finish()
    assert result.text == "'hi'" and rest == ""


def test_single_line_holds_trailing_whitespace_and_comments() -> None:
    proc = processor("x = 1", "\n")
    assert proc.feed("  # note") == ""
    assert proc.feed(" that  ") == ""
    result, rest = proc.finish()
    assert result.text == "" and rest == ""
    proc = processor("total = ", "\n")
    assert proc.feed("a + b  ") == "a + b"
    assert proc.feed("+ c") == "  + c"
