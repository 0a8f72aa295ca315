"""Standard errors, power and multiple-comparison adjustments against the reference vectors (§3.1) and
statsmodels."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from assay.stats.estimators import clt_se, clustered_se
from assay.stats.multiple import benjamini_hochberg, holm
from assay.stats.power import minimum_detectable_difference, required_n


def test_clustered_se_toy_vector() -> None:
    scores, clusters = [1, 1, 1, 0, 0, 0], [0, 1, 1, 1, 0, 0]
    assert clustered_se(scores, clusters) == pytest.approx(0.1666667, abs=1e-7)
    assert clustered_se(scores, clusters, finite_cluster_correction=False) == pytest.approx(
        0.1178511, abs=1e-7
    )
    assert clt_se(scores) == pytest.approx(0.2236068, abs=1e-7)


def test_clustered_se_with_singleton_clusters_is_close_to_clt() -> None:
    rng = np.random.default_rng(1)
    s = rng.normal(size=500)
    ratio = clustered_se(s, np.arange(500)) / clt_se(s)
    assert ratio == pytest.approx(1.0, abs=1e-9)


def test_clustered_se_needs_two_clusters() -> None:
    with pytest.raises(ValueError, match="2 clusters"):
        clustered_se([1, 0, 1], [5, 5, 5])


def test_humaneval_worked_numbers() -> None:
    assert clt_se(np.r_[np.ones(82), np.zeros(82)]) == pytest.approx(np.sqrt(0.25 / 164), rel=0.01)
    assert required_n(0.5, 0.05) == 785
    for sigma, points in [(0.3, 6.6), (0.4, 8.8), (0.5, 10.9)]:
        assert 100 * minimum_detectable_difference(sigma, 164) == pytest.approx(points, abs=0.05)


def test_power_round_trip() -> None:
    n = required_n(0.4, 0.03, alpha=0.01, power=0.9)
    assert minimum_detectable_difference(0.4, n, alpha=0.01, power=0.9) <= 0.03
    assert minimum_detectable_difference(0.4, n - 1, alpha=0.01, power=0.9) > 0.03


@pytest.mark.parametrize("seed", range(5))
def test_adjustments_equal_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.r_[rng.uniform(size=12) ** 3, 0.05, 0.05, 1.0]
    assert holm(p) == pytest.approx(multipletests(p, method="holm")[1], abs=1e-12)
    assert benjamini_hochberg(p) == pytest.approx(multipletests(p, method="fdr_bh")[1], abs=1e-12)


def test_adjustments_reject_bad_p_values() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm([0.2, 1.5])
