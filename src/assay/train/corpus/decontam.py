"""Decontamination: drop training files that share a long n-gram with an evaluation benchmark.

The benchmark texts (HumanEval, HumanEval-Infilling, HumanEval-X, MBPP prompts and reference
solutions) ship in ``assay/train/corpus/data/benchmarks.jsonl.gz`` with their license notes in
``data/LICENSES/``; ``pack_benchmarks`` regenerates that file from the raw data sets. A file is
contaminated when any run of ``n`` consecutive whitespace-separated tokens (13 by default, as in
the GPT-3 and StarCoder decontamination) also occurs in a benchmark text.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from assay.errors import ConfigError

DEFAULT_NGRAM = 13
BENCHMARKS_RESOURCE = "data/benchmarks.jsonl.gz"


@dataclass(frozen=True)
class BenchmarkText:
    benchmark: str
    task_id: str
    text: str


@dataclass(frozen=True)
class Contamination:
    benchmark: str
    task_id: str
    ngram: str


def _ngrams(tokens: list[str], n: int) -> Iterator[str]:
    for i in range(len(tokens) - n + 1):
        yield " ".join(tokens[i:i + n])


class Decontaminator:
    """An n-gram index over benchmark texts; ``check(text)`` names the first benchmark a text overlaps."""

    def __init__(self, texts: Iterable[BenchmarkText], n: int = DEFAULT_NGRAM) -> None:
        if n < 1:
            raise ConfigError(f"decontamination n-gram length must be at least 1, got {n}")
        self.n = n
        self._index: dict[int, tuple[str, str]] = {}
        self.benchmarks: set[str] = set()
        for item in texts:
            self.benchmarks.add(item.benchmark)
            for gram in _ngrams(item.text.split(), n):
                self._index.setdefault(hash(gram), (item.benchmark, item.task_id))

    def __len__(self) -> int:
        return len(self._index)

    def check(self, text: str) -> Contamination | None:
        """The first shared n-gram and which benchmark task it comes from, or None for a clean text."""
        for gram in _ngrams(text.split(), self.n):
            hit = self._index.get(hash(gram))
            if hit is not None:
                return Contamination(hit[0], hit[1], gram)
        return None


def load_benchmark_texts(path: Path | None = None) -> list[BenchmarkText]:
    """The packed benchmark texts (the copy inside the package unless ``path`` is given)."""
    if path is None:
        with resources.as_file(resources.files("assay.train.corpus") / BENCHMARKS_RESOURCE) as packed:
            return load_benchmark_texts(packed)
    if not path.is_file():
        raise ConfigError(f"benchmark file {path} does not exist")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [BenchmarkText(**json.loads(line)) for line in fh if line.strip()]


@lru_cache(maxsize=4)
def default_decontaminator(n: int = DEFAULT_NGRAM) -> Decontaminator:
    return Decontaminator(load_benchmark_texts(), n)


def _read_jsonl(path: Path) -> Iterator[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def pack_benchmarks(data_dir: Path, out: Path) -> int:
    """Collect benchmark prompts + solutions from the raw data sets under ``data_dir`` into ``out``.

    Layout expected (as in the project's shared data): ``humaneval/HumanEval.jsonl.gz``,
    ``humaneval-infilling/*.jsonl.gz``, ``humaneval-x/humaneval_*.jsonl.gz``, ``mbpp/mbpp.jsonl``.
    Identical texts are stored once. Returns the number of texts written.
    """
    items: list[BenchmarkText] = []
    for row in _read_jsonl(data_dir / "humaneval" / "HumanEval.jsonl.gz"):
        items.append(BenchmarkText("humaneval", row["task_id"], row["prompt"] + row["canonical_solution"]))
    for path in sorted((data_dir / "humaneval-infilling").glob("*.jsonl.gz")):
        for row in _read_jsonl(path):
            text = row["prompt"] + row["canonical_solution"] + row["suffix"]
            items.append(BenchmarkText("humaneval-infilling", row["task_id"], text))
    for path in sorted((data_dir / "humaneval-x").glob("humaneval_*.jsonl.gz")):
        for row in _read_jsonl(path):
            items.append(BenchmarkText("humaneval-x", row["task_id"], row["prompt"] + row["canonical_solution"]))
    for row in _read_jsonl(data_dir / "mbpp" / "mbpp.jsonl"):
        items.append(BenchmarkText("mbpp", f"mbpp/{row['task_id']}", row["text"]))
        items.append(BenchmarkText("mbpp", f"mbpp/{row['task_id']}", row["code"]))
    seen: set[str] = set()
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with gzip.open(out, "wt", encoding="utf-8") as fh:
        for item in items:
            key = " ".join(item.text.split())
            if key in seen:
                continue
            seen.add(key)
            fh.write(json.dumps({"benchmark": item.benchmark, "task_id": item.task_id, "text": item.text}) + "\n")
            written += 1
    return written
