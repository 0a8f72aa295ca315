"""Per-arm sufficient statistics: the means and covariance of per-unit quantities (one unit = one user).

``JointMoments`` holds, for ``k`` per-unit quantities, their sample means and their covariance matrix.
Variances use ``n - 1`` for general quantities; for 0/1 proportions GrowthBook uses ``p(1 - p)`` (no
``n/(n-1)`` factor), which ``proportion`` reproduces (evaluation-reference.md §3.3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class JointMoments:
    """Sample size, mean vector (k,) and covariance matrix (k, k) of k per-unit quantities."""

    n: int
    mean: np.ndarray
    cov: np.ndarray

    def __post_init__(self) -> None:
        if self.n < 2:
            raise ValueError(f"an arm needs at least 2 units, got {self.n}")
        if self.cov.shape != (self.mean.size, self.mean.size):
            raise ValueError(f"cov has shape {self.cov.shape}, expected {(self.mean.size, self.mean.size)}")

    @classmethod
    def from_columns(cls, *columns: ArrayLike) -> JointMoments:
        """Moments of the given per-unit columns (equal length), covariance with ``n - 1``."""
        data = np.vstack([np.asarray(c, dtype=float) for c in columns])
        n = data.shape[1]
        if n < 2:
            raise ValueError(f"an arm needs at least 2 units, got {n}")
        return cls(n=n, mean=data.mean(axis=1), cov=np.atleast_2d(np.cov(data, ddof=1)))

    @classmethod
    def from_sums(cls, n: int, sums: ArrayLike, sums_of_products: ArrayLike) -> JointMoments:
        """Moments from ``sum_i x_i`` (k,) and ``sum_i x_i x_i^T`` (k, k): GrowthBook's input form."""
        s = np.atleast_1d(np.asarray(sums, dtype=float))
        sp = np.atleast_2d(np.asarray(sums_of_products, dtype=float))
        if n < 2:
            raise ValueError(f"an arm needs at least 2 units, got {n}")
        cov = (sp - np.outer(s, s) / n) / (n - 1)
        return cls(n=n, mean=s / n, cov=cov)

    def sums(self) -> tuple[np.ndarray, np.ndarray]:
        """Inverse of ``from_sums``: ``(sum x, sum x x^T)``."""
        s = self.mean * self.n
        return s, self.cov * (self.n - 1) + np.outer(s, s) / self.n

    def pooled(self, other: JointMoments) -> JointMoments:
        """Moments of the two samples taken together."""
        s1, sp1 = self.sums()
        s2, sp2 = other.sums()
        return JointMoments.from_sums(self.n + other.n, s1 + s2, sp1 + sp2)


def sample_mean(total: float, sum_squares: float, n: int) -> JointMoments:
    """One quantity from its sum and sum of squares (GrowthBook ``SampleMeanStatistic``)."""
    return JointMoments.from_sums(n, [total], [[sum_squares]])


def proportion(successes: float, n: int) -> JointMoments:
    """A 0/1 outcome with variance ``p(1 - p)`` (GrowthBook ``ProportionStatistic``)."""
    if n < 2 or not 0 <= successes <= n:
        raise ValueError(f"need n >= 2 and 0 <= successes <= n, got successes={successes}, n={n}")
    p = successes / n
    return JointMoments(n=n, mean=np.array([p]), cov=np.array([[p * (1 - p)]]))
