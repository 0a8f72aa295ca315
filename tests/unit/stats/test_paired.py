"""Paired tests equal their scipy / statsmodels oracles (evaluation-reference.md §3.2)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar

from assay.stats.paired import (
    mcnemar_exact,
    paired_bootstrap,
    paired_difference,
    sign_flip_test,
)


def _table(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.array(
        [
            [np.sum((a == 1) & (b == 1)), np.sum((a == 1) & (b == 0))],
            [np.sum((a == 0) & (b == 1)), np.sum((a == 0) & (b == 0))],
        ]
    )


@pytest.mark.parametrize("seed", range(6))
def test_mcnemar_equals_statsmodels_and_binomtest(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, 80)
    b = np.where(rng.uniform(size=80) < 0.3, 1 - a, a)
    result = mcnemar_exact(a, b)
    assert result.p_value == pytest.approx(mcnemar(_table(a, b), exact=True).pvalue, abs=1e-12)
    n01, n10 = int(np.sum((a == 0) & (b == 1))), int(np.sum((a == 1) & (b == 0)))
    assert result.p_value == pytest.approx(stats.binomtest(n01, n01 + n10, 0.5).pvalue, abs=1e-12)


def test_mcnemar_without_discordant_pairs_is_one_and_rejects_non_binary() -> None:
    assert mcnemar_exact([1, 0, 1], [1, 0, 1]).p_value == 1.0
    with pytest.raises(ValueError, match="binary"):
        mcnemar_exact([0.5, 1], [1, 0])


def test_sign_flip_exact_equals_scipy() -> None:
    rng = np.random.default_rng(3)
    a = rng.normal(size=12)
    b = a + rng.normal(0.4, 1, 12)
    ours = sign_flip_test(a, b, rng=np.random.default_rng(0))
    ref = stats.permutation_test(
        (b - a,), lambda d, axis: d.mean(axis=axis), permutation_type="samples", n_resamples=np.inf
    )
    assert ours.test == "sign_flip_permutation_exact"
    assert ours.p_value == pytest.approx(ref.pvalue, abs=1e-12)


def test_sign_flip_monte_carlo_agrees_with_scipy_and_is_seeded() -> None:
    rng = np.random.default_rng(4)
    a = rng.uniform(size=200)
    b = np.clip(a + rng.normal(0.03, 0.2, 200), 0, 1)
    ours = sign_flip_test(a, b, rng=np.random.default_rng(11), n_resamples=20_000)
    again = sign_flip_test(a, b, rng=np.random.default_rng(11), n_resamples=20_000)
    ref = stats.permutation_test(
        (b - a,),
        lambda d, axis: d.mean(axis=axis),
        permutation_type="samples",
        n_resamples=20_000,
        rng=np.random.default_rng(12),
    )
    assert ours.p_value == again.p_value
    assert ours.p_value == pytest.approx(ref.pvalue, abs=0.02)


def _scipy_paired_bootstrap(a: np.ndarray, b: np.ndarray) -> Any:
    """scipy's percentile paired bootstrap of mean(b) - mean(a), 4,000 resamples, its own seed."""
    return stats.bootstrap(
        (a, b),
        lambda x, y, axis: y.mean(axis=axis) - x.mean(axis=axis),
        paired=True,
        method="percentile",
        n_resamples=4000,
        rng=np.random.default_rng(2),
    )


def test_paired_bootstrap_agrees_with_scipy_and_clt() -> None:
    rng = np.random.default_rng(5)
    a = rng.uniform(size=300)
    b = np.clip(a + rng.normal(0.05, 0.2, 300), 0, 1)
    boot = paired_bootstrap(a, b, rng=np.random.default_rng(1), n_resamples=4000)
    ref = _scipy_paired_bootstrap(a, b)
    clt = paired_difference(a, b)
    assert boot.ci[0] == pytest.approx(ref.confidence_interval.low, abs=0.004)
    assert boot.ci[1] == pytest.approx(ref.confidence_interval.high, abs=0.004)
    assert boot.se == pytest.approx(clt.se, rel=0.08)
    assert paired_bootstrap(a, b, rng=np.random.default_rng(1), n_resamples=4000) == boot


def test_paired_difference_closed_form_and_clusters() -> None:
    a = np.array([1, 0, 1, 1, 0, 0], dtype=float)
    b = np.array([1, 1, 1, 0, 1, 0], dtype=float)
    d = b - a
    result = paired_difference(a, b)
    se = d.std(ddof=1) / np.sqrt(6)
    assert result.diff == pytest.approx(1 / 6)
    assert result.se == pytest.approx(se)
    assert result.ci == pytest.approx((1 / 6 - 1.959963984540054 * se, 1 / 6 + 1.959963984540054 * se))
    assert result.se_kind == "clt"
    clustered = paired_difference(a, b, clusters=["x", "x", "y", "y", "z", "z"])
    assert clustered.se_kind == "clustered"
    assert clustered.se != pytest.approx(se)
    assert result.correlation == pytest.approx(np.corrcoef(a, b)[0, 1])


def test_paired_inputs_are_validated() -> None:
    with pytest.raises(ValueError, match="equal length"):
        paired_difference([1, 2, 3], [1, 2])


def test_cluster_bootstrap_tracks_the_clustered_se() -> None:
    rng = np.random.default_rng(8)
    clusters = np.repeat(np.arange(60), 5)
    shared = np.repeat(rng.normal(0, 0.3, 60), 5)
    a = rng.uniform(size=300)
    b = a + shared + rng.normal(0, 0.1, 300)
    clustered = paired_difference(a, b, clusters=clusters)
    boot = paired_bootstrap(a, b, rng=np.random.default_rng(1), n_resamples=3000, clusters=clusters)
    naive = paired_bootstrap(a, b, rng=np.random.default_rng(1), n_resamples=3000)
    assert boot.se == pytest.approx(clustered.se, rel=0.1)
    assert naive.se < 0.7 * boot.se


def test_discrete_bootstrap_agrees_with_scipy() -> None:
    """Pass/fail outcomes take the multinomial path; it must match index resampling in distribution."""
    rng = np.random.default_rng(9)
    a = (rng.uniform(size=400) < 0.45).astype(float)
    b = np.where(rng.uniform(size=400) < 0.3, 1 - a, a)
    boot = paired_bootstrap(a, b, rng=np.random.default_rng(1), n_resamples=4000)
    ref = _scipy_paired_bootstrap(a, b)
    d = b - a
    assert boot.ci[0] == pytest.approx(ref.confidence_interval.low, abs=0.006)
    assert boot.ci[1] == pytest.approx(ref.confidence_interval.high, abs=0.006)
    assert boot.se == pytest.approx(d.std(ddof=0) / np.sqrt(400), rel=0.05)
