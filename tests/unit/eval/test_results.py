"""Aggregation: clustered standard errors (evaluation-reference.md §3.1) and pass@k from stored samples."""

from __future__ import annotations

import pytest

from assay.eval.results import clustered_se, estimate, summarize
from assay.eval.store import SampleRow


def test_clustered_se_matches_the_reference_vector() -> None:
    scores = [1, 1, 1, 0, 0, 0]
    assert clustered_se(scores, [0, 1, 1, 1, 0, 0]) == pytest.approx(0.1666667, abs=1e-7)
    assert clustered_se(scores, list(range(6))) == pytest.approx(0.2236068, abs=1e-7)


def test_clustered_se_degenerate_cases() -> None:
    assert clustered_se([1.0], ["a"]) is None
    assert clustered_se([1.0, 0.0], ["a", "a"]) is None
    with pytest.raises(ValueError):
        clustered_se([1.0, 0.0], ["a"])


def test_estimate_ci_is_symmetric_with_z95() -> None:
    est = estimate([1, 1, 1, 0, 0, 0], [0, 1, 1, 1, 0, 0])
    lo, hi = est.ci95
    assert est.mean == 0.5 and est.clusters == 2 and est.n == 6
    assert hi - est.mean == pytest.approx(1.959964 * 0.1666667, abs=1e-6)
    assert est.mean - lo == pytest.approx(hi - est.mean)


def _row(task_id: str, index: int, passed: bool, cluster: str, language: str = "python",
         metrics: dict | None = None) -> SampleRow:
    return SampleRow(run_id="r", task_id=task_id, index=index, cluster=cluster, language=language, prompt="",
                     suffix="", raw_output="", output="", passed=passed, outcome="passed" if passed else "failed",
                     metrics=metrics or {}, detail="", cached=False)


def test_summarize_reports_pass_at_k_only_where_every_problem_has_enough_samples() -> None:
    rows = [_row("a", i, i < 3, "A") for i in range(10)] + [_row("b", i, False, "B") for i in range(10)]
    result = summarize("r", "t", "m", rows, ks=(1, 10, 100))
    assert set(result.scores) == {"pass@1", "pass@10", "answered"}
    assert result.scores["pass@1"].mean == pytest.approx((0.30000000000000004 + 0.0) / 2)
    assert result.scores["pass@10"].mean == pytest.approx(0.5)
    assert result.outcomes == {"failed": 17, "passed": 3}


def test_summarize_clusters_problems_and_breaks_down_languages() -> None:
    rows = [_row("p1", 0, True, "S", "python", {"em": 1.0}), _row("p2", 0, True, "S", "python", {"em": 0.0}),
            _row("j1", 0, False, "T", "java", {"em": 0.0})]
    result = summarize("r", "t", "m", rows, ks=(1,))
    assert result.scores["pass@1"].clusters == 2 and result.scores["pass@1"].n == 3
    assert result.scores["em"].mean == pytest.approx(1 / 3)
    assert set(result.by_language) == {"java", "python"}
    assert result.by_language["python"]["pass@1"].mean == 1.0
    assert result.by_language["java"]["pass@1"].mean == 0.0
