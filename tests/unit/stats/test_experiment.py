"""Online experiment analysis: SRM against scipy, the user table, guardrails and the verdict rules."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from assay.stats.experiment import (
    ExperimentSettings,
    Verdict,
    analyze_experiment,
    cumulative_lift,
    sample_ratio_mismatch,
)
from assay.stats.guardrails import GuardrailMargins, quantile_bootstrap
from assay.stats.table import UserRow, UserTable


def _table(
    *,
    n: int = 1200,
    lift: float = 0.0,
    seed: int = 0,
    latency_factor: float = 1.0,
    treatment_share: float = 0.5,
    days: int = 0,
) -> UserTable:
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n):
        arm = "treatment" if rng.uniform() < treatment_share else "control"
        rate = rng.beta(3, 7)
        p = min(1.0, rate * (1 + lift if arm == "treatment" else 1.0))
        pre = int(rng.integers(5, 40))
        lat = rng.lognormal(5, 0.4, size=4) * (latency_factor if arm == "treatment" else 1.0)
        base = dict(
            user_id=f"u{u}",
            arm=arm,
            pre_shown=pre,
            pre_accepted=int(rng.binomial(pre, rate)),
            cost=float(rng.gamma(2, 0.01)),
        )
        for d in range(max(days, 1)):
            shown = int(rng.integers(3, 20))
            rows.append(
                UserRow(
                    **base,
                    shown=shown,
                    accepted=int(rng.binomial(shown, p)),
                    latency_ms=list(lat),
                    errors=int(rng.binomial(10, 0.01)),
                    requests=10,
                    date=f"2026-11-{d + 1:02d}" if days else None,
                )
            )
    return UserTable.from_rows(rows)


def test_srm_equals_scipy_chisquare() -> None:
    counts = {"a": 5100, "b": 4900, "c": 10300}
    result = sample_ratio_mismatch(counts, {"a": 0.25, "b": 0.25, "c": 0.5})
    ref = stats.chisquare([5100, 4900, 10300], [20300 * 0.25, 20300 * 0.25, 20300 * 0.5])
    assert result.statistic == pytest.approx(ref.statistic)
    assert result.p_value == pytest.approx(ref.pvalue)
    assert not result.mismatch
    assert sample_ratio_mismatch({"a": 5400, "b": 4600}).mismatch
    with pytest.raises(ValueError, match="arm"):
        sample_ratio_mismatch({"a": 10, "b": 12}, {"a": 1.0})


def test_clear_win_ships_with_reasons() -> None:
    result = analyze_experiment(_table(lift=0.25), name="exp", rng=np.random.default_rng(1))
    assert result.verdict is Verdict.SHIP
    comparison = result.comparisons[0]
    assert comparison.lift_sequential.ci[0] > 0
    assert comparison.lift_cuped is not None and comparison.theta > 0
    assert comparison.lift_cuped.se < comparison.lift.se
    assert {g.name: g.status for g in comparison.guardrails} == {
        "latency_p95": "pass",
        "error_rate": "pass",
        "cost": "pass",
    }
    assert "above" in result.reasons[1]


def test_clear_loss_does_not_ship() -> None:
    result = analyze_experiment(_table(lift=-0.3), name="exp", rng=np.random.default_rng(1))
    assert result.verdict is Verdict.DONT_SHIP
    assert "below" in result.reasons[0]


def test_no_effect_keeps_running() -> None:
    result = analyze_experiment(_table(lift=0.0, n=400), name="exp", rng=np.random.default_rng(1))
    assert result.verdict is Verdict.KEEP_RUNNING
    assert "still contains" in result.reasons[0]


def test_latency_regression_fails_its_guardrail() -> None:
    table = _table(lift=0.25, latency_factor=1.5)
    result = analyze_experiment(table, name="exp", rng=np.random.default_rng(1))
    latency = next(g for g in result.comparisons[0].guardrails if g.name == "latency_p95")
    assert latency.status == "fail"
    assert latency.estimate == pytest.approx(0.5, abs=0.1)
    assert result.verdict is Verdict.DONT_SHIP


def test_sample_ratio_mismatch_blocks_the_verdict() -> None:
    result = analyze_experiment(
        _table(lift=0.25, treatment_share=0.6), name="exp", rng=np.random.default_rng(1)
    )
    assert result.srm.mismatch
    assert result.verdict is Verdict.DONT_SHIP
    assert "sample ratio mismatch" in result.reasons[0]


def test_planned_weights_remove_the_mismatch() -> None:
    settings = ExperimentSettings(weights={"control": 0.4, "treatment": 0.6}, margins=GuardrailMargins())
    table = _table(lift=0.25, treatment_share=0.6)
    result = analyze_experiment(table, name="exp", rng=np.random.default_rng(1), settings=settings)
    assert not result.srm.mismatch


def test_dated_rows_aggregate_per_user_and_give_cumulative_lift() -> None:
    table = _table(n=300, lift=0.2, days=3)
    users = table.per_user()
    assert len(users) == 300
    assert users.shown.sum() == table.shown.sum()
    first = table.user_id == "u0"
    assert users.pre_shown[users.user_id == "u0"][0] == table.pre_shown[first][0]
    daily = cumulative_lift(table)
    assert [d.day for d in daily] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert daily[-1].users == 300
    widths = [d.ci_sequential[1] - d.ci_sequential[0] for d in daily]
    assert widths[0] > widths[-1]
    assert all(d.ci_sequential[1] - d.ci_sequential[0] > d.ci_fixed[1] - d.ci_fixed[0] for d in daily)


def test_user_in_two_arms_is_rejected() -> None:
    rows = [
        UserRow(user_id="u1", arm="a", shown=3, accepted=1),
        UserRow(user_id="u1", arm="b", shown=3, accepted=1),
        UserRow(user_id="u2", arm="b", shown=3, accepted=1),
    ]
    with pytest.raises(ValueError, match="more than one arm"):
        UserTable.from_rows(rows).per_user()


def test_quantile_bootstrap_point_and_weights() -> None:
    rng = np.random.default_rng(0)
    lat = tuple(rng.exponential(100, size=int(k)) for k in rng.integers(0, 8, 300))
    point, boot = quantile_bootstrap(lat, rng=np.random.default_rng(2), n_resamples=400)
    assert point == np.quantile(np.concatenate(lat), 0.95, method="inverted_cdf")
    assert boot.shape == (400,)
    assert abs(np.median(boot) - point) < 0.1 * point
    again = quantile_bootstrap(lat, rng=np.random.default_rng(2), n_resamples=400)[1]
    assert np.array_equal(boot, again)


def test_a_cost_where_control_had_none_fails_the_cost_guardrail() -> None:
    table = _table(lift=0.25)
    free_control = np.where(table.arm == "control", 0.0, table.cost)
    table = UserTable(
        table.user_id,
        table.arm,
        table.shown,
        table.accepted,
        table.pre_shown,
        table.pre_accepted,
        table.errors,
        table.requests,
        free_control,
        table.latency_ms,
    )
    result = analyze_experiment(table, name="exp", rng=np.random.default_rng(1))
    cost = next(g for g in result.comparisons[0].guardrails if g.name == "cost")
    assert cost.status == "fail"
    assert result.verdict is Verdict.DONT_SHIP
    assert any("control has none" in r for r in result.reasons)
