"""Power analysis for paired comparisons (evaluation-reference.md §3.1, Miller 2024).

With paired differences of standard deviation ``sigma_d`` over ``n`` problems, a two-sided test at
level ``alpha`` detects a true mean difference ``delta`` with probability ``power`` when
``n = ((z_{1-alpha/2} + z_{power}) * sigma_d / delta)^2``. The normal approximation ignores the
t-correction, which matters only for very small n.
"""

from __future__ import annotations

import math

from scipy.stats import norm


def _z_sum(alpha: float, power: float) -> float:
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError(f"alpha and power must lie in (0, 1), got alpha={alpha}, power={power}")
    return float(norm.ppf(1 - alpha / 2) + norm.ppf(power))


def minimum_detectable_difference(
    sigma_d: float, n: int, *, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Smallest true paired mean difference detected with probability ``power`` at ``n`` problems."""
    if n < 1 or sigma_d < 0:
        raise ValueError(f"need n >= 1 and sigma_d >= 0, got n={n}, sigma_d={sigma_d}")
    return _z_sum(alpha, power) * sigma_d / math.sqrt(n)


def required_n(sigma_d: float, delta: float, *, alpha: float = 0.05, power: float = 0.8) -> int:
    """Problems needed to detect a paired mean difference ``delta`` (rounded up)."""
    if delta == 0 or sigma_d < 0:
        raise ValueError(f"need delta != 0 and sigma_d >= 0, got delta={delta}, sigma_d={sigma_d}")
    return max(1, math.ceil((_z_sum(alpha, power) * sigma_d / abs(delta)) ** 2 - 1e-9))
