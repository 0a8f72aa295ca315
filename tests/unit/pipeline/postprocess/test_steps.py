"""The individual post-processing steps: suffix overlap, indentation fallback, filters, single line."""

from __future__ import annotations

from assay.languages import get_language
from assay.pipeline.postprocess import context_for, postprocess
from assay.pipeline.postprocess.filters import is_comment_only
from assay.pipeline.postprocess.indent import indent_end
from assay.pipeline.postprocess.suffix import remove_suffix_overlap, repeated_line_tail
from assay.pipeline.postprocess.syntax import error_count, has_grammar


def test_suffix_overlap_removes_repeated_closing_line() -> None:
    assert remove_suffix_overlap("\n  x();\n}", "\n}\n") == "\n  x();"


def test_suffix_overlap_removes_several_repeated_lines_in_order() -> None:
    completion = "\n    a = 1\n    b = 2\n    c = 3"
    assert remove_suffix_overlap(completion, "\n    b = 2\n    c = 3\n    d = 4\n") == "\n    a = 1"


def test_suffix_overlap_keeps_lines_that_do_not_start_the_suffix() -> None:
    completion = "\n    a = 1\n    c = 3"
    assert remove_suffix_overlap(completion, "\n    b = 2\n    c = 3\n") == completion


def test_suffix_overlap_on_the_cursor_line() -> None:
    assert repeated_line_tail("x, y)", ")\n") == 1
    assert repeated_line_tail("x + 1) * 2", ") * 2\n") == 5
    assert repeated_line_tail("total", "al = 3\n") == 0
    assert remove_suffix_overlap("'a', 'b']", "]\n") == "'a', 'b'"


def test_suffix_overlap_keeps_a_closing_line_the_parse_needs() -> None:
    go = get_language("go")
    prefix = "package main\n\nfunc f(err error) {\n\tif err != nil {"
    ctx = context_for(prefix, "\n}\n", go)
    assert postprocess("\n\t\tpanic(err)\n\t}", ctx).text == "\n\t\tpanic(err)\n\t}"


def test_indent_fallback_cuts_at_dedent() -> None:
    text = "\n  x: 1\n  y: 2\nother: 3\n"
    assert indent_end(text, "config:") == len("\n  x: 1\n  y: 2")


def test_indent_fallback_keeps_closing_line() -> None:
    text = "\n    echo hi\nfi\necho after\n"
    assert indent_end(text, "if true; then") == len("\n    echo hi\nfi")


def test_indent_fallback_without_end_is_none() -> None:
    assert indent_end("\n    a\n    b", "x:") is None


def test_language_without_grammar_uses_indentation() -> None:
    yaml = get_language("yaml")
    assert not has_grammar(yaml)
    result = postprocess("\n  x: 1\nother: 3\n", context_for("config:", "\n", yaml))
    assert result.text == "\n  x: 1"
    assert result.removals[0].step == "truncate_indent"


def test_unknown_language_is_graceful() -> None:
    result = postprocess("foo()\nbar()\n", context_for("x = ", "\n", None))
    assert result.text == "foo()"
    assert error_count("foo()", "", "", None) is None


def test_comment_only_detection() -> None:
    py, js = get_language("python"), get_language("javascript")
    assert is_comment_only("# a\n# b\n", py)
    assert is_comment_only("  // todo", js)
    assert is_comment_only("/* block */", js)
    assert not is_comment_only("x = 1  # set x", py)
    assert not is_comment_only("# a\nx = 1", py)
    assert not is_comment_only("# a", None)
    assert not is_comment_only('"""Return x."""', py), "a docstring is a string, not a comment"


def test_whitespace_only_suggestion_is_dropped() -> None:
    result = postprocess("   \n\t\n", context_for("def f():\n    ", "\n", get_language("python")))
    assert result.text == ""
    assert [r.step for r in result.removals][-1] in {"trim_whitespace", "drop_empty"}


def test_single_line_takes_next_line_when_completion_starts_with_newline() -> None:
    ctx = context_for("x = 1", "\n", get_language("python"))
    assert ctx.mode == "single"
    assert postprocess("\ny = 2\nz = 3\n", ctx).text == "\ny = 2"


def test_single_line_mid_line_cuts_at_first_newline() -> None:
    ctx = context_for("foo(", ")\n", get_language("python"))
    result = postprocess("a, b)\nbar()", ctx)
    assert result.text == "a, b"
    assert [(r.step, r.removed) for r in result.removals] == [("single_line", "\nbar()"), ("suffix_overlap", ")")]
