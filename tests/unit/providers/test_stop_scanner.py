"""StopScanner: stream only text that can no longer turn into a stop sequence or a broken character."""

from __future__ import annotations

from assay.providers.stops import StopScanner


def test_text_without_stops_streams_immediately() -> None:
    s = StopScanner([])
    assert s.push("abc") == "abc"
    assert s.push("def") == "def"
    assert s.finish() == ""


def test_possible_stop_prefix_is_held_then_released() -> None:
    s = StopScanner(["\n\n"])
    assert s.push("x = 1\n") == "x = 1"
    assert s.push("y") == "\ny"
    assert not s.stopped


def test_stop_cuts_text_and_ends() -> None:
    s = StopScanner(["<|endoftext|>", "\nclass"])
    assert s.push("return a + b\n") == "return a + b"
    assert s.push("cla") == ""
    assert s.push("ss Foo") == ""
    assert s.stopped and s.text == "return a + b"
    assert s.push("more") == "" and s.finish() == ""


def test_earliest_stop_wins_even_inside_one_piece() -> None:
    s = StopScanner(["END", "E"])
    assert s.push("abcEND") == "abc"
    assert s.text == "abc"


def test_partial_utf8_is_held_until_complete() -> None:
    s = StopScanner(["zz"])
    assert s.update("caf\ufffd") == "caf"
    assert s.update("café") == "é"


def test_finish_releases_held_tail() -> None:
    s = StopScanner(["<fim_middle>"])
    assert s.push("x <fim") == "x "
    assert s.finish() == "<fim"
    assert s.text == "x <fim"
