"""Guardrail metrics with non-inferiority margins: latency p95, error rate, cost.

For every guardrail "higher is worse". A guardrail passes when the data show the treatment is not worse
than control by ``margin`` or more: the one-sided test of H0 ``effect >= margin`` rejects at level
alpha after Holm's adjustment across the guardrails. It fails when the whole two-sided CI lies above the
margin, and is inconclusive otherwise.

- ``latency_p95``: relative change of the event-level 95th percentile of latency
  (``p95_B / p95_A - 1``). Latencies of one user are correlated, so the CI and p-value come from a
  bootstrap over users (whole users are resampled with their latencies), with an explicit ``rng``.
  The quantile is the inverted-CDF one (``np.quantile(..., method='inverted_cdf')``).
- ``error_rate``: absolute difference of errors / requests, a per-user ratio metric (delta method).
- ``cost``: relative difference of mean cost per user (Welch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import t as student_t

from assay.stats.effects import Effect, mean_effect, non_inferiority_p, ratio_effect
from assay.stats.moments import JointMoments
from assay.stats.multiple import holm


@dataclass(frozen=True)
class GuardrailMargins:
    """Largest tolerated worsening: relative for latency p95 and cost, absolute for error rate."""

    latency_p95: float = 0.10
    error_rate: float = 0.005
    cost: float = 0.10


@dataclass(frozen=True)
class GuardrailEstimate:
    """A guardrail's estimate, CI and one-sided non-inferiority p-value, before Holm and its status."""

    name: str
    control: float
    treatment: float
    estimate: float
    ci: tuple[float, float]
    margin: float
    relative: bool
    p_value: float
    method: str


@dataclass(frozen=True)
class Guardrail(GuardrailEstimate):
    """One guardrail's result: its estimate, the Holm-adjusted p-value and ``status`` ("pass", "fail",
    "inconclusive" or "no data")."""

    p_adjusted: float
    status: str


def _weighted_quantile(sorted_values: np.ndarray, weights: np.ndarray, q: float) -> float:
    cum = np.cumsum(weights)
    return float(sorted_values[np.searchsorted(cum, q * cum[-1] - 1e-9 * cum[-1], side="left")])


def quantile_bootstrap(
    latencies: tuple[np.ndarray, ...], *, rng: np.random.Generator, q: float = 0.95, n_resamples: int = 1000
) -> tuple[float, np.ndarray]:
    """Event-level quantile of all users' latencies and its bootstrap distribution over users.

    Each resample draws users with replacement (multinomial counts) and weights every latency by its
    user's count. Returns ``(quantile, resampled quantiles)``; users without latencies carry no weight.
    """
    lengths = np.array([lat.size for lat in latencies])
    if lengths.sum() == 0:
        raise ValueError("no latency samples")
    values = np.concatenate(latencies)
    owner = np.repeat(np.arange(len(latencies)), lengths)
    order = np.argsort(values, kind="stable")
    values, owner = values[order], owner[order]
    point = float(np.quantile(values, q, method="inverted_cdf"))
    n_users = len(latencies)
    uniform = np.full(n_users, 1.0 / n_users)
    out = np.empty(n_resamples)
    for i in range(n_resamples):
        w = rng.multinomial(n_users, uniform)[owner]
        out[i] = _weighted_quantile(values, w, q) if w.sum() else point
    return point, out


def latency_guardrail(
    control: tuple[np.ndarray, ...],
    treatment: tuple[np.ndarray, ...],
    *,
    margin: float,
    rng: np.random.Generator,
    q: float = 0.95,
    n_resamples: int = 1000,
    alpha: float = 0.05,
) -> GuardrailEstimate:
    """Relative change of the latency quantile, bootstrap percentile CI, bootstrap p for non-inferiority."""
    p_a, boot_a = quantile_bootstrap(control, rng=rng, q=q, n_resamples=n_resamples)
    p_b, boot_b = quantile_bootstrap(treatment, rng=rng, q=q, n_resamples=n_resamples)
    if p_a <= 0:
        raise ValueError("control latency quantile is 0; a relative change is undefined")
    rel = boot_b / np.where(boot_a > 0, boot_a, np.nan) - 1
    rel = rel[np.isfinite(rel)]
    lo, hi = np.quantile(rel, [alpha / 2, 1 - alpha / 2])
    p = (1 + np.sum(rel >= margin)) / (rel.size + 1)
    return GuardrailEstimate(
        name=f"latency_p{round(q * 100)}",
        control=p_a,
        treatment=p_b,
        estimate=p_b / p_a - 1,
        ci=(float(lo), float(hi)),
        margin=margin,
        relative=True,
        p_value=float(p),
        method="bootstrap over users",
    )


def _from_effect(name: str, effect: Effect, margin: float, alpha: float, method: str) -> GuardrailEstimate:
    width = float(student_t.ppf(1 - alpha / 2, effect.dof)) * effect.se
    return GuardrailEstimate(
        name=name,
        control=effect.mean_a,
        treatment=effect.mean_b,
        estimate=effect.estimate,
        ci=(effect.estimate - width, effect.estimate + width),
        margin=margin,
        relative=effect.relative,
        p_value=non_inferiority_p(effect, margin),
        method=method,
    )


def error_rate_guardrail(
    errors_a: np.ndarray,
    requests_a: np.ndarray,
    errors_b: np.ndarray,
    requests_b: np.ndarray,
    *,
    margin: float,
    alpha: float = 0.05,
) -> GuardrailEstimate:
    """Absolute change of errors / requests (ratio metric per user, delta method, Welch t)."""
    effect = ratio_effect(
        JointMoments.from_columns(errors_a, requests_a),
        JointMoments.from_columns(errors_b, requests_b),
        relative=False,
    )
    return _from_effect("error_rate", effect, margin, alpha, "delta method, Welch t")


def cost_guardrail(
    cost_a: np.ndarray, cost_b: np.ndarray, *, margin: float, alpha: float = 0.05
) -> GuardrailEstimate:
    """Relative change of mean cost per user (Welch t)."""
    effect = mean_effect(JointMoments.from_columns(cost_a), JointMoments.from_columns(cost_b), relative=True)
    return _from_effect("cost", effect, margin, alpha, "Welch t on cost per user")


def decide_guardrails(raw: list[GuardrailEstimate], *, alpha: float = 0.05) -> list[Guardrail]:
    """Holm-adjust the non-inferiority p-values and give each guardrail its status."""
    adjusted = holm([r.p_value for r in raw]) if raw else np.empty(0)
    out = []
    for r, p_adj in zip(raw, adjusted, strict=True):
        if p_adj <= alpha:
            status = "pass"
        elif r.ci[0] > r.margin:
            status = "fail"
        else:
            status = "inconclusive"
        out.append(Guardrail(**r.__dict__, p_adjusted=float(p_adj), status=status))
    return out


def no_data(name: str, margin: float, relative: bool) -> Guardrail:
    """A guardrail that could not be computed: it never blocks a verdict on its own, and says so."""
    nan = float("nan")
    return Guardrail(name, nan, nan, nan, (nan, nan), margin, relative, p_value=nan, method="none",
                     p_adjusted=nan, status="no data")


def unbounded_increase(name: str, control: float, treatment: float, margin: float) -> Guardrail:
    """A relative guardrail whose control value is 0 while the treatment's is not: it fails outright."""
    inf = float("inf")
    return Guardrail(name, control, treatment, inf, (inf, inf), margin, True, p_value=1.0, method="control is 0",
                     p_adjusted=1.0, status="fail")
