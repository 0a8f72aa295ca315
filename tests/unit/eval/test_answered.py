"""``answered`` (share of non-empty outputs, clustered CI) and ``empty_passes`` on hand-made samples, and
where they surface: the report's rows, the model card's evaluation section and ``compare``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from assay.eval.report import score_rows
from assay.eval.results import Z95, is_empty, summarize
from assay.eval.store import SampleRow
from assay.stats.compare import compare_runs
from assay.stats.scores import RunScores
from assay.train.nano_card import evaluation_section


def _row(task_id: str, index: int, output: str, passed: bool, cluster: str, language: str = "python") -> SampleRow:
    return SampleRow(run_id="r", task_id=task_id, index=index, cluster=cluster, language=language, prompt="",
                     suffix="", raw_output=output, output=output, passed=passed,
                     outcome="passed" if passed else "failed", metrics={}, detail="", cached=False)


def test_whitespace_only_outputs_are_empty() -> None:
    assert is_empty("") and is_empty(" \n\t") and not is_empty("  x\n")


def test_answered_is_a_per_problem_share_averaged_over_problems_with_a_clustered_ci() -> None:
    rows = [
        _row("a/L1", 0, "", True, "A"), _row("a/L1", 1, "return 1", True, "A"),
        _row("a/L2", 0, "   \n", False, "A"), _row("a/L2", 1, "\n", True, "A"),
        _row("b/L1", 0, "x = 2", False, "B"), _row("b/L1", 1, "y", False, "B"),
        _row("c/L1", 0, "z", True, "C"), _row("c/L1", 1, "", False, "C"),
    ]
    result = summarize("r", "t", "m", rows, ks=(1,))
    per_problem = [0.5, 0.0, 1.0, 0.5]
    mean = sum(per_problem) / 4
    cluster_sums = [(0.5 - mean) + (0.0 - mean), 1.0 - mean, 0.5 - mean]
    se = math.sqrt(3 / 2 * sum(s * s for s in cluster_sums)) / 4
    est = result.scores["answered"]
    assert (est.mean, est.n, est.clusters) == (mean, 4, 3)
    assert est.se == pytest.approx(se)
    assert est.ci95 == pytest.approx((mean - Z95 * se, mean + Z95 * se))
    assert (result.passes, result.empty_passes) == (4, 2)
    assert result.empty_passes_sentence == "2 of the 4 passes are empty answers"
    as_dict = result.as_dict()
    assert as_dict["scores"]["answered"]["mean"] == mean
    assert (as_dict["passes"], as_dict["empty_passes"]) == (4, 2)


def test_answered_breaks_down_by_language() -> None:
    rows = [_row("p", 0, "", False, "P", "python"), _row("j", 0, "x", True, "J", "java"),
            _row("j2", 0, "y", False, "J2", "java")]
    result = summarize("r", "t", "m", rows, ks=(1,))
    assert result.by_language["python"]["answered"].mean == 0.0
    assert result.by_language["java"]["answered"].mean == 1.0
    assert result.empty_passes == 0
    assert summarize("r", "t", "m", rows[:1]).empty_passes_sentence == "no sample passed"


def test_the_report_shows_answered_in_percent() -> None:
    rows = [_row("a", 0, "", True, "A"), _row("b", 0, "x", False, "B")]
    rows_by_name = {name: (value, unit) for name, value, unit, _, _ in score_rows(summarize("r", "t", "m", rows))}
    # 50 ± 98 % would leave 0-100 %: the interval is clipped and printed as its bounds (test_ci_range.py).
    assert rows_by_name["answered"] == ("50.00 [0.00, 100.00]", "%")
    rows += [_row("c", 0, "y", False, "C"), _row("d", 0, "", False, "D")] * 4
    rows = [_row(f"{r.task_id}{i}", 0, r.output, r.passed, f"{r.cluster}{i}") for i, r in enumerate(rows)]
    se = math.sqrt(10 / 9 * 10 * 0.25) / 10
    rows_by_name = {name: (value, unit) for name, value, unit, _, _ in score_rows(summarize("r", "t", "m", rows))}
    assert rows_by_name["answered"] == (f"50.00 ± {Z95 * se * 100:.2f}", "%")


def test_the_card_lists_sentences_under_the_score_table() -> None:
    row = "| humaneval-infilling-single-line | 1033 | answered | 0.124 | [0.100, 0.150] |"
    text = evaluation_section([row, "humaneval-infilling-single-line: 23 of the 26 passes are empty answers."])
    table, notes = text.split("|---|---|---|---|---|\n")
    assert "answered` is the share of problems with a non-empty suggestion" in table
    assert notes == row + "\n\n- humaneval-infilling-single-line: 23 of the 26 passes are empty answers."
    assert "No benchmark scores" in evaluation_section([])


def _scores(name: str, passed: list[float], answered: list[float]) -> RunScores:
    return RunScores(name=name, task_ids=tuple(f"t{i}" for i in range(len(passed))),
                     metrics={"pass@1": np.array(passed), "answered": np.array(answered)})


def test_compare_shows_answered_always_and_tests_it_only_when_it_is_the_quality_metric() -> None:
    a = _scores("a", [1, 0, 0, 1, 0, 0], [1, 0, 0, 1, 0, 0])
    b = _scores("b", [1, 0, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1])
    plain = compare_runs([a, b], rng=np.random.default_rng(0))
    # QA: the README presents answered as the guard against empty passes, yet compare left it out.
    pass1, answered = plain.pairs[0].metrics
    assert (pass1.metric, answered.metric) == ("pass@1", "answered")
    assert answered.diff == pytest.approx(4 / 6) and not answered.adjusted
    assert math.isnan(answered.p_holm) and math.isnan(answered.p_bh)
    # answered stays out of the Holm family: pass@1 is the only hypothesis, so its Holm p is its raw p.
    assert pass1.adjusted and pass1.p_holm == pass1.p_value
    assert plain.pairs[0].verdict.metric == "pass@1"
    asked = compare_runs([a, b], rng=np.random.default_rng(0), quality_metric="answered")
    assert [m.metric for m in asked.pairs[0].metrics] == ["pass@1", "answered"]
    assert asked.pairs[0].verdict.metric == "answered"
    assert [m.diff for m in asked.pairs[0].metrics if m.metric == "answered"] == [pytest.approx(4 / 6)]
