"""Seeded simulations (issue 5, item 5): the always-valid test survives daily peeking and the
fixed-horizon CI has its nominal coverage. Each runs on sufficient statistics in about a second."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from assay.stats.effects import fixed_horizon, mean_effect
from assay.stats.moments import sample_mean
from assay.stats.sequential import msprt_p_value, sequential

N_EXPERIMENTS = 2000
DAYS = 14
USERS_PER_DAY = 100
ALPHA = 0.05


def _daily_sums(rng: np.random.Generator, mean: float, sd: float) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative (sum, sum of squares) per experiment and day for one arm of normal per-user outcomes."""
    x = rng.normal(mean, sd, size=(N_EXPERIMENTS, DAYS, USERS_PER_DAY))
    return np.cumsum(x.sum(axis=2), axis=1), np.cumsum((x**2).sum(axis=2), axis=1)


def test_sequential_false_positive_rate_with_daily_peeking() -> None:
    """A/A experiments looked at every day: the mSPRT p-value (assay's code) crosses alpha on at most
    alpha of them, while a naive t-test at every look crosses far more often. Per-look estimates and
    standard errors of the mean difference are computed here in closed form, vectorized over looks."""
    rng = np.random.default_rng(20261127)
    sa, qa = _daily_sums(rng, 1.0, 1.0)
    sb, qb = _daily_sums(rng, 1.0, 1.0)
    n = USERS_PER_DAY * np.arange(1, DAYS + 1)
    var_a = (qa - sa**2 / n) / (n - 1)
    var_b = (qb - sb**2 / n) / (n - 1)
    estimate = sb / n - sa / n
    se = np.sqrt(var_a / n + var_b / n)
    p_seq = msprt_p_value(estimate, se, 2 * n, alpha=ALPHA, n_star=2 * USERS_PER_DAY * DAYS)
    p_naive = 2 * norm.sf(np.abs(estimate / se))
    fpr_seq = np.mean((p_seq < ALPHA).any(axis=1))
    fpr_naive = np.mean((p_naive < ALPHA).any(axis=1))
    binomial_slack = 2.5 * np.sqrt(ALPHA * (1 - ALPHA) / N_EXPERIMENTS)
    assert fpr_seq <= ALPHA + binomial_slack
    assert fpr_naive > 2 * ALPHA
    look = sequential(
        mean_effect(
            sample_mean(sa[0, -1], qa[0, -1], n[-1]), sample_mean(sb[0, -1], qb[0, -1], n[-1]), relative=False
        ),
        n_star=2 * USERS_PER_DAY * DAYS,
    )
    assert look.p_value == pytest.approx(p_seq[0, -1], rel=1e-9)


def test_fixed_horizon_ci_covers_the_true_difference() -> None:
    rng = np.random.default_rng(7)
    n = 400
    a = rng.exponential(1.0, size=(N_EXPERIMENTS, n))
    b = rng.exponential(1.2, size=(N_EXPERIMENTS, n))
    covered = 0
    for e in range(N_EXPERIMENTS):
        effect = mean_effect(
            sample_mean(a[e].sum(), (a[e] ** 2).sum(), n),
            sample_mean(b[e].sum(), (b[e] ** 2).sum(), n),
            relative=False,
        )
        lo, hi = fixed_horizon(effect).ci
        covered += lo <= 0.2 <= hi
    assert abs(covered / N_EXPERIMENTS - 0.95) <= 0.015


def test_cuped_ratio_lift_is_unbiased_and_tighter() -> None:
    """Acceptance lift on simulated users whose pre-period acceptance predicts the experiment period:
    CUPED keeps the estimate centred on the true +15% lift, shrinks its spread, and its CI covers."""
    from assay.stats.effects import ratio_effect
    from assay.stats.moments import JointMoments

    rng = np.random.default_rng(5)
    plain, cuped, covered = [], [], 0
    sims = 300
    for _ in range(sims):
        n = 800
        treated = rng.uniform(size=n) < 0.5
        rate = rng.beta(3, 7, size=n)
        pre_shown = rng.integers(5, 30, size=n)
        pre_accepted = rng.binomial(pre_shown, rate)
        shown = rng.integers(6, 36, size=n)
        accepted = rng.binomial(shown, np.minimum(1, rate * np.where(treated, 1.15, 1.0)))
        arms = [~treated, treated]
        e = ratio_effect(*(JointMoments.from_columns(accepted[m], shown[m]) for m in arms))
        c = ratio_effect(
            *(JointMoments.from_columns(accepted[m], shown[m], pre_accepted[m], pre_shown[m]) for m in arms),
            cuped=True,
        )
        plain.append(e.estimate)
        cuped.append(c.estimate)
        covered += abs(c.estimate - 0.15) <= 1.959963984540054 * c.se
    assert abs(np.mean(cuped) - 0.15) < 0.01
    assert abs(np.mean(plain) - 0.15) < 0.01
    assert np.std(cuped) < 0.9 * np.std(plain)
    assert 0.92 <= covered / sims <= 0.98
