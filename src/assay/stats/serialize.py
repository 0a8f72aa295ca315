"""Turn the statistics' result dataclasses into JSON-ready values (NaN and infinities become null)."""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Any

import numpy as np


def to_jsonable(value: Any) -> Any:
    """Dataclasses to dicts, tuples to lists, enums to their values, numpy scalars to Python numbers."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
