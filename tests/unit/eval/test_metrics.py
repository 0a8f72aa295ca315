"""Metrics checked value for value against shared/reference/evaluation-reference.md §2."""

from __future__ import annotations

import math

import pytest

from assay.eval.metrics import (
    METRICS,
    edit_similarity,
    em_cceval,
    em_first_line,
    em_repobench,
    em_santacoder,
    identifier_em,
    identifier_f1,
    identifiers,
    mean_pass_at_k,
    pass_at_k,
)


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (6, 3, 1, 0.4999999999999999),
        (10, 3, 1, 0.30000000000000004),
        (10, 3, 10, 1.0),
        (200, 20, 1, 0.1000000000000002),
        (200, 20, 10, 0.660225623763214),
        (200, 20, 100, 0.9999996678312922),
        (20, 1, 5, 0.25),
        (5, 0, 1, 0.0),
    ],
)
def test_pass_at_k_reference_vectors(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)
    exact = 1 - math.comb(n - c, k) / math.comb(n, k)
    assert pass_at_k(n, c, k) == pytest.approx(exact, abs=1e-12)


def test_pass_at_k_refuses_k_above_n() -> None:
    with pytest.raises(ValueError, match="at least 10 samples"):
        pass_at_k(5, 1, 10)


def test_mean_pass_at_k_is_unweighted_over_problems() -> None:
    assert mean_pass_at_k([(10, 3), (6, 3)], 1) == pytest.approx((0.3 + 0.5) / 2)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [("c)a(c", ") b)c", 40), (",)(a,)", "a ,", 44), ("return a + b", "return a+b", 91), ("", "", 100), ("", "x", 0)],
)
def test_edit_similarity_matches_levenshtein_backend_vectors(a: str, b: str, expected: int) -> None:
    assert edit_similarity(a, b, strip=False) == expected


def test_edit_similarity_strip_rule() -> None:
    assert edit_similarity("  x = 1\n", "x = 1") == 100
    assert edit_similarity("  x = 1\n", "x = 1", strip=False) < 100


def test_em_cceval_truncates_python_to_one_statement() -> None:
    prompt = "def f(x):\n    y = "
    assert em_cceval("x + 1\n    return y\n", "x + 1", prompt=prompt) == 1
    assert em_cceval("x + 2\n", "x + 1", prompt=prompt) == 0


def test_em_cceval_strips_comments_even_inside_strings() -> None:
    assert em_cceval("a = 1  # set a\n", "a = 1", prompt="") == 1
    assert em_cceval('s = "#x"\n', 's = "', prompt="", language="other") == 1


def test_em_cceval_bracket_languages_cut_after_first_terminator() -> None:
    assert em_cceval("int x = 1; int y = 2;", "int x = 1;", language="java") == 1


def test_em_repobench_is_whitespace_token_equality() -> None:
    assert em_repobench("return  a +\tb", "return a + b") == 1
    assert em_repobench("return a+b", "return a + b") == 0


def test_em_santacoder_cuts_at_stop_words() -> None:
    assert em_santacoder("  x = 1 <|endoftext|> junk", "x = 1") == 1
    assert em_santacoder("x = 1<file_sep>more", "x = 1") == 1
    assert em_santacoder("x = 2", "x = 1") == 0


def test_em_first_line_skips_a_leading_newline() -> None:
    assert em_first_line("\n    return a\nmore", "return a") == 1
    assert em_first_line(" \nreturn a", "return a") == 1
    assert em_first_line("return a\n", "  return a  ") == 1
    assert em_first_line("return b\nreturn a", "return a") == 0


def test_identifiers_drop_strings_and_keywords() -> None:
    assert identifiers("if foo: return bar('baz', \"q\") + foo") == ["foo", "bar", "foo"]


def test_identifier_em_and_f1() -> None:
    assert identifier_em("foo(bar)", "foo(bar)") == 1
    assert identifier_em("bar(foo)", "foo(bar)") == 0
    assert identifier_f1("bar(foo)", "foo(bar)") == 1.0
    assert identifier_f1("foo(x)", "foo(y)") == pytest.approx(0.5)
    # Two empty identifier sets: F1 0 but EM 1 (CCEval's quirk).
    assert identifier_f1("1 + 2", "3") == 0.0
    assert identifier_em("1 + 2", "3") == 1


def test_registry_names_every_variant() -> None:
    assert {"em_cceval", "em_repobench", "em_santacoder", "em_first_line", "edit_similarity",
            "identifier_em", "identifier_f1"} <= set(METRICS)
    assert METRICS["em_cceval"].binary and not METRICS["edit_similarity"].binary
