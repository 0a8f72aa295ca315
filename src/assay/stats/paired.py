"""Paired comparison of two systems on the same problems (evaluation-reference.md §3.1–3.2).

Inputs are aligned per-problem score arrays ``a`` and ``b`` (same problem at the same index). The
difference is always ``b - a``: positive means B scored higher.

- ``paired_difference``: mean difference with a normal 95% CI from the standard error of the paired
  differences; clustered when problems share a source.
- ``paired_bootstrap``: resamples problem indices with replacement, percentile CI of mean(b*) - mean(a*).
- ``mcnemar_exact``: exact binomial test on the discordant pairs of binary outcomes.
- ``sign_flip_test``: paired permutation test for continuous scores (random sign flips of ``b - a``);
  exact enumeration for small n, Monte Carlo otherwise. Two-sided p = 2 * min(one-sided p), as in
  ``scipy.stats.permutation_test``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import binom, norm

from assay.stats.estimators import clt_se, clustered_se, has_shared_clusters

EXACT_SIGN_FLIP_MAX_N = 16
DISCRETE_RATIO = 32


@dataclass(frozen=True)
class PairedDifference:
    """Mean of ``b - a`` with its standard error and a normal CI; ``se_kind`` is "clt" or "clustered"."""

    n: int
    mean_a: float
    mean_b: float
    diff: float
    se: float
    ci: tuple[float, float]
    se_kind: str
    correlation: float
    sd_diff: float


@dataclass(frozen=True)
class BootstrapResult:
    """Percentile bootstrap CI of the mean paired difference; ``se`` is the std of the resampled means."""

    ci: tuple[float, float]
    se: float
    n_resamples: int


@dataclass(frozen=True)
class TestResult:
    """A p-value with the name of the test that produced it."""

    statistic: float
    p_value: float
    test: str


def _pair(a: ArrayLike, b: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"paired scores need two 1-d arrays of equal length, got {x.shape} and {y.shape}")
    if x.size < 2:
        raise ValueError(f"a paired comparison needs at least 2 shared problems, got {x.size}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("paired scores must be finite numbers")
    return x, y


def correlation(a: ArrayLike, b: ArrayLike) -> float:
    """Pearson correlation of per-problem scores; NaN when either side is constant."""
    x, y = _pair(a, b)
    if np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def paired_difference(
    a: ArrayLike, b: ArrayLike, *, clusters: ArrayLike | None = None, confidence: float = 0.95
) -> PairedDifference:
    """Mean paired difference ``b - a`` with ``diff ± z * SE``.

    SE is ``sd(d, ddof=1)/sqrt(n)``, or the clustered SE of ``d`` when ``clusters`` is given and some
    cluster holds more than one problem. Assumes problems (or clusters) are independent draws.
    """
    x, y = _pair(a, b)
    d = y - x
    clustered = has_shared_clusters(clusters)
    se = clustered_se(d, clusters) if clustered else clt_se(d)
    z = float(norm.ppf(0.5 + confidence / 2))
    diff = float(d.mean())
    return PairedDifference(
        n=int(d.size),
        mean_a=float(x.mean()),
        mean_b=float(y.mean()),
        diff=diff,
        se=se,
        ci=(diff - z * se, diff + z * se),
        se_kind="clustered" if clustered else "clt",
        correlation=correlation(x, y),
        sd_diff=float(np.std(d, ddof=1)),
    )


def paired_bootstrap(
    a: ArrayLike,
    b: ArrayLike,
    *,
    rng: np.random.Generator,
    n_resamples: int = 10_000,
    confidence: float = 0.95,
    clusters: ArrayLike | None = None,
    batch: int = 256,
) -> BootstrapResult:
    """Paired bootstrap over problems: resample indices, recompute ``mean(b*) - mean(a*)``.

    The percentile CI equals ``scipy.stats.bootstrap((a, b), ..., paired=True, method='percentile')``
    up to Monte Carlo error. When ``clusters`` is given and some cluster holds several problems, whole
    clusters are resampled instead (the mean is the resampled clusters' total over their problem count),
    which keeps the within-cluster correlation. Draws come only from ``rng``.

    When the differences take few distinct values (at most n/32, e.g. pass/fail outcomes or integer
    edit similarities), a resample is drawn as multinomial counts of those values, which has exactly
    the distribution of resampling indices and costs O(distinct values) instead of O(n) per resample.
    """
    x, y = _pair(a, b)
    if n_resamples < 2:
        raise ValueError(f"n_resamples must be at least 2, got {n_resamples}")
    d = y - x
    sizes = np.ones(d.size)
    if has_shared_clusters(clusters):
        _, codes = np.unique(np.asarray(clusters), return_inverse=True)
        sizes = np.bincount(codes).astype(float)
        d = np.bincount(codes, weights=d)
    n = d.size
    clustered = not np.all(sizes == 1)
    values, freq = np.unique(d, return_counts=True)
    if not clustered and values.size * DISCRETE_RATIO <= n:
        counts = rng.multinomial(n, freq / n, size=n_resamples)
        means = counts @ values / n
    else:
        means = np.empty(n_resamples)
        for start in range(0, n_resamples, batch):
            stop = min(start + batch, n_resamples)
            idx = rng.integers(0, n, size=(stop - start, n))
            means[start:stop] = (
                d[idx].sum(axis=1) / sizes[idx].sum(axis=1) if clustered else d[idx].mean(axis=1)
            )
    tail = (1 - confidence) / 2
    lo, hi = np.quantile(means, [tail, 1 - tail])
    return BootstrapResult(
        ci=(float(lo), float(hi)), se=float(np.std(means, ddof=1)), n_resamples=n_resamples
    )


def mcnemar_exact(a: ArrayLike, b: ArrayLike) -> TestResult:
    """McNemar's exact test for paired binary outcomes (values 0/1).

    With ``n01`` = problems A fails and B passes and ``n10`` = A passes and B fails, the two-sided
    p-value is ``min(1, 2 * BinomCDF(min(n01, n10); n01 + n10, 0.5))``; 1 when there are no discordant
    pairs. Equals ``statsmodels ... mcnemar(table, exact=True)``. ``statistic`` is ``min(n01, n10)``.
    """
    x, y = _pair(a, b)
    if not (np.isin(x, (0.0, 1.0)).all() and np.isin(y, (0.0, 1.0)).all()):
        raise ValueError("McNemar's test needs binary 0/1 outcomes")
    n01 = int(np.sum((x == 0) & (y == 1)))
    n10 = int(np.sum((x == 1) & (y == 0)))
    k = min(n01, n10)
    discordant = n01 + n10
    p = 1.0 if discordant == 0 else float(min(1.0, 2.0 * binom.cdf(k, discordant, 0.5)))
    return TestResult(statistic=float(k), p_value=p, test="mcnemar_exact")


def _sign_matrix_exact(n: int) -> np.ndarray:
    codes = np.arange(2**n, dtype=np.int64)[:, None]
    bits = (codes >> np.arange(n, dtype=np.int64)) & 1
    return 1.0 - 2.0 * bits


def sign_flip_test(
    a: ArrayLike, b: ArrayLike, *, rng: np.random.Generator, n_resamples: int = 10_000, batch: int = 512
) -> TestResult:
    """Paired permutation test of mean(b - a) = 0 by flipping the sign of each difference.

    Exact (all 2^n sign patterns) when ``2^n <= n_resamples`` and n <= 16; otherwise ``n_resamples``
    random patterns from ``rng`` with p-values ``(k + 1) / (n_resamples + 1)`` per side. Two-sided
    p = ``min(1, 2 * min(p_less, p_greater))``, matching ``scipy.stats.permutation_test`` with
    ``permutation_type='samples'``. Assumes differences are symmetric about 0 under the null.
    """
    x, y = _pair(a, b)
    d = y - x
    n = d.size
    observed = float(d.mean())
    tol = abs(observed) * 1e-14 if observed else 1e-14
    exact = n <= EXACT_SIGN_FLIP_MAX_N and 2**n <= n_resamples
    greater = less = 0
    total = 0
    if exact:
        stats = _sign_matrix_exact(n) @ d / n
        greater, less, total = (
            int(np.sum(stats >= observed - tol)),
            int(np.sum(stats <= observed + tol)),
            stats.size,
        )
        p_greater, p_less = greater / total, less / total
    else:
        for start in range(0, n_resamples, batch):
            size = min(batch, n_resamples - start)
            signs = rng.integers(0, 2, size=(size, n), dtype=np.int8) * 2 - 1
            stats = signs @ d / n
            greater += int(np.sum(stats >= observed - tol))
            less += int(np.sum(stats <= observed + tol))
        p_greater, p_less = (greater + 1) / (n_resamples + 1), (less + 1) / (n_resamples + 1)
    p = float(min(1.0, 2 * min(p_greater, p_less)))
    return TestResult(
        statistic=observed,
        p_value=p,
        test="sign_flip_permutation_exact" if exact else "sign_flip_permutation",
    )


def is_binary(values: ArrayLike) -> bool:
    """True when every value is 0 or 1."""
    v = np.asarray(values, dtype=float)
    return bool(v.size and np.isin(v, (0.0, 1.0)).all())
