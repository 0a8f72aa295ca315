"""Context selection by Jaccard similarity of sliding windows."""

from __future__ import annotations

from assay.pipeline.context import jaccard, select_context, words
from assay.pipeline.types import ContextFile


def count(text: str) -> int:
    return len(text.split())


def test_words_are_identifier_like() -> None:
    assert words("def load_config(path): return 3 + x2") == {"def", "load_config", "path", "return", "x2"}


def test_jaccard() -> None:
    assert jaccard({"a", "b"}, {"b", "c"}) == 1 / 3
    assert jaccard(set(), {"a"}) == 0.0


def _file(name: str, lines: list[str]) -> ContextFile:
    return ContextFile(name=name, content="\n".join(lines) + "\n")


def test_best_window_first_with_scores_and_lines() -> None:
    unrelated = _file("other.py", [f"print({i})" for i in range(10)])
    related = _file("db.py", ["import os"] * 8 + ["def connect_database(url):", "    return engine(url)"] + ["pass"] * 8)
    prefix = "def main():\n    db = connect_database(url)\n    engine"
    chosen = select_context([unrelated, related], prefix, token_budget=1000, count_tokens=count,
                            window_lines=4, stride=2)
    assert chosen, "a window sharing identifiers must be chosen"
    best = chosen[0]
    assert best.file == "db.py"
    assert best.start_line <= 9 and best.end_line >= 10
    assert "connect_database" in best.text
    assert all(a.score >= b.score for a, b in zip(chosen, chosen[1:], strict=False))
    assert best.trace_entry()["tokens"] == count(best.text)


def test_windows_without_shared_words_are_never_chosen() -> None:
    files = [_file("x.txt", ["alpha beta", "gamma delta"])]
    assert select_context(files, "zeta = eta", token_budget=100, count_tokens=count) == []


def test_token_budget_is_respected_and_overlaps_skipped() -> None:
    content = [f"value_{i} = compute(value_{i - 1})" for i in range(40)]
    files = [_file("a.py", content)]
    prefix = "result = compute(value_3)\n"
    chosen = select_context(files, prefix, token_budget=20, count_tokens=count, window_lines=5, stride=1)
    assert sum(s.tokens for s in chosen) <= 20
    spans = sorted((s.start_line, s.end_line) for s in chosen)
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_current_file_is_excluded_and_max_snippets_applies() -> None:
    files = [_file(f"f{i}.py", ["compute total value"]) for i in range(6)] + [_file("me.py", ["compute total"])]
    chosen = select_context(files, "compute total", token_budget=1000, count_tokens=count,
                            max_snippets=3, exclude="me.py")
    assert len(chosen) == 3
    assert "me.py" not in {s.file for s in chosen}


def test_zero_budget_selects_nothing() -> None:
    assert select_context([_file("a.py", ["x"])], "x", token_budget=0, count_tokens=count) == []
