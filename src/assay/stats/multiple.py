"""Multiple-comparison adjustments returning adjusted p-values in the input order.

Reject hypothesis i at level alpha when its adjusted p-value is at most alpha. Both equal
``statsmodels.stats.multitest.multipletests`` with ``method='holm'`` / ``method='fdr_bh'``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _as_p(p_values: ArrayLike) -> np.ndarray:
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"p-values must be a 1-d array, got shape {p.shape}")
    if np.any((p < 0) | (p > 1) | np.isnan(p)):
        raise ValueError("p-values must lie in [0, 1]")
    return p


def holm(p_values: ArrayLike) -> np.ndarray:
    """Holm's step-down adjustment (controls the family-wise error rate)."""
    p = _as_p(p_values)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def benjamini_hochberg(p_values: ArrayLike) -> np.ndarray:
    """Benjamini–Hochberg step-up adjustment (controls the false discovery rate)."""
    p = _as_p(p_values)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    stepped = np.minimum.accumulate(scaled[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted
