"""The row every mined evaluation set is made of, and its JSONL reading and writing."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assay.errors import RequestInvalid
from assay.eval.tasks.base import read_jsonl


@dataclass(frozen=True)
class FeatureCase:
    """One evaluation case for a prompt feature: the prompt's ``inputs`` and the human ``reference``."""

    id: str
    feature: str
    """A prompt-registry feature id, e.g. ``generate_commit_message``."""
    inputs: dict[str, Any]
    reference: str
    source: dict[str, Any] = field(default_factory=dict)
    """Where the case came from: repository, commit, author, date, command, ..."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_row(cls, row: dict[str, Any], where: str) -> FeatureCase:
        for name in ("id", "feature", "inputs", "reference"):
            if name not in row:
                raise RequestInvalid(f"{where}: missing field '{name}'")
        if not isinstance(row["inputs"], dict):
            raise RequestInvalid(f"{where}: 'inputs' must be an object")
        return cls(id=str(row["id"]), feature=str(row["feature"]), inputs=row["inputs"],
                   reference=str(row["reference"]), source=dict(row.get("source") or {}))


def write_cases(cases: Iterable[FeatureCase], path: Path | str) -> int:
    """Write ``cases`` as JSONL (parent folders created); returns how many were written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        for case in cases:
            fh.write(json.dumps(case.as_dict(), ensure_ascii=False) + "\n")
            count += 1
    return count


def read_cases(path: Path | str) -> list[FeatureCase]:
    """Cases of a JSONL file; ``RequestInvalid`` naming the file and row on a malformed one."""
    return [FeatureCase.from_row(row, f"{path}: row {i}") for i, row in enumerate(read_jsonl(path), 1)]
