"""The per-user experiment table that online analysis reads, and its CSV / JSON / JSONL loader.

One row is one user, or one user on one day when the ``date`` column is present (then daily rows are
summed per user, and cumulative analyses cut the table at each day). The gateway's event store
aggregates its events into this shape; files in the same shape work today.

Columns (all but ``user_id`` and ``arm`` optional, default 0 / empty):

- ``user_id``, ``arm``: the randomization unit and its assigned arm;
- ``shown``, ``accepted``: suggestions shown and accepted in the experiment period;
- ``pre_shown``, ``pre_accepted``: the same user's counts before the experiment (CUPED covariate;
  with dated rows, give them on one row or repeat them: the largest value per user is used);
- ``latency_ms``: per-request latencies (a JSON list, or ``;``-separated in CSV);
- ``errors``, ``requests``: failed and total requests; ``cost``: cost in any one currency unit;
- ``date``: ISO date of the row; ``experiment``: the experiment's name (rows of other experiments are
  dropped by ``load_user_table(..., experiment=NAME)``).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assay.errors import RequestInvalid

COUNT_COLUMNS = ("shown", "accepted", "pre_shown", "pre_accepted", "errors", "requests", "cost")


class UserRow(BaseModel):
    """One validated input row."""

    model_config = ConfigDict(extra="ignore")

    user_id: str = Field(min_length=1)
    arm: str = Field(min_length=1)
    shown: float = Field(default=0, ge=0)
    accepted: float = Field(default=0, ge=0)
    pre_shown: float = Field(default=0, ge=0)
    pre_accepted: float = Field(default=0, ge=0)
    errors: float = Field(default=0, ge=0)
    requests: float = Field(default=0, ge=0)
    cost: float = Field(default=0, ge=0)
    latency_ms: list[float] = Field(default_factory=list)
    date: dt.date | None = None
    experiment: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _blank_cells_are_missing(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None and v != ""}
        return data

    @field_validator("user_id", "arm", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value

    @field_validator("latency_ms", mode="before")
    @classmethod
    def _latencies(cls, value: Any) -> Any:
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return [float(v) for v in value.replace(",", ";").split(";") if v.strip()]
        if isinstance(value, int | float):
            return [value]
        return value

    @field_validator("date", mode="before")
    @classmethod
    def _day(cls, value: Any) -> Any:
        if value in (None, ""):
            return None
        if isinstance(value, str) and len(value) > 10:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        return value

    @model_validator(mode="after")
    def _consistent(self) -> UserRow:
        if self.accepted > self.shown:
            raise ValueError(f"accepted ({self.accepted:g}) exceeds shown ({self.shown:g})")
        if self.pre_accepted > self.pre_shown:
            raise ValueError(f"pre_accepted ({self.pre_accepted:g}) exceeds pre_shown ({self.pre_shown:g})")
        if self.errors > self.requests and self.requests > 0:
            raise ValueError(f"errors ({self.errors:g}) exceed requests ({self.requests:g})")
        return self


@dataclass(frozen=True)
class UserTable:
    """Column arrays of equal length; ``latency_ms`` holds one float array per row."""

    user_id: np.ndarray
    arm: np.ndarray
    shown: np.ndarray
    accepted: np.ndarray
    pre_shown: np.ndarray
    pre_accepted: np.ndarray
    errors: np.ndarray
    requests: np.ndarray
    cost: np.ndarray
    latency_ms: tuple[np.ndarray, ...]
    date: np.ndarray | None = None
    arm_order: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        n = self.user_id.size
        for name in ("arm", *COUNT_COLUMNS):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"column {name} has {getattr(self, name).size} rows, user_id has {n}")
        if len(self.latency_ms) != n or (self.date is not None and self.date.shape != (n,)):
            raise ValueError("latency_ms and date need one entry per row")
        if not self.arm_order:
            object.__setattr__(self, "arm_order", tuple(dict.fromkeys(self.arm.tolist())))

    def __len__(self) -> int:
        return int(self.user_id.size)

    @classmethod
    def from_rows(cls, rows: list[UserRow]) -> UserTable:
        """Build a table from validated rows (dates must be given on every row or on none)."""
        if not rows:
            raise ValueError("the experiment table has no rows")
        dated = [r.date is not None for r in rows]
        if any(dated) and not all(dated):
            raise ValueError("the date column must be filled on every row or on none")
        return cls(
            user_id=np.array([r.user_id for r in rows], dtype=object),
            arm=np.array([r.arm for r in rows], dtype=object),
            **{c: np.array([getattr(r, c) for r in rows], dtype=float) for c in COUNT_COLUMNS},
            latency_ms=tuple(np.asarray(r.latency_ms, dtype=float) for r in rows),
            date=np.array([r.date for r in rows], dtype="datetime64[D]") if all(dated) else None,
        )

    def take(self, mask: np.ndarray) -> UserTable:
        """The rows where ``mask`` is true, keeping the arm order."""
        return UserTable(
            user_id=self.user_id[mask],
            arm=self.arm[mask],
            **{c: getattr(self, c)[mask] for c in COUNT_COLUMNS},
            latency_ms=tuple(lat for lat, keep in zip(self.latency_ms, mask, strict=True) if keep),
            date=None if self.date is None else self.date[mask],
            arm_order=self.arm_order,
        )

    def days(self) -> list[np.datetime64]:
        """Distinct dates in order; empty when the table has no date column."""
        return [] if self.date is None else sorted(set(self.date.tolist()))

    def until(self, day: dt.date | np.datetime64) -> UserTable:
        """Rows dated on or before ``day``."""
        if self.date is None:
            raise ValueError("the table has no date column")
        return self.take(self.date <= np.datetime64(day, "D"))

    def per_user(self) -> UserTable:
        """One row per user: counts and latencies summed over days; pre-period counts taken once.

        Raises ``ValueError`` when a user appears in two arms (the assignment is broken).
        """
        users, first, codes = np.unique(self.user_id.astype(str), return_index=True, return_inverse=True)
        if users.size == self.user_id.size:
            return self if self.date is None else self._without_date()
        arms_per_user = {(u, a) for u, a in zip(codes.tolist(), self.arm.tolist(), strict=True)}
        if len(arms_per_user) != users.size:
            raise ValueError("a user appears in more than one arm; assignment must be per user")

        def total(col: np.ndarray) -> np.ndarray:
            return np.bincount(codes, weights=col, minlength=users.size)

        def once(col: np.ndarray) -> np.ndarray:
            out = np.zeros(users.size)
            np.maximum.at(out, codes, col)
            return out

        order = np.argsort(codes, kind="stable")
        latencies: list[list[np.ndarray]] = [[] for _ in range(users.size)]
        for i in order:
            latencies[codes[i]].append(self.latency_ms[i])
        return UserTable(
            user_id=users.astype(object),
            arm=self.arm[first],
            **{c: total(getattr(self, c)) for c in ("shown", "accepted", "errors", "requests", "cost")},
            pre_shown=once(self.pre_shown),
            pre_accepted=once(self.pre_accepted),
            latency_ms=tuple(np.concatenate(parts) if parts else np.empty(0) for parts in latencies),
            date=None,
            arm_order=self.arm_order,
        )

    def _without_date(self) -> UserTable:
        cols = {c: getattr(self, c) for c in COUNT_COLUMNS}
        return UserTable(
            self.user_id, self.arm, **cols, latency_ms=self.latency_ms, date=None, arm_order=self.arm_order
        )


def _records(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return list(csv.DictReader(text.splitlines()))
    if suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    if isinstance(data, dict):
        data = data.get("users", data.get("rows"))
    if not isinstance(data, list):
        raise RequestInvalid(f"{path}: expected a list of rows, or an object with a 'users' list")
    return data


def load_user_table(path: str | Path, *, experiment: str | None = None) -> UserTable:
    """Read a per-user table from ``.csv``, ``.json`` or ``.jsonl``.

    Rows carrying an ``experiment`` value other than ``experiment`` are dropped. Raises
    ``RequestInvalid`` naming the file, row and field when the input is malformed.
    """
    p = Path(path)
    if not p.is_file():
        raise RequestInvalid(f"events file not found: {p}")
    try:
        records = _records(p)
    except (json.JSONDecodeError, UnicodeDecodeError, csv.Error) as exc:
        raise RequestInvalid(f"{p}: not valid CSV / JSON ({exc})") from None
    rows: list[UserRow] = []
    for i, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise RequestInvalid(f"{p}: row {i} is not an object")
        if experiment is not None and record.get("experiment") not in (None, "", experiment):
            continue
        try:
            row = UserRow.model_validate(record)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(x) for x in err["loc"]) or "row"
            raise RequestInvalid(f"{p}: row {i}: {where}: {err['msg']}") from None
        except ValueError as exc:
            raise RequestInvalid(f"{p}: row {i}: {exc}") from None
        rows.append(row)
    if not rows:
        raise RequestInvalid(f"{p}: no rows for experiment {experiment!r}" if experiment else f"{p}: no rows")
    try:
        return UserTable.from_rows(rows)
    except ValueError as exc:
        raise RequestInvalid(f"{p}: {exc}") from None
