"""Standard errors of a mean over problems (evaluation-reference.md §3.1).

The problem is the statistical unit: ``scores`` holds one value per problem. When problems share a
source (many infilling tasks cut from one HumanEval function), pass the source as ``clusters`` and use
the clustered standard error, which is what inspect_ai's ``stderr(cluster=...)`` computes.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _as_scores(scores: ArrayLike) -> np.ndarray:
    s = np.asarray(scores, dtype=float)
    if s.ndim != 1 or s.size < 2:
        raise ValueError(f"need a 1-d array of at least 2 per-problem scores, got shape {s.shape}")
    return s


def clt_se(scores: ArrayLike) -> float:
    """Standard error of the mean, ``sd(s, ddof=1) / sqrt(n)`` (lm-eval ``mean_stderr``)."""
    s = _as_scores(scores)
    return float(np.std(s, ddof=1) / np.sqrt(s.size))


def clustered_se(scores: ArrayLike, clusters: ArrayLike, *, finite_cluster_correction: bool = True) -> float:
    """Cluster-robust standard error of the mean.

    ``SE = sqrt(C/(C-1) * sum_c (sum_{i in c} (s_i - mean))^2) / n`` with C clusters. The factor
    ``C/(C-1)`` matches inspect_ai; ``finite_cluster_correction=False`` gives Miller (2024) App. A.
    Needs at least two clusters.
    """
    s = _as_scores(scores)
    c = np.asarray(clusters)
    if c.shape != s.shape:
        raise ValueError(f"clusters has shape {c.shape}, scores has shape {s.shape}")
    _, codes = np.unique(c, return_inverse=True)
    n_clusters = int(codes.max()) + 1
    if n_clusters < 2:
        raise ValueError("a clustered standard error needs at least 2 clusters")
    sums = np.bincount(codes, weights=s - s.mean(), minlength=n_clusters)
    total = float(np.sum(sums**2))
    if finite_cluster_correction:
        total *= n_clusters / (n_clusters - 1)
    return float(np.sqrt(total) / s.size)


def has_shared_clusters(clusters: ArrayLike | None) -> bool:
    """True when ``clusters`` is given and at least one cluster holds more than one problem."""
    if clusters is None:
        return False
    _, counts = np.unique(np.asarray(clusters), return_counts=True)
    return bool(counts.size >= 2 and counts.max() > 1)
