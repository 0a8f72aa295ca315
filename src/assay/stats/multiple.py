"""Multiple-comparison adjustments returning adjusted p-values in the input order.

Reject hypothesis i at level alpha when its adjusted p-value is at most alpha. Both equal
``statsmodels.stats.multitest.multipletests`` with ``method='holm'`` / ``method='fdr_bh'``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike


def _as_p(p_values: ArrayLike) -> np.ndarray:
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"p-values must be a 1-d array, got shape {p.shape}")
    if np.any((p < 0) | (p > 1) | np.isnan(p)):
        raise ValueError("p-values must lie in [0, 1]")
    return p


def _adjust(p_values: ArrayLike, step: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Apply ``step`` to the ascending p-values, cap at 1 and return them in the input order."""
    p = _as_p(p_values)
    if p.size == 0:
        return p
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(p.size)
    adjusted[order] = np.minimum(step(p[order]), 1.0)
    return adjusted


def holm(p_values: ArrayLike) -> np.ndarray:
    """Holm's step-down adjustment (controls the family-wise error rate)."""
    return _adjust(p_values, lambda p: np.maximum.accumulate((p.size - np.arange(p.size)) * p))


def benjamini_hochberg(p_values: ArrayLike) -> np.ndarray:
    """Benjamini–Hochberg step-up adjustment (controls the false discovery rate)."""

    def step(p: np.ndarray) -> np.ndarray:
        scaled = p * p.size / np.arange(1, p.size + 1)
        return np.minimum.accumulate(scaled[::-1])[::-1]

    return _adjust(p_values, step)
