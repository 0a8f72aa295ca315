"""GrowthBook golden vectors (evaluation-reference.md §4; growthbook/growthbook
``packages/stats/tests/frequentist/test_tests.py``, MIT) reproduced to the printed decimals."""

from __future__ import annotations

import numpy as np
import pytest

from assay.stats.effects import cuped_mean_effect, fixed_horizon, mean_effect, ratio_effect, ratio_mean_se
from assay.stats.moments import JointMoments, proportion, sample_mean
from assay.stats.sequential import sequential

A = sample_mean(1396.87, 52377.9767, 3407)
B = sample_mean(2422.7, 134698.29, 3461)
A3000 = sample_mean(1396.87, 52377.9767, 3000)


def _close(actual: float, expected: float, decimals: int = 5) -> None:
    assert round(actual, decimals) == pytest.approx(expected, abs=1e-12), (actual, expected)


def test_two_sided_relative() -> None:
    effect = mean_effect(A, B)
    result = fixed_horizon(effect)
    _close(result.estimate, 0.70732)
    _close(result.ci[0], -0.03526)
    _close(result.ci[1], 1.44989)
    _close(result.se, 0.37879)
    _close(result.p_value, 0.06191)


def test_two_sided_absolute() -> None:
    result = fixed_horizon(mean_effect(A, B, relative=False))
    _close(result.estimate, 0.29)
    _close(result.ci[0], 0.04538)
    _close(result.ci[1], 0.53462)
    _close(result.se, 0.12478)
    _close(result.p_value, 0.02016)


def test_proportions_relative() -> None:
    result = fixed_horizon(mean_effect(proportion(14, 28), proportion(16, 30)))
    _close(result.estimate, 0.06667)
    _close(result.ci[0], -0.47767)
    _close(result.ci[1], 0.61101)
    _close(result.se, 0.2717, 4)
    _close(result.p_value, 0.80707)


def test_sequential_n_star_1000() -> None:
    result = sequential(mean_effect(A3000, B), n_star=1000)
    _close(result.estimate, 0.50336)
    _close(result.ci[0], -0.55844)
    _close(result.ci[1], 1.56516)
    assert result.p_value == 1.0


def test_sequential_proportions_default_n_star() -> None:
    result = sequential(mean_effect(proportion(1396, 3000), proportion(2422, 3461)))
    _close(result.estimate, 0.50386)
    _close(result.ci[0], 0.40098)
    _close(result.ci[1], 0.60675)
    _close(result.se, 0.03386)
    _close(result.p_value, 0.0)


def test_sequential_cuped_default_n_star() -> None:
    """GrowthBook's ``test_sequential_test_runs_ra`` runs with the default config (N* = 5000)."""
    a = JointMoments.from_sums(3000, [1396.87, 16.87], [[52377.9767, 1], [1, 527.9767]])
    b = JointMoments.from_sums(3461, [2422.7, 22.7], [[134698.29, 1], [1, 1348.29]])
    effect = cuped_mean_effect(a, b)
    result = sequential(effect)
    _close(result.estimate, 0.50338)
    _close(result.ci[0], -0.50969)
    _close(result.ci[1], 1.51646)
    _close(result.se, 0.33341)
    assert result.p_value == 1.0
    assert effect.theta != 0


def _ratio_arm(
    n: int, sums: list[float], squares: list[float], products: dict[tuple[int, int], float]
) -> JointMoments:
    sp = np.diag(squares).astype(float)
    for (i, j), v in products.items():
        sp[i, j] = sp[j, i] = v
    return JointMoments.from_sums(n, sums, sp)


def test_sequential_ratio_cuped() -> None:
    """GrowthBook ``test_sequential_test_runs_ratio_ra``: columns (M, D, M_pre, D_pre)."""
    a = _ratio_arm(
        100,
        [485.112236689623, 679.9093275844917, 192.59138069991536, 290.1398399750233],
        [2715.484666118136, 4939.424001640236, 460.076026390857, 920.9461385038898],
        {
            (0, 2): 1113.6215759318352,
            (1, 3): 2130.9404074446747,
            (2, 3): 634.239482353647,
            (0, 1): 3602.146836776702,
            (0, 3): 1559.2878434944676,
            (1, 2): 1460.3181079276983,
        },
    )
    b = _ratio_arm(
        100,
        [514.7757826608777, 705.4090874383759, 206.94157227402536, 302.54389139107326],
        [2994.897482705013, 5291.36604146392, 514.2903702246757, 994.4506208125663],
        {
            (0, 2): 1237.0953021125997,
            (1, 3): 2292.081739775257,
            (2, 3): 698.4173425817908,
            (0, 1): 3918.1561431600717,
            (0, 3): 1701.0287270040265,
            (1, 2): 1604.0759503266522,
        },
    )
    result = sequential(ratio_effect(a, b, cuped=True))
    _close(result.estimate, -0.0007)
    _close(result.ci[0], -0.02063)
    _close(result.ci[1], 0.01923)
    _close(result.se, 0.00391)
    assert result.p_value == 1.0


def test_ratio_without_cuped_is_the_delta_method() -> None:
    """Per-user ratio sum(M)/sum(D): the delta-method variance equals a direct computation."""
    rng = np.random.default_rng(7)
    shown = rng.integers(1, 30, size=400).astype(float)
    accepted = rng.binomial(shown.astype(int), 0.3).astype(float)
    arm = JointMoments.from_columns(accepted, shown)
    effect = ratio_effect(arm, arm, relative=False)
    mu_m, mu_d = accepted.mean(), shown.mean()
    cov = np.cov(accepted, shown, ddof=1)
    var = cov[0, 0] / mu_d**2 + cov[1, 1] * mu_m**2 / mu_d**4 - 2 * cov[0, 1] * mu_m / mu_d**3
    assert effect.mean_a == pytest.approx(accepted.sum() / shown.sum())
    assert effect.se == pytest.approx(np.sqrt(2 * var / 400))
    assert ratio_mean_se(arm) == pytest.approx((accepted.sum() / shown.sum(), np.sqrt(var / 400)))
