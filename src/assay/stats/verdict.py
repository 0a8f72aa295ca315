"""The verdict of one ``assay compare`` pair: is B better, worse, or not detectably different from A?

B is ``better`` or ``worse`` than A on the quality metric when its Holm-adjusted p-value is at most alpha,
else ``inconclusive``; an inconclusive verdict says what difference the comparison could have detected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assay.stats.power import smallest_two_sided_p

if TYPE_CHECKING:
    from assay.stats.compare import CompareSettings, MetricComparison, PairComparison


@dataclass(frozen=True)
class PairVerdict:
    """B against A on ``metric`` (overall): ``better`` / ``worse`` when the Holm-adjusted p-value is at most
    alpha, else ``inconclusive``; ``reason`` says why in one sentence."""

    metric: str
    outcome: str
    reason: str


def smallest_holm_p(metrics: Sequence[MetricComparison], settings: CompareSettings) -> float:
    """Lower bound of every Holm-adjusted p-value over the family ``metrics``: the family size times the
    smallest p any of its exact tests can return (``power.smallest_two_sided_p``), capped at 1."""
    floors = [
        smallest_two_sided_p(m.n, n_permutations=None if m.test == "mcnemar_exact" else settings.n_permutations)
        for m in metrics
    ]
    return min(1.0, len(floors) * min(floors, default=1.0))


def pair_verdict(
    pair: PairComparison, metric: str, settings: CompareSettings, *, holm_floor: float = 0.0
) -> PairVerdict:
    """The verdict on ``metric`` (overall subgroup) from its Holm-adjusted p-value and the sign of B − A.

    An inconclusive verdict names the minimum detectable difference, or says no difference is detectable
    when the test cannot reach alpha at this n, or when ``holm_floor`` (``smallest_holm_p`` of the family)
    exceeds alpha so that no Holm-adjusted p can.
    """
    m = next(m for m in pair.metrics if m.metric == metric and m.subgroup == "all")
    alpha = settings.alpha
    evidence = (
        f"B − A = {m.diff:+.3g}, 95% CI [{m.ci95[0]:+.3g}, {m.ci95[1]:+.3g}], "
        f"Holm-adjusted p = {m.p_holm:.3g}"
    )
    if m.p_holm <= alpha:
        outcome = "better" if m.diff > 0 else "worse"
        return PairVerdict(metric, outcome, f"B is {outcome} on {metric}: {evidence} ≤ {alpha:g}")
    return PairVerdict(
        metric,
        "inconclusive",
        f"No detectable difference on {metric}: {evidence} > {alpha:g}; {_power_note(m, holm_floor, alpha)}",
    )


def _power_note(m: MetricComparison, holm_floor: float, alpha: float) -> str:
    if m.mdd is None or holm_floor <= alpha:
        return m.mdd_note
    return (
        f"no difference is detectable at n = {m.n} once Holm adjusts for the other hypotheses: no adjusted "
        f"p can fall below {holm_floor:.3g} > alpha {alpha:g}"
    )
