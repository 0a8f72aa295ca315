"""The incremental FIM-as-chat answer reader agrees with ``extract_fim_answer`` for every chunking."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.providers.fim_chat import extract_fim_answer
from assay.providers.fim_chat_stream import FimAnswerStream

CORPUS = [
    "<COMPLETION>a + b</COMPLETION>",
    "Sure! Here it is:\n<COMPLETION>return a + b\n</COMPLETION>\nAnything else?",
    "<COMPLETION></COMPLETION>",
    "<COMPLETION>    x = 1\n    y = 2<CURSOR></COMPLETION>",
    "<COMPLETION>a + b",
    "<COMPLETION>a < b and c </COMPL",
    "<COMPLETION>if a </ b: <CURS",
    "<COMPLETION>x</COMPLETION> and a second <COMPLETION>y</COMPLETION>",
    "<COMPLETION><COMPLETION>nested</COMPLETION>",
    "<COMPLETION><CUR<CURSOR>SOR>x</COMPLETION>",
    "<COMPLETION>```python\nx = 1\n```</COMPLETION>",
    "Here:\n```python\nreturn a + b\n```\nThat's it.",
    "```\nx\ny\n```",
    "```python\nunclosed fence",
    "Here:\n```python\nx = 1\n```\nor with the tag: <COMPLETION>y = 2</COMPLETION>",
    "a + b",
    "a + b<CURSOR>",
    "<CURSOR>a + b<CURSOR>",
    "",
    "</COMPLETION>stray close",
    "text <COMPLETION",
]

FRAGMENTS = ["<COMPLETION>", "</COMPLETION>", "<CURSOR>", "<", "</", "<COMP", "</COMPLE", "<CUR", "SOR>",
             "LETION>", "```", "```python\n", "\n```", "\n", " ", "x", "a + b", ">", "é", "😀"]


def stream(reply: str, cuts: list[int]) -> tuple[list[str], str]:
    """Push ``reply`` split at ``cuts``; return the pieces released by ``push`` and by ``finish``."""
    reader = FimAnswerStream()
    bounds = [0, *sorted(c for c in set(cuts) if 0 < c < len(reply)), len(reply)]
    pushed = [reader.push(reply[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    return pushed, reader.finish()


@st.composite
def chunked(draw: st.DrawFn, replies: st.SearchStrategy[str]) -> tuple[str, list[int]]:
    reply = draw(replies)
    cuts = draw(st.lists(st.integers(0, max(len(reply), 1)), max_size=max(len(reply), 1)))
    return reply, cuts


@settings(max_examples=300, deadline=None)
@given(chunked(st.sampled_from(CORPUS)))
def test_any_chunking_of_the_corpus_gives_the_whole_reply_answer(case: tuple[str, list[int]]) -> None:
    reply, cuts = case
    pushed, rest = stream(reply, cuts)
    assert "".join(pushed) + rest == extract_fim_answer(reply)


@settings(max_examples=300, deadline=None)
@given(chunked(st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join)))
def test_any_chunking_of_marker_soup_gives_the_whole_reply_answer(case: tuple[str, list[int]]) -> None:
    reply, cuts = case
    pushed, rest = stream(reply, cuts)
    assert "".join(pushed) + rest == extract_fim_answer(reply)


def test_tagged_answer_is_released_while_it_streams() -> None:
    reader = FimAnswerStream()
    assert reader.push("Sure: <COMPLE") == "" and not reader.tagged
    assert reader.push("TION>return a") == "return a" and reader.tagged
    assert reader.push(" + b") == " + b"
    assert reader.push("</COMP") == ""
    assert reader.push("LETION> bye") == "" and reader.closed
    assert reader.push("<COMPLETION>more") == ""
    assert reader.finish() == "" and reader.answer == "return a + b"


@pytest.mark.parametrize(("pieces", "released"), [
    (["<COMPLETION>a <", "CURSOR> b"], ["a ", " b"]),
    (["<COMPLETION>a <", "b"], ["a ", "<b"]),
    (["<COMPLETION>a </COMPLETI", "X"], ["a ", "</COMPLETIX"]),
    (["<COMPLETION>a </COMPLETE", "D"], ["a </COMPLETE", "D"]),
    (["<COMPLETION>a <CURSOR", "S>"], ["a ", "<CURSORS>"]),
])
def test_only_a_possible_marker_is_held_back(pieces: list[str], released: list[str]) -> None:
    reader = FimAnswerStream()
    assert [reader.push(p) for p in pieces] == released


def test_untagged_reply_is_released_whole_at_the_end() -> None:
    reader = FimAnswerStream()
    assert reader.push("Here:\n```python\nreturn a + b\n") == ""
    assert reader.push("```\nDone.") == ""
    assert reader.finish() == "return a + b" and not reader.tagged and reader.answer == "return a + b"


def test_unclosed_tag_flushes_the_held_tail_at_the_end() -> None:
    reader = FimAnswerStream()
    assert reader.push("<COMPLETION>a </COMPL") == "a "
    assert reader.finish() == "</COMPL" and not reader.closed
