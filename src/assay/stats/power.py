"""Power analysis for paired comparisons (evaluation-reference.md §3.1, Miller 2024).

With paired differences of standard deviation ``sigma_d`` over ``n`` problems, a two-sided test at
level ``alpha`` detects a true mean difference ``delta`` with probability ``power`` when
``n = ((z_{1-alpha/2} + z_{power}) * sigma_d / delta)^2``. The normal approximation ignores the
t-correction, which matters only for very small n.

``paired_power`` is what reports use. It guards the formula where it would claim too much:

- the tests ``assay compare`` runs (McNemar's exact test, the sign-flip permutation test) cannot return a
  two-sided p below ``2 * 0.5**n`` on n problems (all n pairs discordant in one direction), nor below
  ``2 / (R + 1)`` with R Monte Carlo permutations; when that floor exceeds alpha no difference is
  detectable, whatever its size, and the MDD is None with that reason;
- paired differences that do not vary (sd 0) would give an MDD of 0: for 0/1 outcomes the worst-case
  variance is used instead (each arm at p = 0.5, arms uncorrelated: Var(d) = 0.25 + 0.25), for other
  scores the MDD is None because their spread is unknown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm

WORST_CASE_BINARY_VAR_D = 0.5


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


def smallest_two_sided_p(n: int, *, n_permutations: int | None = None) -> float:
    """Smallest two-sided p-value an exact sign test on ``n`` pairs can return: ``min(1, 2 * 0.5**n)``
    (McNemar's exact test with every pair discordant in one direction, or the exact sign-flip test), and
    at least ``2 / (n_permutations + 1)`` for a Monte Carlo sign-flip test."""
    if n < 1:
        raise ValueError(f"need n >= 1, got n={n}")
    floor = min(1.0, 2.0 * 0.5**n)
    return max(floor, 2.0 / (n_permutations + 1)) if n_permutations else floor


def fewest_pairs_for(alpha: float) -> int:
    """Fewest pairs at which an exact two-sided sign test can reach ``p <= alpha`` (6 at alpha 0.05)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    n = 1
    while smallest_two_sided_p(n) > alpha:
        n += 1
    return n


@dataclass(frozen=True)
class PowerAnalysis:
    """Minimum detectable difference ``mdd`` at ``n`` problems (None: no difference is detectable, or none
    can be stated), problems ``n_needed`` for the caller's ``delta`` (None: not asked, or not sizable),
    the ``sigma_d`` used (None when none), whether it is the worst-case binary value, and ``note``: one
    clause saying what the MDD is or why there is none."""

    n: int
    mdd: float | None
    n_needed: int | None
    sigma_d: float | None
    worst_case_variance: bool
    note: str


def paired_power(
    sigma_d: float,
    n: int,
    *,
    binary: bool,
    alpha: float = 0.05,
    power: float = 0.8,
    delta: float | None = None,
    n_permutations: int | None = None,
) -> PowerAnalysis:
    """Power analysis of a paired comparison on ``n`` problems whose differences have sd ``sigma_d``.

    ``binary``: outcomes are 0/1 (tested with McNemar's exact test); otherwise the sign-flip test with
    ``n_permutations`` Monte Carlo resamples (None: exact). ``n_needed`` (only when ``delta`` is given)
    is never below the fewest pairs at which the exact test can reach alpha. See the module docstring
    for the guards.
    """
    _z_sum(alpha, power)
    permutations = None if binary else n_permutations
    worst_case = sigma_d == 0 and binary
    sigma = math.sqrt(WORST_CASE_BINARY_VAR_D) if worst_case else (sigma_d or None)
    n_needed = None
    if delta and sigma is not None and (not permutations or 2 / (permutations + 1) <= alpha):
        n_needed = max(required_n(sigma, delta, alpha=alpha, power=power), fewest_pairs_for(alpha))
    p_floor = smallest_two_sided_p(n, n_permutations=permutations)
    if p_floor > alpha:
        if binary:
            why = f"even with all {n} pairs discordant one way, McNemar's exact test gives two-sided p ="
        elif p_floor > smallest_two_sided_p(n):
            why = f"with {permutations} random sign patterns, the sign-flip test gives two-sided p ≥"
        else:
            why = f"even with all {n} differences one way, the sign-flip test gives two-sided p ="
        note = f"no difference is detectable at n = {n}: {why} {p_floor:.3g} > alpha {alpha:g}"
        return PowerAnalysis(n, None, n_needed, sigma, worst_case, note)
    if sigma is None:
        note = (
            f"no minimum detectable difference can be stated at n = {n}: the paired differences do not "
            "vary, so their spread is unknown"
        )
        return PowerAnalysis(n, None, n_needed, None, False, note)
    mdd = minimum_detectable_difference(sigma, n, alpha=alpha, power=power)
    note = f"at n = {n} the smallest difference detected with power {power:g} is {mdd:.3g}"
    if worst_case:
        note += (
            " (the paired differences do not vary, so the worst-case 0/1 variance was assumed: "
            "both arms at p = 0.5, uncorrelated)"
        )
    return PowerAnalysis(n, mdd, n_needed, sigma, worst_case, note)
