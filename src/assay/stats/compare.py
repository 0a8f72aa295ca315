"""``assay compare``: paired comparisons of runs on the problems they share, and the Pareto frontier.

The first run is the baseline A; every later run B is compared with it, metric by metric, on the
problems both contain (matched by ``task_id``). Differences are ``B - A``. Per metric:

- means of A and B, the paired difference with a normal 95% CI (clustered SE when problems share a
  source cluster; clipped to ± the metric's width, ``eval.metrics.metric_range``, since no difference of
  two shares leaves [-1, 1]) and a percentile paired-bootstrap CI (resampling clusters when they are shared);
- McNemar's exact test when both runs' per-problem values are 0/1, else the sign-flip permutation test;
- the Pearson correlation of per-problem scores;
- power: the minimum detectable difference at this n (80% power), and the n needed for ``delta``
  (``power.paired_power``: None with a reason when the exact test cannot reach alpha at this n or the
  differences do not vary);
- Holm and Benjamini–Hochberg adjusted p-values over every hypothesis in the call (all pairs,
  metrics, and per-task / per-language subgroups when problems carry more than one of them).

``answered`` (the share of non-empty outputs, the guard against empty passes) is compared whenever both
runs have it, but described only: it stays out of the Holm / BH family (its adjusted p-values are NaN,
``adjusted`` False) unless it is the quality metric (``--metric answered``), so it never dilutes the verdict.

Each pair ends in a verdict on the quality metric (``verdict.pair_verdict``): B is ``better`` or
``worse`` than A when its Holm-adjusted p-value is at most alpha, else ``inconclusive``. With three or
more runs, ``pareto`` lists quality (higher is better) against mean latency and cost (lower is better)
and marks the runs no other run beats on every axis; a run whose latency or cost is unknown while another
run's is known cannot be placed (``on_frontier`` None, "n/a"): an unknown cost must not beat a known one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from assay.eval.metrics import metric_range
from assay.stats.multiple import benjamini_hochberg, holm
from assay.stats.paired import is_binary, mcnemar_exact, paired_bootstrap, paired_difference, sign_flip_test
from assay.stats.power import paired_power
from assay.stats.scores import RunScores
from assay.stats.verdict import PairVerdict, pair_verdict, smallest_holm_p

ON_REQUEST = frozenset({"answered"})
"""Metrics tested only when named as the quality metric (``--metric answered``); otherwise shown, not
adjusted: the share of non-empty outputs describes behaviour, not quality, and would otherwise add a
hypothesis to every Holm family."""


@dataclass(frozen=True)
class MetricComparison:
    """One metric (in one subgroup) for one pair of runs."""

    metric: str
    subgroup: str
    n: int
    a: float
    b: float
    diff: float
    ci95: tuple[float, float]
    se: float
    se_kind: str
    bootstrap_ci95: tuple[float, float]
    test: str
    p_value: float
    p_holm: float
    p_bh: float
    correlation: float
    mdd: float | None
    n_needed: int | None
    mdd_note: str
    adjusted: bool = True
    """False for a descriptive metric (``ON_REQUEST`` but the quality metric): out of the Holm / BH family,
    ``p_holm`` and ``p_bh`` NaN."""


@dataclass(frozen=True)
class PairComparison:
    """Run ``b`` against baseline ``a`` on ``n`` shared problems; ``verdict`` is set by ``compare_runs``."""

    a: str
    b: str
    n: int
    only_a: int
    only_b: int
    metrics: list[MetricComparison]
    verdict: PairVerdict | None = None


@dataclass(frozen=True)
class ParetoPoint:
    """A run's quality (mean of ``metric`` on problems all runs share), mean latency and cost."""

    run: str
    metric: str
    quality: float
    latency_ms: float | None
    cost: float | None
    on_frontier: bool | None
    """None when the run's latency or cost is unknown while another run's is known (it cannot be placed)."""


@dataclass(frozen=True)
class CompareSettings:
    """How runs are compared: significance level, power (for the minimum detectable difference), the
    difference ``delta`` to size the needed n for (None: not sized), resample counts, and the seed of the
    caller's generator (recorded only, for reproducibility)."""

    alpha: float = 0.05
    power: float = 0.8
    delta: float | None = None
    n_bootstrap: int = 10_000
    n_permutations: int = 10_000
    seed: int | None = None


@dataclass(frozen=True)
class Comparison:
    """Everything ``assay compare`` reports; ``settings`` make it reproducible."""

    runs: list[str]
    pairs: list[PairComparison]
    pareto: list[ParetoPoint]
    settings: CompareSettings


def pareto_frontier(quality: Sequence[float], costs: Sequence[Sequence[float]]) -> list[bool]:
    """Non-dominated points: higher ``quality`` is better, lower values in every ``costs`` column are better.

    A point is dominated when another is at least as good on every axis and strictly better on one.
    """
    q = np.asarray(quality, dtype=float)
    c = np.asarray(costs, dtype=float).reshape(q.size, -1)
    keep = []
    for i in range(q.size):
        better_eq = (q >= q[i]) & np.all(c <= c[i], axis=1)
        strictly = (q > q[i]) | np.any(c < c[i], axis=1)
        keep.append(not bool(np.any(better_eq & strictly)))
    return keep


def clip_difference(ci: tuple[float, float], bounds: tuple[float, float] | None) -> tuple[float, float]:
    """A CI of a difference of two values in [lo, hi], clipped to [-(hi − lo), hi − lo]: the Wald interval
    on few problems leaves it (QA saw ``answered`` B − A in [0.7651, 1.035]). Unchanged when ``bounds`` is
    None (a metric of unknown range)."""
    if bounds is None:
        return ci
    width = bounds[1] - bounds[0]
    return (max(ci[0], -width), min(ci[1], width))


def _align(a: RunScores, b: RunScores) -> tuple[np.ndarray, np.ndarray]:
    pos_b = {t: i for i, t in enumerate(b.task_ids)}
    ia = np.array([i for i, t in enumerate(a.task_ids) if t in pos_b], dtype=int)
    ib = np.array([pos_b[a.task_ids[i]] for i in ia], dtype=int)
    return ia, ib


def _one_metric(
    metric: str,
    subgroup: str,
    x: np.ndarray,
    y: np.ndarray,
    clusters: np.ndarray | None,
    rng: np.random.Generator,
    settings: CompareSettings,
) -> MetricComparison:
    diff = paired_difference(x, y, clusters=clusters)
    ci = clip_difference(diff.ci, metric_range(metric))
    boot = paired_bootstrap(x, y, rng=rng, n_resamples=settings.n_bootstrap, clusters=clusters)
    test = (
        mcnemar_exact(x, y)
        if is_binary(x) and is_binary(y)
        else sign_flip_test(x, y, rng=rng, n_resamples=settings.n_permutations)
    )
    analysis = paired_power(
        diff.se * np.sqrt(diff.n),
        diff.n,
        binary=test.test == "mcnemar_exact",
        alpha=settings.alpha,
        power=settings.power,
        delta=settings.delta,
        n_permutations=settings.n_permutations,
    )
    return MetricComparison(
        metric=metric,
        subgroup=subgroup,
        n=diff.n,
        a=diff.mean_a,
        b=diff.mean_b,
        diff=diff.diff,
        ci95=ci,
        se=diff.se,
        se_kind=diff.se_kind,
        bootstrap_ci95=boot.ci,
        test=test.test,
        p_value=test.p_value,
        p_holm=test.p_value,
        p_bh=test.p_value,
        correlation=diff.correlation,
        mdd=analysis.mdd,
        n_needed=analysis.n_needed,
        mdd_note=analysis.note,
    )


def compare_pair(
    a: RunScores,
    b: RunScores,
    *,
    rng: np.random.Generator,
    settings: CompareSettings,
    skip: frozenset[str] = frozenset(),
) -> PairComparison:
    """Compare ``b`` with ``a`` on shared problems and metrics but ``skip`` (p-values not yet adjusted, no verdict).

    ``sigma_d`` for power is the standard deviation implied by the reported SE (clustered when used).
    Raises ``ValueError`` when fewer than 2 problems or no metric are shared.
    """
    ia, ib = _align(a, b)
    if ia.size == 0:
        raise ValueError(
            f"runs '{a.name}' and '{b.name}' share no problem (e.g. '{a.task_ids[0]}' vs '{b.task_ids[0]}'): "
            "they were evaluated on different task sets"
        )
    if ia.size < 2:
        raise ValueError(f"runs '{a.name}' and '{b.name}' share 1 problem; need at least 2")
    shared = [m for m in a.metrics if m in b.metrics and m not in skip]
    if not shared:
        raise ValueError(f"runs '{a.name}' and '{b.name}' share no metric")
    clusters = np.array(a.clusters)[ia] if a.clusters is not None else None
    groups: list[tuple[str, np.ndarray]] = [("all", np.ones(ia.size, dtype=bool))]
    for kind, labels in (("task", a.tasks), ("language", a.languages)):
        if labels is None:
            continue
        values = np.array(labels)[ia]
        if len(set(values.tolist())) > 1:
            groups += [(f"{kind}={v}", values == v) for v in sorted(set(values.tolist()))]
    results = []
    for metric in shared:
        x, y = a.metrics[metric][ia], b.metrics[metric][ib]
        for label, mask in groups:
            if mask.sum() < 2:
                continue
            sub_clusters = clusters[mask] if clusters is not None else None
            results.append(_one_metric(metric, label, x[mask], y[mask], sub_clusters, rng, settings))
    return PairComparison(
        a=a.name,
        b=b.name,
        n=int(ia.size),
        only_a=len(a.task_ids) - int(ia.size),
        only_b=len(b.task_ids) - int(ia.size),
        metrics=results,
    )


def _quality_metric(runs: Sequence[RunScores], wanted: str | None) -> str:
    shared = set(runs[0].metrics).intersection(*(r.metrics for r in runs[1:]))
    if not shared:
        raise ValueError("the runs share no metric")
    metric = wanted or ("pass@1" if "pass@1" in shared else min(shared, key=lambda m: (m in ON_REQUEST, m)))
    if metric not in shared:
        raise ValueError(
            f"quality metric '{metric}' is not in every run; shared: {', '.join(sorted(shared))}"
        )
    return metric


def _pareto(runs: Sequence[RunScores], metric: str) -> list[ParetoPoint]:
    common = set(runs[0].task_ids).intersection(*(r.task_ids for r in runs[1:]))
    if not common:
        raise ValueError("the runs share no problem, so their quality cannot be compared")
    rows = []
    for r in runs:
        mask = np.array([t in common for t in r.task_ids])
        latency = float(r.latency_ms[mask].mean()) if r.latency_ms is not None else None
        cost = float(r.cost[mask].mean()) if r.cost is not None else None
        rows.append((r.name, float(r.metrics[metric][mask].mean()), latency, cost))
    axes = [i for i in (2, 3) if any(row[i] is not None for row in rows)]
    placed = [i for i, row in enumerate(rows) if all(row[a] is not None for a in axes)]
    frontier = pareto_frontier([rows[i][1] for i in placed], [[rows[i][a] for a in axes] for i in placed])
    on: dict[int, bool | None] = dict(zip(placed, frontier, strict=True))
    return [ParetoPoint(name, metric, q, lat, cost, on.get(i)) for i, (name, q, lat, cost) in enumerate(rows)]


def compare_runs(
    runs: Sequence[RunScores],
    *,
    rng: np.random.Generator,
    settings: CompareSettings | None = None,
    quality_metric: str | None = None,
) -> Comparison:
    """Compare every run with the first, adjust all p-values together, give each pair its verdict on the
    quality metric and (3+ runs) find the frontier.

    ``quality_metric`` defaults to ``pass@1`` when every run has it, else the first shared metric.
    Randomness comes only from ``rng``.
    """
    if len(runs) < 2:
        raise ValueError("compare needs at least two runs")
    settings = settings or CompareSettings()
    names = [r.name for r in runs]
    if len(set(names)) != len(names):
        runs = [replace(r, name=f"{r.name}#{i + 1}") for i, r in enumerate(runs)]
    metric = _quality_metric(runs, quality_metric)
    described = ON_REQUEST - {metric}
    pairs = [compare_pair(runs[0], b, rng=rng, settings=settings) for b in runs[1:]]
    # The tested metrics first, the described ones (answered) after them, in the tables too.
    pairs = [replace(p, metrics=sorted(p.metrics, key=lambda m: m.metric in described)) for p in pairs]
    flat = [m for p in pairs for m in p.metrics if m.metric not in described]
    p_values = [m.p_value for m in flat]
    p_holm, p_bh = holm(p_values), benjamini_hochberg(p_values)
    holm_floor = smallest_holm_p(flat, settings)
    adjusted_pairs, k = [], 0
    for p in pairs:
        metrics = []
        for m in p.metrics:
            if m.metric in described:
                metrics.append(replace(m, p_holm=float("nan"), p_bh=float("nan"), adjusted=False))
            else:
                metrics.append(replace(m, p_holm=float(p_holm[k]), p_bh=float(p_bh[k])))
                k += 1
        adjusted = replace(p, metrics=metrics)
        adjusted_pairs.append(replace(adjusted, verdict=pair_verdict(adjusted, metric, settings, holm_floor=holm_floor)))
    return Comparison(
        runs=[r.name for r in runs],
        pairs=adjusted_pairs,
        pareto=_pareto(runs, metric) if len(runs) >= 3 else [],
        settings=settings,
    )


def summary_json(comparison: Comparison) -> dict:
    """The ``--json`` document: ``n``, ``metrics`` (overall subgroup) and ``verdict`` of the first pair at
    the top, then every pair, the Pareto frontier and the settings."""
    from assay.stats.serialize import to_jsonable

    first = comparison.pairs[0]
    metrics = {
        m.metric: {
            "a": m.a,
            "b": m.b,
            "diff": m.diff,
            "ci95": list(m.ci95),
            "p_value": m.p_value,
            "test": m.test,
            "p_holm": m.p_holm,
            "p_bh": m.p_bh,
            "bootstrap_ci95": list(m.bootstrap_ci95),
            "se": m.se,
            "se_kind": m.se_kind,
            "correlation": m.correlation,
            "mdd": m.mdd,
            "mdd_note": m.mdd_note,
            "n_needed": m.n_needed,
            "adjusted": m.adjusted,
        }
        for m in first.metrics
        if m.subgroup == "all"
    }
    return to_jsonable(
        {
            "n": first.n,
            "a": first.a,
            "b": first.b,
            "metrics": metrics,
            "verdict": first.verdict,
            "comparisons": comparison.pairs,
            "pareto": comparison.pareto,
            "settings": comparison.settings,
        }
    )
