"""Always-valid sequential inference: the normal-mixture mSPRT (evaluation-reference.md §3.3).

GrowthBook's sequential test (Waudby-Smith et al., arXiv:2103.06476v7, eqs. 9, 155, 161), which equals
the mSPRT of Johari et al. ("Always Valid Inference", 2022) with mixing scale tau = rho * sigma. The CI
and p-value stay valid however often the data are looked at, so an experiment can be analysed daily.

With ``n = n_A + n_B`` and ``s^2 = SE^2 n``:

- ``rho = sqrt((-2 ln alpha + ln(-2 ln alpha + 1)) / N*)``, N* the total sample size at which a
  decision is expected (default 5000);
- half-width ``s sqrt(2 (n rho^2 + 1) / (n^2 rho^2) ln(sqrt(n rho^2 + 1) / alpha))``;
- ``E = exp(rho^2 z^2 n / (2 (n rho^2 + 1))) / sqrt(n rho^2 + 1)`` with ``z = (estimate - null)/SE``
  rescaled to ``st^2 = (estimate - null)^2 n / s^2``; ``p = min(1, 1/E)``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from assay.stats.effects import Effect, Interval

DEFAULT_N_STAR = 5000


def mixture_rho(alpha: float, n_star: float) -> float:
    """Mixture parameter rho tuned so the CI is tightest near total sample size ``n_star``."""
    if not 0 < alpha < 1 or n_star <= 0:
        raise ValueError(f"need 0 < alpha < 1 and n_star > 0, got alpha={alpha}, n_star={n_star}")
    two_log = -2 * math.log(alpha)
    return math.sqrt((two_log + math.log(two_log + 1)) / n_star)


def msprt_half_width(
    se: ArrayLike, n: ArrayLike, *, alpha: float = 0.05, n_star: float = DEFAULT_N_STAR
) -> np.ndarray:
    """Always-valid CI half-width (eq. 9); works elementwise on arrays of looks."""
    rho = mixture_rho(alpha, n_star)
    se, n = np.asarray(se, dtype=float), np.asarray(n, dtype=float)
    nr = n * rho**2 + 1
    return se * np.sqrt(n) * np.sqrt(2 * nr / (n**2 * rho**2) * np.log(np.sqrt(nr) / alpha))


def msprt_p_value(
    estimate: ArrayLike,
    se: ArrayLike,
    n: ArrayLike,
    *,
    alpha: float = 0.05,
    n_star: float = DEFAULT_N_STAR,
    null: float = 0.0,
) -> np.ndarray:
    """Always-valid p-value ``min(1, 1/E)`` (eq. 155); works elementwise on arrays of looks."""
    rho = mixture_rho(alpha, n_star)
    est, se, n = (np.asarray(x, dtype=float) for x in (estimate, se, n))
    nr = n * rho**2 + 1
    z2 = ((est - null) / se) ** 2
    log_e = rho**2 * z2 * n / (2 * nr) - 0.5 * np.log(nr)
    return np.exp(-np.maximum(log_e, 0.0))


def sequential_interval(
    estimate: float,
    se: float,
    n: int,
    *,
    alpha: float = 0.05,
    n_star: float = DEFAULT_N_STAR,
    null: float = 0.0,
) -> Interval:
    """Always-valid two-sided CI and p-value for an estimate with standard error ``se`` at total n."""
    if se <= 0 or n < 1:
        raise ValueError(f"need se > 0 and n >= 1, got se={se}, n={n}")
    half = float(msprt_half_width(se, n, alpha=alpha, n_star=n_star))
    p = float(msprt_p_value(estimate, se, n, alpha=alpha, n_star=n_star, null=null))
    return Interval(
        estimate=estimate, ci=(estimate - half, estimate + half), p_value=p, se=se, method="msprt"
    )


def sequential(
    effect: Effect, *, alpha: float = 0.05, n_star: float = DEFAULT_N_STAR, null: float = 0.0
) -> Interval:
    """``sequential_interval`` for an ``Effect`` with n = n_A + n_B."""
    return sequential_interval(effect.estimate, effect.se, effect.n, alpha=alpha, n_star=n_star, null=null)
