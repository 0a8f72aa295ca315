"""95 % CIs stay inside the metric's range: the normal approximation (mean ± 1.96 SE, pinned in
evaluation-reference.md §3.1) leaves it on a few problems, and the nano rehearsal's model card showed
``answered | 0.500 | [0.000, 1.480]`` and ``edit_similarity | 3.000 | [0.000, 8.880]`` unlabelled next
to shares. The mean and SE keep their pinned definitions; only the reported bounds are clipped."""

from __future__ import annotations

import pytest

from assay.eval.metrics import PERCENT_SCALE, SHARE, metric_range
from assay.eval.report import score_rows
from assay.eval.results import Z95, estimate, summarize
from assay.eval.store import SampleRow
from assay.train.nano_card import evaluation_section


def _row(task_id: str, output: str, passed: bool, es: float) -> SampleRow:
    return SampleRow(run_id="r", task_id=task_id, index=0, cluster=task_id, language="python", prompt="",
                     suffix="", raw_output=output, output=output, passed=passed,
                     outcome="passed" if passed else "failed", metrics={"edit_similarity": es}, detail="",
                     cached=False)


def _rehearsal() -> list[SampleRow]:
    """The QA rehearsal's random-span-light run: 2 problems, one answered (ES 6) and one empty (ES 0)."""
    return [_row("HumanEval/0/1", "x = 1", False, 6.0), _row("HumanEval/1/1", "", False, 0.0)]


def test_metrics_know_their_range() -> None:
    assert metric_range("pass@1") == metric_range("pass@10") == SHARE
    assert metric_range("answered") == metric_range("em_first_line") == metric_range("identifier_f1") == SHARE
    assert metric_range("edit_similarity") == PERCENT_SCALE == (0.0, 100.0)
    assert metric_range("embedding_similarity") == (-1.0, 1.0)
    assert metric_range("a_task_specific_metric") is None


def test_a_share_on_two_problems_no_longer_reaches_past_one() -> None:
    result = summarize("r", "t", "m", _rehearsal(), ks=(1,))
    answered = result.scores["answered"]
    assert (answered.mean, answered.se) == (0.5, pytest.approx(0.5))
    assert answered.normal_ci95 == pytest.approx((0.5 - Z95 * 0.5, 0.5 + Z95 * 0.5))  # [-0.48, 1.48]
    assert answered.ci95 == (0.0, 1.0) and answered.clipped
    as_dict = result.as_dict()["scores"]["answered"]
    assert (as_dict["ci95_low"], as_dict["ci95_high"], as_dict["range"]) == (0.0, 1.0, [0.0, 1.0])
    assert result.scores["pass@1"].ci95 == (0.0, 0.0)


def test_edit_similarity_is_clipped_to_its_0_to_100_scale() -> None:
    es = summarize("r", "t", "m", _rehearsal(), ks=(1,)).scores["edit_similarity"]
    assert (es.mean, es.se) == (3.0, pytest.approx(3.0))
    assert es.ci95 == (0.0, pytest.approx(3.0 + Z95 * 3.0))  # [0.000, 8.880]: the upper bound is in range
    assert es.as_dict()["range"] == [0.0, 100.0]


def test_an_interval_inside_the_range_is_still_mean_plus_minus_the_pinned_half_width() -> None:
    est = estimate([1, 1, 1, 0, 0, 0], [0, 1, 1, 1, 0, 0], SHARE)
    assert est.ci95 == est.normal_ci95 and not est.clipped
    assert est.ci95[1] - est.mean == pytest.approx(Z95 * 0.1666667, abs=1e-6)
    unknown = estimate([5.0, -5.0], ["a", "b"])
    assert unknown.ci95 == unknown.normal_ci95 and unknown.as_dict()["range"] is None


def test_the_report_prints_a_clipped_interval_as_bounds_not_a_half_width() -> None:
    rows = {name: value for name, value, _, _, _ in score_rows(summarize("r", "t", "m", _rehearsal(), ks=(1,)))}
    assert rows["answered"] == "50.00 [0.00, 100.00]"
    assert rows["edit_similarity"] == "3.00 [0.00, 8.88]"


def test_the_card_names_the_edit_similarity_scale() -> None:
    text = evaluation_section(["| t | 2 | answered | 0.500 | [0.000, 1.000] |",
                               "| t | 2 | edit_similarity | 3.000 | [0.000, 8.880] |", "t: no sample passed."])
    assert "| t | 2 | edit_similarity (0-100) | 3.000 | [0.000, 8.880] |" in text
    assert "| t | 2 | answered | 0.500 | [0.000, 1.000] |" in text
    assert "clipped to each metric's range" in text and "0-100 scale" in text
