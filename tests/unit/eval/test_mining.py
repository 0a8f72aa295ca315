"""Pure pieces of feature evaluation: message filters, failure summaries, ROUGE-L (hand-computed), Spearman,
the judge's score parsing."""

from __future__ import annotations

import pytest

from assay.eval.mining.commits import MineOptions, clean_message, is_bot, message_problem
from assay.eval.mining.failures import summarize_failure
from assay.eval.mining.git import Commit
from assay.eval.mining.judge import judge_messages, parse_score
from assay.eval.mining.scoring import lcs_length, rouge_l, spearman, tokens

OPTS = MineOptions()


@pytest.mark.parametrize("message", [
    "wip", "WIP: half of the parser", "fix typo", "Fix typos in README", "typo", "Merge branch 'main' into dev",
    "Merge pull request #12 from a/b", "Revert \"Add cache\"", "Bump requests from 2.31.0 to 2.32.0",
    "chore(deps): bump lodash from 4.17.20 to 4.17.21", "Update dependency pytest to v8", "Initial commit",
    "update", "Update README", "minor changes", "cleanup", "v1.2.3", "Release 2.0.0", "fixup! Add cache",
    "Apply suggestions from code review", "---", "asdf",
])
def test_templated_and_trivial_messages_are_rejected(message: str) -> None:
    assert message_problem(message, OPTS) == "trivial_message"


@pytest.mark.parametrize(("message", "reason"), [
    ("Tweak it", "short_message"), ("", "empty_message"), ("Add " + "very " * 40 + "long subject", "long_subject"),
])
def test_short_empty_and_long_messages(message: str, reason: str) -> None:
    assert message_problem(message, OPTS) == reason


@pytest.mark.parametrize("message", ["Add retry to the upload client", "Fix crash when the config file is empty",
                                     "Update the parser to accept trailing commas", "Merge sort: handle empty lists"])
def test_informative_messages_are_kept(message: str) -> None:
    assert message_problem(message, OPTS) is None


def test_trailers_are_removed_but_a_colon_subject_is_not() -> None:
    msg = "Gateway: retry on 502\n\nThe upstream drops idle connections.\n\nSigned-off-by: A <a@x>\nCo-authored-by: B <b@x>\n"
    assert clean_message(msg) == "Gateway: retry on 502\n\nThe upstream drops idle connections."
    assert clean_message("Fixes: the thing\n") == "Fixes: the thing"


@pytest.mark.parametrize(("author", "email", "bot"), [
    ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com", True),
    ("renovate[bot]", "bot@renovateapp.com", True),
    ("GitLab Bot", "gitlab-bot@gitlab.com", True),
    ("github-actions", "41898282+github-actions[bot]@users.noreply.github.com", True),
    ("Ada Lovelace", "ada@example.com", False),
    ("Abbott Costello", "abbott@example.com", False),
])
def test_bot_authors(author: str, email: str, bot: bool) -> None:
    assert is_bot(Commit("0" * 40, (), author, email, "2024-01-01", "Add thing here")) is bot


PYTEST_LOG = """\
============================= test session starts ==============================
collected 3 items

tests/test_calc.py .F.                                                   [100%]

=================================== FAILURES ===================================
___________________________________ test_add ___________________________________

    def test_add():
>       assert add(2, 2) == 4
E       assert 0 == 4
E        +  where 0 = add(2, 2)

tests/test_calc.py:5: AssertionError
=========================== short test summary info ============================
FAILED tests/test_calc.py::test_add - assert 0 == 4
========================= 1 failed, 2 passed in 0.03s ==========================
"""

UNITTEST_LOG = """\
.F
======================================================================
FAIL: test_add (tests.test_calc.CalcTest.test_add)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "tests/test_calc.py", line 6, in test_add
    self.assertEqual(add(2, 2), 4)
AssertionError: 0 != 4

----------------------------------------------------------------------
Ran 2 tests in 0.001s

FAILED (failures=1)
"""

GO_LOG = """\
=== RUN   TestAdd
    calc_test.go:9: add(2, 2) = 0, want 4
--- FAIL: TestAdd (0.00s)
FAIL
FAIL\texample.com/calc\t0.002s
"""

GO_LOG_CAUSE_AFTER = """\
--- FAIL: TestDiv (0.00s)
    calc_test.go:15: div(1, 0) did not panic
FAIL
"""

JEST_LOG = """\
 FAIL  src/calc.test.js
  ● calc › adds two numbers

    expect(received).toBe(expected) // Object.is equality
"""


@pytest.mark.parametrize(("log", "tests", "cause"), [
    (PYTEST_LOG, ("tests/test_calc.py::test_add",), "assert 0 == 4"),
    (UNITTEST_LOG, ("tests.test_calc.CalcTest.test_add",), "AssertionError: 0 != 4"),
    (GO_LOG_CAUSE_AFTER, ("TestDiv",), "div(1, 0) did not panic"),
    (JEST_LOG, ("calc › adds two numbers",), ""),
    ("make: *** [build] Error 2\n", (), "make: *** [build] Error 2"),
    ("Traceback (most recent call last):\n  File \"x.py\", line 1\nModuleNotFoundError: No module named 'yaml'\n", (),
     "ModuleNotFoundError: No module named 'yaml'"),
])
def test_failure_summaries(log: str, tests: tuple[str, ...], cause: str) -> None:
    summary = summarize_failure(log)
    assert summary.tests == tests
    assert summary.cause == cause


def test_go_cause_before_the_fail_line_falls_back_to_an_error_line() -> None:
    assert summarize_failure(GO_LOG).tests == ("TestAdd",)
    ref = summarize_failure(PYTEST_LOG).reference()
    assert ref == "Failing test: tests/test_calc.py::test_add\nCause: assert 0 == 4"
    assert not summarize_failure("all good\n").found


def test_rouge_l_against_hand_computed_values() -> None:
    # candidate "the cat sat on the mat" vs reference "the cat was on the mat": LCS = the cat on the mat = 5
    r = rouge_l("the cat sat on the mat", "the cat was on the mat")
    assert (r.precision, r.recall, r.f1) == pytest.approx((5 / 6, 5 / 6, 5 / 6))
    # 2 of 4 candidate tokens, 2 of 3 reference tokens in order: P = 1/2, R = 2/3, F = 2PR/(P+R) = 4/7
    r = rouge_l("Fix parser crash today", "fix the crash")
    assert (r.precision, r.recall, r.f1) == pytest.approx((0.5, 2 / 3, 4 / 7))
    # order matters: LCS of "a b c d" and "d c b a" is 1 → P = R = F = 1/4
    assert rouge_l("a b c d", "d c b a").f1 == pytest.approx(0.25)
    assert rouge_l("Add retry!", "add RETRY").f1 == 1.0
    assert rouge_l("", "x").f1 == 0.0 and rouge_l("x y", "z").f1 == 0.0


def test_tokens_and_lcs() -> None:
    assert tokens("Don't re-run v2.0!") == ["don", "t", "re", "run", "v2", "0"]
    assert lcs_length(list("ABCBDAB"), list("BDCABA")) == 4


def test_spearman_agreement() -> None:
    perfect = spearman("rouge_l", [0.0, 0.25, 0.5, 1.0], [0.1, 0.2, 0.3, 0.9])
    assert perfect.rho == pytest.approx(1.0) and perfect.n == 4
    inverse = spearman("rouge_l", [1, 2, 3, 4, 5], [5, 4, 3, 2, 1])
    assert inverse.rho == pytest.approx(-1.0)
    assert spearman("rouge_l", [1, 1, 1], [1, 2, 3]).rho is None
    assert spearman("rouge_l", [1, 2], [1, 2]).rho is None


@pytest.mark.parametrize(("reply", "score"), [
    ("Same meaning.\nScore: 5", 5), ("score = 3", 3), ("**Score:** 2", 2), ("Score: 4\n...\nScore: 1", 1),
    ("I would give it a 4.", None), ("Score: 7", None), ("", None),
])
def test_judge_score_parsing(reply: str, score: int | None) -> None:
    assert parse_score(reply) == score


def test_judge_prompt_is_fixed_and_clips_long_inputs() -> None:
    (system_role, system), (user_role, user) = judge_messages("generate_commit_message", "x" * 10_000, "ref", "out")
    assert (system_role, user_role) == ("system", "user")
    assert '"generate_commit_message"' in system and "Score: N" in system
    assert "<reference>\nref\n</reference>" in user and user.count("x") < 7000
