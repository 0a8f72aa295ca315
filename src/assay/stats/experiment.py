"""Online A/B analysis of live suggestions, ending in a ship / don't ship / keep running verdict.

Unit = user (evaluation-reference.md §3.3). For each treatment arm against the control:

- acceptance rate = sum(accepted) / sum(shown) per arm, a ratio metric with delta-method variance;
- relative lift with a Welch-t CI (fixed horizon) and, when every arm has pre-period data, CUPED on
  each user's pre-period acceptance (theta pooled across arms);
- an always-valid mSPRT CI and p-value on the (CUPED-adjusted when available) lift, safe to read daily;
- guardrails (latency p95, error rate, cost) with non-inferiority margins, Holm across guardrails;
- a sample-ratio-mismatch chi-square test of users per arm against the planned weights.

Decision rule, pre-registered through ``ExperimentSettings``:

- don't ship when the SRM test fails (p < ``srm_alpha``: the split is broken, no result is trusted),
  when the always-valid CI of the lift lies wholly below ``min_lift``, or when a guardrail fails;
- ship when the always-valid CI lies wholly above ``min_lift`` and every guardrail with data passes;
- keep running otherwise.
The sequential CI drives the verdict because the analysis is meant to be run again every day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from scipy.stats import chi2

from assay.stats.effects import Interval, fixed_horizon, ratio_effect, ratio_mean_se
from assay.stats.guardrails import (
    Guardrail,
    GuardrailMargins,
    cost_guardrail,
    decide_guardrails,
    error_rate_guardrail,
    latency_guardrail,
    no_data,
    unbounded_increase,
)
from assay.stats.moments import JointMoments
from assay.stats.sequential import DEFAULT_N_STAR, sequential
from assay.stats.table import UserTable

Z95 = 1.959963984540054


class Verdict(StrEnum):
    SHIP = "ship"
    DONT_SHIP = "don't ship"
    KEEP_RUNNING = "keep running"


@dataclass(frozen=True)
class ExperimentSettings:
    """Pre-registered analysis choices. ``weights`` maps arm to planned share (default: equal)."""

    control: str | None = None
    weights: dict[str, float] | None = None
    alpha: float = 0.05
    n_star: float = DEFAULT_N_STAR
    min_lift: float = 0.0
    margins: GuardrailMargins = field(default_factory=GuardrailMargins)
    srm_alpha: float = 0.001
    cuped: bool = True
    n_bootstrap: int = 1000


@dataclass(frozen=True)
class ArmSummary:
    """Per-arm totals; ``ci`` is the delta-method 95% normal CI of the acceptance rate."""

    arm: str
    users: int
    shown: float
    accepted: float
    acceptance_rate: float
    ci: tuple[float, float]
    latency_p95: float | None
    error_rate: float | None
    cost_per_user: float


@dataclass(frozen=True)
class SampleRatio:
    """Chi-square goodness of fit of users per arm against the planned weights."""

    observed: dict[str, int]
    expected: dict[str, float]
    statistic: float
    p_value: float
    mismatch: bool


@dataclass(frozen=True)
class ArmComparison:
    """One treatment arm against control: lifts, guardrails and its verdict with reasons."""

    arm: str
    control: str
    lift: Interval
    lift_cuped: Interval | None
    lift_sequential: Interval
    theta: float
    guardrails: list[Guardrail]
    verdict: Verdict
    reasons: list[str]


@dataclass(frozen=True)
class ExperimentAnalysis:
    """The whole analysis; ``verdict`` is the best arm's, or keep running / don't ship."""

    name: str
    control: str
    arms: list[ArmSummary]
    srm: SampleRatio
    comparisons: list[ArmComparison]
    verdict: Verdict
    reasons: list[str]
    settings: ExperimentSettings


def sample_ratio_mismatch(
    counts: dict[str, int], weights: dict[str, float] | None = None, *, alpha: float = 0.001
) -> SampleRatio:
    """``sum (O - N w)^2 / (N w)`` with arms - 1 degrees of freedom (GrowthBook ``check_srm``)."""
    arms = list(counts)
    w = np.array([1.0] * len(arms) if weights is None else [float(weights.get(a, 0.0)) for a in arms])
    if len(arms) < 2:
        raise ValueError("an SRM check needs at least 2 arms")
    unplanned = [a for a, x in zip(arms, w, strict=True) if x <= 0]
    if unplanned:
        raise ValueError(f"arm(s) {', '.join(unplanned)} have users but no positive planned weight")
    observed = np.array([counts[a] for a in arms], dtype=float)
    expected = observed.sum() * w / w.sum()
    stat = float(np.sum((observed - expected) ** 2 / expected))
    p = float(chi2.sf(stat, len(arms) - 1))
    return SampleRatio(
        observed={a: int(o) for a, o in zip(arms, observed, strict=True)},
        expected={a: float(e) for a, e in zip(arms, expected, strict=True)},
        statistic=stat,
        p_value=p,
        mismatch=p < alpha,
    )


def _arm_rows(users: UserTable, arm: str) -> UserTable:
    return users.take(users.arm == arm)


def _summary(rows: UserTable, arm: str) -> ArmSummary:
    shown, accepted = float(rows.shown.sum()), float(rows.accepted.sum())
    rate = accepted / shown if shown else float("nan")
    ci = (float("nan"), float("nan"))
    if len(rows) >= 2 and shown:
        _, se = ratio_mean_se(JointMoments.from_columns(rows.accepted, rows.shown))
        ci = (rate - Z95 * se, rate + Z95 * se)
    lat = [x for x in rows.latency_ms if x.size]
    requests = float(rows.requests.sum())
    return ArmSummary(
        arm=arm,
        users=len(rows),
        shown=shown,
        accepted=accepted,
        acceptance_rate=rate,
        ci=ci,
        latency_p95=float(np.quantile(np.concatenate(lat), 0.95, method="inverted_cdf")) if lat else None,
        error_rate=float(rows.errors.sum()) / requests if requests else None,
        cost_per_user=float(rows.cost.mean()) if len(rows) else 0.0,
    )


def _guardrails(
    a: UserTable, b: UserTable, s: ExperimentSettings, rng: np.random.Generator
) -> list[Guardrail]:
    raw, missing = [], []
    m = s.margins
    if any(x.size for x in a.latency_ms) and any(x.size for x in b.latency_ms):
        raw.append(
            latency_guardrail(
                a.latency_ms,
                b.latency_ms,
                margin=m.latency_p95,
                rng=rng,
                n_resamples=s.n_bootstrap,
                alpha=s.alpha,
            )
        )
    else:
        missing.append(no_data("latency_p95", m.latency_p95, True))
    if a.requests.sum() > 0 and b.requests.sum() > 0:
        raw.append(
            error_rate_guardrail(
                a.errors, a.requests, b.errors, b.requests, margin=m.error_rate, alpha=s.alpha
            )
        )
    else:
        missing.append(no_data("error_rate", m.error_rate, False))
    if a.cost.sum() > 0 and np.std(np.r_[a.cost, b.cost]) > 0:
        raw.append(cost_guardrail(a.cost, b.cost, margin=m.cost, alpha=s.alpha))
    elif a.cost.sum() == 0 and b.cost.sum() > 0:
        missing.append(unbounded_increase("cost", 0.0, float(b.cost.mean()), m.cost))
    else:
        missing.append(no_data("cost", m.cost, True))
    return decide_guardrails(raw, alpha=s.alpha) + missing


def _verdict(seq: Interval, guardrails: list[Guardrail], s: ExperimentSettings) -> tuple[Verdict, list[str]]:
    lo, hi = seq.ci
    reasons = []
    failed = [g for g in guardrails if g.status == "fail"]
    unclear = [g for g in guardrails if g.status == "inconclusive"]
    for g in failed:
        if g.method == "control is 0":
            reasons.append(
                f"guardrail {g.name} fails: control has none, treatment {g.treatment:.4g} per user"
            )
        else:
            reasons.append(f"guardrail {g.name} fails: CI {_fmt(g.ci)} lies above its margin {g.margin:g}")
    for g in unclear:
        reasons.append(f"guardrail {g.name} not yet shown within its margin {g.margin:g} (CI {_fmt(g.ci)})")
    for g in guardrails:
        if g.status == "no data":
            reasons.append(f"guardrail {g.name} has no data and was not checked")
    target = f"minimum lift {s.min_lift:+.2%}"
    if hi < s.min_lift:
        reasons.insert(0, f"always-valid CI of the lift {_fmt(seq.ci, pct=True)} lies below the {target}")
        return Verdict.DONT_SHIP, reasons
    if failed:
        return Verdict.DONT_SHIP, reasons
    if lo > s.min_lift:
        reasons.insert(0, f"always-valid CI of the lift {_fmt(seq.ci, pct=True)} lies above the {target}")
        if unclear:
            return Verdict.KEEP_RUNNING, reasons
        return Verdict.SHIP, reasons
    reasons.insert(0, f"always-valid CI of the lift {_fmt(seq.ci, pct=True)} still contains the {target}")
    return Verdict.KEEP_RUNNING, reasons


def _fmt(ci: tuple[float, float], pct: bool = False) -> str:
    return f"[{ci[0]:+.2%}, {ci[1]:+.2%}]" if pct else f"[{ci[0]:+.4g}, {ci[1]:+.4g}]"


def compare_arm(
    a: UserTable,
    b: UserTable,
    *,
    control: str,
    arm: str,
    settings: ExperimentSettings,
    rng: np.random.Generator,
) -> ArmComparison:
    """Lift of ``b``'s acceptance rate over ``a``'s (users already aggregated), guardrails and verdict."""
    post_a = JointMoments.from_columns(a.accepted, a.shown)
    post_b = JointMoments.from_columns(b.accepted, b.shown)
    plain = ratio_effect(post_a, post_b)
    lift = fixed_horizon(plain, alpha=settings.alpha)
    effect, lift_cuped = plain, None
    if settings.cuped and a.pre_shown.sum() > 0 and b.pre_shown.sum() > 0:
        cuped = ratio_effect(
            JointMoments.from_columns(a.accepted, a.shown, a.pre_accepted, a.pre_shown),
            JointMoments.from_columns(b.accepted, b.shown, b.pre_accepted, b.pre_shown),
            cuped=True,
        )
        if cuped.theta:
            effect, lift_cuped = cuped, fixed_horizon(cuped, alpha=settings.alpha)
    seq = sequential(effect, alpha=settings.alpha, n_star=settings.n_star)
    guardrails = _guardrails(a, b, settings, rng)
    verdict, reasons = _verdict(seq, guardrails, settings)
    if lift_cuped is not None:
        reasons[0] += f" (CUPED on pre-period acceptance, theta {effect.theta:.3g})"
    return ArmComparison(arm, control, lift, lift_cuped, seq, effect.theta, guardrails, verdict, reasons)


def analyze_experiment(
    table: UserTable, *, name: str, rng: np.random.Generator, settings: ExperimentSettings | None = None
) -> ExperimentAnalysis:
    """Analyse a per-user (or per-user-per-day) table. The control is ``settings.control`` or the first
    arm seen. An experiment still waiting for data (no events yet, an arm without users, fewer than 2 users
    with shown suggestions) is reported, not refused: the SRM check runs on the users per arm (planned arms
    without users count 0), arms that cannot be compared yet are named in the reasons, and the verdict is
    keep running unless the split is broken. ``ValueError`` when an arm with users has no planned weight.
    """
    s = settings or ExperimentSettings()
    users = table.per_user()
    arms = list(users.arm_order)
    control = s.control or arms[0]
    rows = {arm: _arm_rows(users, arm) for arm in arms}
    srm = _sample_ratio(rows, s)
    waiting = _waiting(rows, control, s.weights)
    if not srm.expected:
        waiting.append(f"sample ratio not checked: only arm(s) {', '.join(srm.observed)} have users and no plan "
                       "names the others (give --config or --weights)")
    comparisons = [
        compare_arm(rows[control], rows[arm], control=control, arm=arm, settings=s, rng=rng)
        for arm in arms
        if arm != control and control in rows and not _too_little(rows[control]) and not _too_little(rows[arm])
    ]
    verdict, reasons = _overall(srm, comparisons, waiting)
    return ExperimentAnalysis(
        name=name,
        control=control,
        arms=[_summary(rows[a], a) for a in arms],
        srm=srm,
        comparisons=comparisons,
        verdict=verdict,
        reasons=reasons,
        settings=s,
    )


def _too_little(rows: UserTable) -> bool:
    """Too little data to compare an arm's acceptance: fewer than 2 users, or no shown suggestion."""
    return len(rows) < 2 or rows.shown.sum() == 0


def _sample_ratio(rows: dict[str, UserTable], s: ExperimentSettings) -> SampleRatio:
    """The SRM check on users per arm, planned arms without users counted as 0; not checked (NaN, no
    mismatch) when fewer than 2 arms are known (one arm seen and no planned weights)."""
    counts = {a: len(r) for a, r in rows.items()} | {a: 0 for a in (s.weights or {}) if a not in rows}
    if len(counts) < 2:
        nan = float("nan")
        return SampleRatio(observed=counts, expected={}, statistic=nan, p_value=nan, mismatch=False)
    return sample_ratio_mismatch(counts, s.weights, alpha=s.srm_alpha)


def _waiting(rows: dict[str, UserTable], control: str, weights: dict[str, float] | None) -> list[str]:
    """Why arms cannot be compared yet, one line each: no users, no events yet, too few users."""
    out = []
    planned = [a for a in (weights or {}) if a not in rows]
    if control not in rows and control not in planned:
        planned.insert(0, control)
    for arm in planned:
        out.append(f"arm {arm!r}{' (control)' if arm == control else ''} has no users yet")
    for arm, r in rows.items():
        if r.shown.sum() == 0:
            out.append(f"arm {arm!r}: no events yet ({len(r)} user{'s' if len(r) != 1 else ''}, no shown "
                       "suggestions); acceptance not compared")
        elif len(r) < 2:
            out.append(f"arm {arm!r}: 1 user with shown suggestions; acceptance is compared from 2")
    return out


def _overall(srm: SampleRatio, comparisons: list[ArmComparison],
             waiting: list[str] | None = None) -> tuple[Verdict, list[str]]:
    waiting = waiting or []
    if srm.mismatch:
        return Verdict.DONT_SHIP, [
            f"sample ratio mismatch (chi-square p = {srm.p_value:.2g}): users per arm "
            f"{srm.observed} differ from the plan { ({k: round(v, 1) for k, v in srm.expected.items()}) }; "
            "fix the assignment before trusting any result"
        ]
    ships = [c for c in comparisons if c.verdict is Verdict.SHIP]
    if ships:
        best = max(ships, key=lambda c: c.lift_sequential.estimate)
        return Verdict.SHIP, [f"ship arm {best.arm!r}", *best.reasons, *waiting]
    if comparisons and not waiting and all(c.verdict is Verdict.DONT_SHIP for c in comparisons):
        return Verdict.DONT_SHIP, [f"arm {c.arm!r}: {r}" for c in comparisons for r in c.reasons]
    told = [c for c in comparisons if waiting or c.verdict is Verdict.KEEP_RUNNING]
    return Verdict.KEEP_RUNNING, [*waiting, *(f"arm {c.arm!r}: {r}" for c in told for r in c.reasons)]


@dataclass(frozen=True)
class DailyLift:
    """Cumulative lift of one treatment arm using all data up to ``day``."""

    day: str
    arm: str
    users: int
    estimate: float
    ci_fixed: tuple[float, float]
    ci_sequential: tuple[float, float]


def cumulative_lift(table: UserTable, *, settings: ExperimentSettings | None = None) -> list[DailyLift]:
    """Lift (plain ratio, no CUPED) of every treatment arm, recomputed on the data up to each day.

    Needs a dated table; days where an arm has fewer than 2 users with suggestions are skipped.
    """
    s = settings or ExperimentSettings()
    out = []
    for day in table.days():
        users = table.until(day).per_user()
        arms = list(users.arm_order)
        control = s.control or arms[0]
        rows = {a: _arm_rows(users, a) for a in arms}
        a_rows = rows.get(control)
        if a_rows is None or len(a_rows) < 2 or a_rows.shown.sum() == 0:
            continue
        for arm in arms:
            b_rows = rows[arm]
            if arm == control or len(b_rows) < 2 or b_rows.shown.sum() == 0:
                continue
            effect = ratio_effect(
                JointMoments.from_columns(a_rows.accepted, a_rows.shown),
                JointMoments.from_columns(b_rows.accepted, b_rows.shown),
            )
            if effect.se == 0:
                continue
            fixed = fixed_horizon(effect, alpha=s.alpha)
            seq = sequential(effect, alpha=s.alpha, n_star=s.n_star)
            out.append(DailyLift(str(day), arm, effect.n, effect.estimate, fixed.ci, seq.ci))
    return out
