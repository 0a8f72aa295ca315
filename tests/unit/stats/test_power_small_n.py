"""The minimum detectable difference stays honest at small n and with differences that do not vary:
exact small-n floors checked against ``scipy.stats.binomtest`` and ``mcnemar_exact``, then through
``compare_runs``, its JSON and its report."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest

from assay.stats.compare import CompareSettings, compare_runs, summary_json
from assay.stats.paired import mcnemar_exact, sign_flip_test
from assay.stats.power import (
    fewest_pairs_for,
    minimum_detectable_difference,
    paired_power,
    required_n,
    smallest_two_sided_p,
)
from assay.stats.report import build_sections
from assay.stats.scores import from_records
from assay.stats.verdict import smallest_holm_p

Z_SUM_05_08 = 2.8016


@pytest.mark.parametrize(("n", "floor"), [(1, 1.0), (2, 0.5), (3, 0.25), (5, 0.0625), (6, 0.03125), (8, 2 / 256)])
def test_smallest_p_is_all_pairs_discordant_one_way(n: int, floor: float) -> None:
    assert smallest_two_sided_p(n) == floor
    assert binomtest(n, n, 0.5).pvalue == pytest.approx(floor, rel=1e-12)
    assert mcnemar_exact(np.zeros(n + 1), np.r_[np.ones(n), 0.0]).p_value == pytest.approx(floor, rel=1e-12)
    best_split = min(binomtest(k, n, 0.5).pvalue for k in range(n + 1))
    assert best_split == pytest.approx(floor, rel=1e-12)


@pytest.mark.parametrize(("n", "detectable"), [(3, False), (5, False), (6, True)])
def test_the_exact_sign_flip_test_has_the_same_floor(n: int, detectable: bool) -> None:
    d = np.linspace(0.1, 0.9, n)
    p = sign_flip_test(np.zeros(n), d, rng=np.random.default_rng(0)).p_value
    assert p == pytest.approx(smallest_two_sided_p(n), rel=1e-12)
    result = paired_power(float(np.std(d, ddof=1)), n, binary=False, n_permutations=10_000)
    assert (result.mdd is not None) is detectable
    if not detectable:
        assert f"all {n} differences one way" in result.note


def test_fewest_pairs_where_the_exact_test_first_reaches_alpha() -> None:
    assert fewest_pairs_for(0.05) == 6
    assert smallest_two_sided_p(5) > 0.05 >= smallest_two_sided_p(6)
    assert fewest_pairs_for(0.25) == 3
    assert fewest_pairs_for(0.01) == 8


def test_monte_carlo_permutations_floor_the_p_value() -> None:
    assert smallest_two_sided_p(40, n_permutations=10) == pytest.approx(2 / 11)
    assert smallest_two_sided_p(4, n_permutations=10_000) == 0.125


@pytest.mark.parametrize("n", [1, 3, 5])
def test_no_difference_is_detectable_below_six_pairs(n: int) -> None:
    result = paired_power(0.5, n, binary=True)
    assert result.mdd is None
    assert result.note.startswith(f"no difference is detectable at n = {n}: ")
    assert f"{smallest_two_sided_p(n):.3g} > alpha 0.05" in result.note


def test_six_pairs_give_the_normal_mdd() -> None:
    result = paired_power(0.5, 6, binary=True)
    assert result.mdd == pytest.approx(minimum_detectable_difference(0.5, 6))
    assert result.note == f"at n = 6 the smallest difference detected with power 0.8 is {result.mdd:.3g}"
    assert not result.worst_case_variance


def test_a_stricter_alpha_moves_the_threshold() -> None:
    assert paired_power(0.5, 7, binary=True, alpha=0.01).mdd is None
    assert paired_power(0.5, 8, binary=True, alpha=0.01).mdd is not None


def test_zero_variance_binary_uses_the_worst_case_variance() -> None:
    result = paired_power(0.0, 164, binary=True, delta=0.05)
    assert result.worst_case_variance and result.sigma_d == pytest.approx(math.sqrt(0.5))
    assert result.mdd == pytest.approx(Z_SUM_05_08 * math.sqrt(0.5 / 164), rel=1e-4)
    assert result.mdd > 0.15
    assert "worst-case 0/1 variance" in result.note
    assert result.n_needed == required_n(math.sqrt(0.5), 0.05) == 1570


def test_zero_variance_continuous_states_no_mdd() -> None:
    result = paired_power(0.0, 50, binary=False, delta=1.0, n_permutations=10_000)
    assert result.mdd is None and result.n_needed is None
    assert "do not vary, so their spread is unknown" in result.note


def test_too_few_permutations_make_nothing_detectable_at_any_n() -> None:
    result = paired_power(3.0, 500, binary=False, delta=1.0, n_permutations=10)
    assert result.mdd is None and result.n_needed is None
    assert "0.182 > alpha 0.05" in result.note


def test_needed_n_is_sized_at_small_n_and_never_below_the_exact_floor() -> None:
    result = paired_power(0.5, 3, binary=True, delta=0.9)
    assert result.mdd is None
    assert required_n(0.5, 0.9) == 3
    assert result.n_needed == 6


def test_golden_power_vectors_are_unchanged() -> None:
    assert required_n(0.5, 0.05) == 785
    for sigma, points in [(0.3, 6.6), (0.4, 8.8), (0.5, 10.9)]:
        assert 100 * paired_power(sigma, 164, binary=True).mdd == pytest.approx(points, abs=0.05)


def _runs(a: list[int], b: list[int]):
    def records(values: list[int]) -> list[dict]:
        return [{"task_id": f"T/{i}", "pass@1": v} for i, v in enumerate(values)]

    return [from_records("A", records(a)), from_records("B", records(b))]


def _compare(a: list[int], b: list[int]):
    return compare_runs(
        _runs(a, b), rng=np.random.default_rng(0), settings=CompareSettings(n_bootstrap=200, n_permutations=200)
    )


def test_compare_at_n_3_says_no_difference_is_detectable() -> None:
    comparison = _compare([0, 0, 0], [1, 1, 1])
    m = comparison.pairs[0].metrics[0]
    assert m.p_value == 0.25 and m.mdd is None
    verdict = comparison.pairs[0].verdict
    assert verdict is not None and verdict.outcome == "inconclusive"
    assert "no difference is detectable at n = 3" in verdict.reason
    assert "detected with power" not in verdict.reason
    metrics = summary_json(comparison)["metrics"]["pass@1"]
    assert metrics["mdd"] is None and metrics["mdd_note"].startswith("no difference is detectable at n = 3")
    text = "\n".join(p for s in build_sections(comparison=comparison) for p in s.paragraphs)
    assert "MDD of pass@1: no difference is detectable at n = 3" in text


def test_compare_at_n_6_all_discordant_one_way_is_better() -> None:
    comparison = _compare([0] * 6, [1] * 6)
    m = comparison.pairs[0].metrics[0]
    assert m.p_value == 0.03125 and m.mdd is not None
    assert comparison.pairs[0].verdict is not None and comparison.pairs[0].verdict.outcome == "better"


def test_compare_identical_runs_report_a_worst_case_mdd_not_zero() -> None:
    outcomes = [1, 0] * 10
    comparison = _compare(outcomes, outcomes)
    m = comparison.pairs[0].metrics[0]
    assert m.se == 0 and m.p_value == 1.0
    assert m.mdd == pytest.approx(Z_SUM_05_08 * math.sqrt(0.5 / 20), rel=1e-4)
    verdict = comparison.pairs[0].verdict
    assert verdict is not None and f"at n = 20 the smallest difference detected with power 0.8 is {m.mdd:.3g}" in (
        verdict.reason
    )
    assert "worst-case 0/1 variance was assumed" in verdict.reason


def test_holm_over_two_metrics_makes_six_pairs_too_few() -> None:
    def records(passed: int, es: float) -> list[dict]:
        return [{"task_id": f"T/{i}", "pass@1": passed, "es": es + i} for i in range(6)]

    runs = [from_records("A", records(0, 10.0)), from_records("B", records(1, 60.0))]
    comparison = compare_runs(runs, rng=np.random.default_rng(0), settings=CompareSettings(n_bootstrap=200))
    assert [m.p_value for m in comparison.pairs[0].metrics] == [0.03125, 0.03125]
    assert [m.p_holm for m in comparison.pairs[0].metrics] == [0.0625, 0.0625]
    assert smallest_holm_p(comparison.pairs[0].metrics, comparison.settings) == 0.0625
    verdict = comparison.pairs[0].verdict
    assert verdict is not None and verdict.outcome == "inconclusive"
    assert "no difference is detectable at n = 6 once Holm adjusts for the other hypotheses" in verdict.reason
    assert "0.0625 > alpha 0.05" in verdict.reason
