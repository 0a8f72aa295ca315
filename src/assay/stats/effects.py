"""Treatment-versus-control effects with delta-method standard errors (evaluation-reference.md §3.3).

Each estimator returns an ``Effect``: the point estimate (absolute ``B - A`` or relative
``(B - A) / A``), its standard error and Welch–Satterthwaite degrees of freedom. ``fixed_horizon``
turns an effect into a t-based CI and p-value; ``assay.stats.sequential`` gives always-valid ones.

Estimators, all GrowthBook-compatible (``gbstats``, MIT) and reproducing its golden vectors:

- ``mean_effect``: a per-unit mean (or proportion) per arm.
- ``ratio_effect``: a ratio of per-unit sums, e.g. acceptance = accepted / shown per user, optionally
  CUPED-adjusted on the same ratio in the pre-period (delta method over four per-user quantities).
- ``cuped_mean_effect``: a per-unit mean adjusted on a pre-period covariate, theta pooled over arms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import t as student_t

from assay.stats.moments import JointMoments


@dataclass(frozen=True)
class Effect:
    """An effect estimate. ``baseline`` is the control's unadjusted mean; means are adjusted when CUPED ran."""

    estimate: float
    se: float
    dof: float
    relative: bool
    mean_a: float
    mean_b: float
    baseline: float
    n_a: int
    n_b: int
    theta: float = 0.0

    @property
    def n(self) -> int:
        return self.n_a + self.n_b


@dataclass(frozen=True)
class Interval:
    """A CI and p-value for an effect; ``method`` names how they were computed."""

    estimate: float
    ci: tuple[float, float]
    p_value: float
    se: float
    method: str


def welch_dof(var_a: float, n_a: int, var_b: float, n_b: int) -> float:
    """Welch–Satterthwaite degrees of freedom from per-unit variances."""
    a, b = var_a / n_a, var_b / n_b
    den = a**2 / (n_a - 1) + b**2 / (n_b - 1)
    return float((a + b) ** 2 / den) if den > 0 else float(n_a + n_b - 2)


def _check_baseline(value: float) -> None:
    if value == 0:
        raise ValueError("the control mean is 0, so a relative effect is undefined")


def _effect(a: JointMoments, b: JointMoments, *, relative: bool, estimate: float, variance: float,
            means: tuple[float, float], variances: tuple[float, float], baseline: float,
            theta: float = 0.0) -> Effect:
    """An ``Effect`` from an estimate, its variance and the arms' (adjusted) means and per-unit variances."""
    return Effect(
        estimate=float(estimate),
        se=float(np.sqrt(max(variance, 0.0))),
        dof=welch_dof(variances[0], a.n, variances[1], b.n),
        relative=relative,
        mean_a=means[0],
        mean_b=means[1],
        baseline=baseline,
        n_a=a.n,
        n_b=b.n,
        theta=theta,
    )


def mean_effect(a: JointMoments, b: JointMoments, *, relative: bool = True) -> Effect:
    """Difference of per-unit means, column 0 of each arm.

    Relative: ``(mu_B - mu_A) / mu_A`` with
    ``Var = var_B / (mu_A^2 n_B) + var_A mu_B^2 / (mu_A^4 n_A)``; absolute: ``var_A/n_A + var_B/n_B``.
    """
    mu_a, mu_b = float(a.mean[0]), float(b.mean[0])
    var_a, var_b = float(a.cov[0, 0]), float(b.cov[0, 0])
    if relative:
        _check_baseline(mu_a)
        estimate = (mu_b - mu_a) / mu_a
        variance = var_b / (mu_a**2 * b.n) + var_a * mu_b**2 / (mu_a**4 * a.n)
    else:
        estimate = mu_b - mu_a
        variance = var_a / a.n + var_b / b.n
    return _effect(a, b, relative=relative, estimate=estimate, variance=variance,
                   means=(mu_a, mu_b), variances=(var_a, var_b), baseline=mu_a)


def cuped_mean_effect(a: JointMoments, b: JointMoments, *, relative: bool = True) -> Effect:
    """CUPED on a per-unit mean: columns are (post Y, pre X).

    ``theta = cov(Y, X) / var(X)`` on both arms pooled (GrowthBook ``compute_theta``); adjusted mean
    ``mean(Y) - theta mean(X)`` with per-unit variance ``var_Y + theta^2 var_X - 2 theta cov``. The
    relative effect divides by the control's unadjusted mean. Theta is 0 (no adjustment) when either
    pooled variance is 0.
    """
    joint = a.pooled(b)
    theta = 0.0 if joint.cov[1, 1] == 0 or joint.cov[0, 0] == 0 else float(joint.cov[0, 1] / joint.cov[1, 1])

    def adjusted(m: JointMoments) -> tuple[float, float]:
        mean = float(m.mean[0] - theta * m.mean[1])
        var = float(m.cov[0, 0] + theta**2 * m.cov[1, 1] - 2 * theta * m.cov[0, 1])
        return mean, var

    (adj_a, var_a), (adj_b, var_b) = adjusted(a), adjusted(b)
    post_a, post_b = float(a.mean[0]), float(b.mean[0])
    if relative:
        _check_baseline(post_a)
        estimate = (adj_b - adj_a) / post_a
        v_b = var_b / (b.n * post_a**2)
        c = -post_b
        num_a = a.cov[0, 0] * c**2 / post_a**2 + 2 * theta * a.cov[0, 1] * c / post_a + theta**2 * a.cov[1, 1]
        variance = v_b + num_a / (a.n * post_a**2)
    else:
        estimate = adj_b - adj_a
        variance = var_a / a.n + var_b / b.n
    return _effect(a, b, relative=relative, estimate=estimate, variance=variance,
                   means=(adj_a, adj_b), variances=(var_a, var_b), baseline=post_a, theta=theta)


def _ratio_gradient(beta: np.ndarray, theta: float) -> np.ndarray:
    grad = np.zeros(beta.size)
    grad[0], grad[1] = 1 / beta[1], -beta[0] / beta[1] ** 2
    if beta.size == 4 and theta:
        grad[2], grad[3] = -theta / beta[3], theta * beta[2] / beta[3] ** 2
    return grad


def ratio_mean_se(m: JointMoments) -> tuple[float, float]:
    """``sum M / sum D`` of one arm (columns M, D) and its delta-method standard error."""
    if m.mean[1] == 0:
        raise ValueError("a ratio metric needs a non-zero mean denominator")
    grad = _ratio_gradient(m.mean[:2], 0.0)
    return float(m.mean[0] / m.mean[1]), float(np.sqrt(max(grad @ m.cov[:2, :2] @ grad, 0.0) / m.n))


def _ratio_theta(a: JointMoments, b: JointMoments) -> float:
    cov_sum = var_sum = 0.0
    for m in (a, b):
        g_post = _ratio_gradient(m.mean[:2], 0.0)
        g_pre = -_ratio_gradient(m.mean[2:4], 0.0)
        cov_sum += float(g_pre @ m.cov[2:4, 0:2] @ g_post)
        var_sum += float(g_pre @ m.cov[2:4, 2:4] @ g_pre)
    theta = -cov_sum / var_sum if var_sum else 0.0
    return 0.0 if abs(theta) < 1e-8 else theta


def ratio_effect(a: JointMoments, b: JointMoments, *, relative: bool = True, cuped: bool = False) -> Effect:
    """A ratio metric ``sum M / sum D`` per arm, e.g. accepted / shown summed over users.

    Columns are (M, D) or, for CUPED, (M, D, M_pre, D_pre). The per-unit variance is the delta method
    ``grad^T Cov grad`` with ``grad = (1/mu_D, -mu_M/mu_D^2, -theta/mu_Dpre, theta mu_Mpre/mu_Dpre^2)``
    (GrowthBook ``RegressionAdjustedRatioStatistic``; Deng et al. 2018). With ``cuped=False`` theta is 0
    and this is ``variance_of_ratios``. Needs a non-zero mean denominator (pre-period too for CUPED).
    """
    if cuped and (a.mean.size != 4 or b.mean.size != 4):
        raise ValueError("CUPED on a ratio needs columns (M, D, M_pre, D_pre)")
    for m in (a, b):
        if m.mean[1] == 0 or (cuped and m.mean[3] == 0):
            raise ValueError("a ratio metric needs a non-zero mean denominator in every arm")
    theta = _ratio_theta(a, b) if cuped else 0.0
    k = 4 if theta else 2

    def adjusted(m: JointMoments) -> tuple[float, float, np.ndarray]:
        beta = m.mean[:k]
        grad = _ratio_gradient(beta, theta)
        mean = beta[0] / beta[1] - (theta * beta[2] / beta[3] if theta else 0.0)
        return float(mean), float(grad @ m.cov[:k, :k] @ grad), grad

    (adj_a, var_a, grad_a), (adj_b, var_b, grad_b) = adjusted(a), adjusted(b)
    unadj_a = float(a.mean[0] / a.mean[1])
    if relative:
        _check_baseline(unadj_a)
        g_abs = adj_b - adj_a
        den = abs(unadj_a)
        m_a, d_a = a.mean[0], a.mean[1]
        grad_ctrl = np.zeros(k)
        grad_ctrl[0] = -(den + g_abs) / d_a / den**2
        grad_ctrl[1] = (m_a * den / d_a**2 + m_a * g_abs / d_a**2) / den**2
        if k == 4:
            grad_ctrl[2:4] = -grad_a[2:4] / den
        grad_trt = grad_b / den
        variance = (grad_ctrl @ a.cov[:k, :k] @ grad_ctrl) / a.n + (grad_trt @ b.cov[:k, :k] @ grad_trt) / b.n
        estimate = g_abs / unadj_a
    else:
        estimate = adj_b - adj_a
        variance = var_a / a.n + var_b / b.n
    return _effect(a, b, relative=relative, estimate=estimate, variance=variance,
                   means=(adj_a, adj_b), variances=(var_a, var_b), baseline=unadj_a, theta=theta)


def fixed_horizon(effect: Effect, *, alpha: float = 0.05, null: float = 0.0) -> Interval:
    """Two-sided t interval ``estimate ± t_{1-alpha/2, dof} SE`` and p-value for ``effect = null``."""
    if effect.se == 0:
        raise ValueError("the effect has zero variance; the test is undefined")
    width = float(student_t.ppf(1 - alpha / 2, effect.dof)) * effect.se
    stat = (effect.estimate - null) / effect.se
    p = float(2 * student_t.sf(abs(stat), effect.dof))
    return Interval(
        estimate=effect.estimate,
        ci=(effect.estimate - width, effect.estimate + width),
        p_value=p,
        se=effect.se,
        method="welch_t",
    )


def non_inferiority_p(effect: Effect, margin: float) -> float:
    """One-sided p-value for H0: effect >= margin against H1: effect < margin (lower is better)."""
    if effect.se == 0:
        return 0.0 if effect.estimate < margin else 1.0
    return float(student_t.cdf((effect.estimate - margin) / effect.se, effect.dof))
