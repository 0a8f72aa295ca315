from __future__ import annotations

import pytest
import typer

from assay.cli.main import _parse_cursor, split_at_cursor

TEXT = "def f():\n    return 1\n"


@pytest.mark.parametrize(
    ("line", "col", "prefix"),
    [(1, 1, ""), (1, 9, "def f():"), (2, 5, "def f():\n    "), (3, 1, TEXT)],
)
def test_split_at_cursor(line: int, col: int, prefix: str) -> None:
    before, after = split_at_cursor(TEXT, line, col)
    assert before == prefix
    assert before + after == TEXT


@pytest.mark.parametrize(("line", "col"), [(5, 1), (1, 30)])
def test_split_at_cursor_out_of_range_is_a_clear_error(line: int, col: int) -> None:
    with pytest.raises(typer.Exit):
        split_at_cursor(TEXT, line, col)


def test_parse_cursor_accepts_paths_with_colons() -> None:
    path, line, col = _parse_cursor("C:/src/a.py:3:7")
    assert (str(path), line, col) == ("C:/src/a.py", 3, 7)


@pytest.mark.parametrize("bad", ["a.py", "a.py:3", "a.py:x:1", "a.py:0:1"])
def test_parse_cursor_rejects_bad_locations(bad: str) -> None:
    with pytest.raises(typer.Exit):
        _parse_cursor(bad)
