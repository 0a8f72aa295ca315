"""Scores of a run, computed from its stored samples: per-problem values first, then means with CIs.

The problem is the statistical unit (evaluation-reference.md §0, §3.1): each problem gets one score
(its unbiased pass@k from n samples and c passes, or its mean metric), the task score is the mean
over problems, and the 95 % CI uses the standard error clustered on the source problem (all infilling
tasks cut from one HumanEval function form one cluster), with inspect_ai's C/(C−1) factor. The CI's
bounds are clipped to the metric's range (``metrics.metric_range``: shares in [0, 1],
``edit_similarity`` in [0, 100]), which the normal approximation leaves on a few problems; the mean
and SE are unchanged. With a single cluster (one problem, or every problem cut from one HumanEval
function) the clustered SE is undefined (C/(C−1) divides by zero): ``se`` is None, the CI null in JSON
and "n/a (1 cluster)" in text, rather than a zero-width interval that would claim certainty.

Per request (``RequestStats``): latency p50 / p95 and TTFT p50 over model calls that were not cache
hits, mean prompt and completion tokens, and cost per request (mean) and in total over the samples
whose cost is known (null when none is, e.g. a samples file).

Whether the model answered at all: ``answered`` is a per-sample 0/1 metric (1 when the scored output
holds a non-whitespace character), aggregated like every other metric (per-problem mean, then the mean
over problems with its clustered CI); ``empty_passes`` counts passing samples whose output is empty (an
empty infill passes when the tests do not need the removed line), out of ``passes``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from assay.eval.metrics import metric_range, pass_at_k
from assay.eval.store import SampleRow

Z95 = 1.959963984540054
ANSWERED = "answered"


def clustered_se(scores: Sequence[float], clusters: Sequence[object]) -> float | None:
    """SE = sqrt(C/(C−1) · Σ_c (Σ_{i∈c} (s_i − s̄))²) / n (equals the plain CLT SE when clusters are singletons).

    None with fewer than two clusters: C/(C−1) is undefined at C = 1, and the spread of one cluster says
    nothing about how the score would vary over other problems (0.0 would read as a certain score).
    """
    n = len(scores)
    if n != len(clusters):
        raise ValueError("scores and clusters must have the same length")
    if n < 2:
        return None
    mean = sum(scores) / n
    sums: dict[object, float] = defaultdict(float)
    for s, c in zip(scores, clusters, strict=True):
        sums[c] += s - mean
    k = len(sums)
    if k < 2:
        return None
    return math.sqrt(k / (k - 1) * sum(v * v for v in sums.values())) / n


@dataclass(frozen=True)
class Estimate:
    """A mean over problems with its clustered standard error and 95 % CI."""

    mean: float
    se: float | None
    """None when undefined: fewer than two clusters (``clustered_se``)."""
    n: int
    clusters: int
    bounds: tuple[float, float] | None = None
    """The metric's range (``metric_range``): the CI is clipped to it; None leaves it unclipped."""

    @property
    def defined(self) -> bool:
        """False when no CI can be computed (one cluster): ``se`` is None and ``ci95`` is (nan, nan)."""
        return self.se is not None

    @property
    def ci95(self) -> tuple[float, float]:
        """mean ± 1.96 SE (the pinned §3.1 interval), clipped to ``bounds``: with a few problems the
        normal approximation leaves the range (2 problems, one answered: [-0.48, 1.48]), and no share is
        below 0 or above 1. (nan, nan) when the SE is undefined (one cluster; NaN as the statistics code
        marks undefined values), which ``as_dict`` writes as null and the report as n/a."""
        lo, hi = self.normal_ci95
        if not self.defined or self.bounds is None:
            return (lo, hi)
        return (max(lo, self.bounds[0]), min(hi, self.bounds[1]))

    @property
    def normal_ci95(self) -> tuple[float, float]:
        """mean ± 1.96 SE before clipping; (nan, nan) when the SE is undefined."""
        if self.se is None:
            return (math.nan, math.nan)
        return (self.mean - Z95 * self.se, self.mean + Z95 * self.se)

    @property
    def clipped(self) -> bool:
        """True when ``ci95`` was cut at the metric's range, so it is no longer mean ± a half-width."""
        return self.defined and self.ci95 != self.normal_ci95

    def as_dict(self) -> dict[str, float | int | list[float] | None]:
        """``ci95_low`` / ``ci95_high`` clipped to ``range`` (the metric's [low, high], or null); ``se`` and
        both bounds are null when the run covers one cluster (no CI can be computed)."""
        lo, hi = self.ci95 if self.defined else (None, None)
        return {"mean": self.mean, "se": self.se, "ci95_low": lo, "ci95_high": hi, "n": self.n,
                "clusters": self.clusters, "range": None if self.bounds is None else list(self.bounds)}


def estimate(scores: Sequence[float], clusters: Sequence[object],
             bounds: tuple[float, float] | None = None) -> Estimate:
    """The mean of ``scores`` with its clustered SE; its CI is clipped to ``bounds`` when given."""
    if not scores:
        raise ValueError("no scores")
    return Estimate(mean=sum(scores) / len(scores), se=clustered_se(scores, clusters), n=len(scores),
                    clusters=len(set(clusters)), bounds=bounds)


def percentile(values: Sequence[float], q: float) -> float:
    """The value at rank ``int(q · n)`` of the sorted values (clamped to the last one)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass(frozen=True)
class RequestStats:
    """Timings, tokens and cost per model request of a run; each field None when nothing measured it."""

    latency_ms_p50: float | None = None
    latency_ms_p95: float | None = None
    ttft_ms_p50: float | None = None
    prompt_tokens_per_request: float | None = None
    completion_tokens_per_request: float | None = None
    cost_per_request: float | None = None
    """Mean cost of the samples whose cost is known."""
    cost_total: float | None = None
    cost_currency: str | None = None
    costed_requests: int = 0
    """How many samples have a known cost (the denominator of ``cost_per_request``)."""

    def as_dict(self) -> dict[str, float | int | str | None]:
        return asdict(self)


def request_stats(samples: Sequence[SampleRow], currency: str | None = None) -> RequestStats:
    """Aggregate per-sample timings, tokens and costs; cache hits count for tokens and cost, not timings."""
    def known(name: str, fresh: bool = False) -> list[float]:
        return [getattr(s, name) for s in samples if getattr(s, name) is not None and not (fresh and s.cached)]

    def mean(values: list[float]) -> float | None:
        return sum(values) / len(values) if values else None

    latency, ttft, costs = known("latency_ms", fresh=True), known("ttft_ms", fresh=True), known("cost")
    return RequestStats(
        latency_ms_p50=percentile(latency, 0.5) if latency else None,
        latency_ms_p95=percentile(latency, 0.95) if latency else None,
        ttft_ms_p50=percentile(ttft, 0.5) if ttft else None,
        prompt_tokens_per_request=mean(known("prompt_tokens")),
        completion_tokens_per_request=mean(known("completion_tokens")),
        cost_per_request=mean(costs), cost_total=sum(costs) if costs else None,
        cost_currency=currency if costs else None, costed_requests=len(costs))


@dataclass(frozen=True)
class ProblemResult:
    task_id: str
    cluster: str
    language: str
    n: int
    correct: int
    metrics: dict[str, float]
    """Per-problem means of each per-sample metric, ``answered`` included."""


@dataclass
class RunResult:
    """What ``assay eval`` prints and ``assay report`` renders."""

    run_id: str
    task: str
    model: str
    problems: int
    samples: int
    scores: dict[str, Estimate] = field(default_factory=dict)
    """``pass@k`` (only for k ≤ every problem's n) and each metric's mean over problems."""
    by_language: dict[str, dict[str, Estimate]] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    requests: RequestStats = field(default_factory=RequestStats)
    passes: int = 0
    """Samples that passed."""
    empty_passes: int = 0
    """Samples that passed with an empty (whitespace-only) output."""

    @property
    def empty_passes_sentence(self) -> str:
        """``N of the M passes are empty answers``, or ``no sample passed``."""
        if not self.passes:
            return "no sample passed"
        return f"{self.empty_passes} of the {self.passes} passes are empty answers"

    def as_dict(self) -> dict:
        """Scores, outcomes, ``passes``, ``empty_passes`` and ``RequestStats``' fields (``cost_per_request``,
        ``cost_total``, ...) at top level."""
        return {
            "run_id": self.run_id, "task": self.task, "model": self.model, "problems": self.problems,
            "samples": self.samples, "scores": {k: v.as_dict() for k, v in self.scores.items()},
            "by_language": {lang: {k: v.as_dict() for k, v in s.items()} for lang, s in self.by_language.items()},
            "outcomes": self.outcomes, "passes": self.passes, "empty_passes": self.empty_passes,
            **self.requests.as_dict(),
        }


def is_empty(output: str) -> bool:
    """True when a scored output has no non-whitespace character: the model gave no suggestion."""
    return not output.strip()


def per_problem(samples: Iterable[SampleRow]) -> list[ProblemResult]:
    """One ``ProblemResult`` per task id; its metrics are the samples' metrics and ``answered``, averaged."""
    grouped: dict[str, list[SampleRow]] = defaultdict(list)
    for s in samples:
        grouped[s.task_id].append(s)
    out = []
    for task_id, rows in grouped.items():
        names = sorted({k for r in rows for k in r.metrics})
        metrics = {m: sum(r.metrics.get(m, 0.0) for r in rows) / len(rows) for m in names}
        metrics[ANSWERED] = sum(not is_empty(r.output) for r in rows) / len(rows)
        out.append(ProblemResult(task_id=task_id, cluster=rows[0].cluster, language=rows[0].language,
                                 n=len(rows), correct=sum(r.passed for r in rows), metrics=metrics))
    return out


def _scores(problems: Sequence[ProblemResult], ks: Sequence[int]) -> dict[str, Estimate]:
    clusters = [p.cluster for p in problems]
    out: dict[str, Estimate] = {}
    min_n = min(p.n for p in problems)
    for k in ks:
        if k <= min_n:
            out[f"pass@{k}"] = estimate([pass_at_k(p.n, p.correct, k) for p in problems], clusters,
                                        metric_range(f"pass@{k}"))
    for name in sorted({m for p in problems for m in p.metrics}):
        out[name] = estimate([p.metrics.get(name, 0.0) for p in problems], clusters, metric_range(name))
    return out


def summarize(run_id: str, task: str, model: str, samples: Sequence[SampleRow],
              ks: Sequence[int] = (1, 10, 100), currency: str | None = None) -> RunResult:
    """Aggregate a run's samples. pass@k is reported only for k where every problem has n ≥ k;
    ``currency`` names the unit of the samples' costs."""
    problems = per_problem(samples)
    result = RunResult(run_id=run_id, task=task, model=model, problems=len(problems), samples=len(samples),
                       requests=request_stats(samples, currency), passes=sum(s.passed for s in samples),
                       empty_passes=sum(s.passed and is_empty(s.output) for s in samples))
    if not problems:
        return result
    result.scores = _scores(problems, ks)
    languages = sorted({p.language for p in problems})
    if len(languages) > 1:
        for lang in languages:
            result.by_language[lang] = _scores([p for p in problems if p.language == lang], ks)
    outcomes: dict[str, int] = defaultdict(int)
    for s in samples:
        outcomes[s.outcome] += 1
    result.outcomes = dict(sorted(outcomes.items()))
    return result
