"""Exact and near-duplicate removal (MinHash/LSH) and benchmark decontamination."""

from __future__ import annotations

from assay.train.corpus.decontam import (
    BenchmarkText,
    Decontaminator,
    default_decontaminator,
    load_benchmark_texts,
)
from assay.train.corpus.dedup import DedupConfig, Deduplicator


def _module(seed: int, lines: int = 60) -> str:
    return "def compute(x):\n" + "\n".join(
        f"    value_{seed}_{i} = transform(x, {i}) + helper_{i % 7}(value_{seed}_{i - 1})" for i in range(lines))


def test_exact_and_near_duplicates() -> None:
    dedup = Deduplicator()
    original = _module(1)
    near = original.replace("transform(x, 30)", "transform(x, 31)")
    assert dedup.add("a.py", original) == "unique"
    assert dedup.add("b.py", original) == "exact_duplicate"
    assert dedup.add("c.py", near) == "near_duplicate"
    assert dedup.add("d.py", _module(2)) == "unique"
    assert dedup.duplicate_of == {"b.py": "a.py", "c.py": "a.py"}


def test_threshold_separates_partial_overlap() -> None:
    half = "\n".join(_module(1).splitlines()[:30]) + "\n" + "\n".join(_module(3).splitlines()[30:])
    strict = Deduplicator(DedupConfig(threshold=0.9))
    strict.add("a.py", _module(1))
    assert strict.add("half.py", half) == "unique"


def test_packaged_benchmarks_cover_every_set() -> None:
    texts = load_benchmark_texts()
    assert {t.benchmark for t in texts} == {"humaneval", "humaneval-infilling", "humaneval-x", "mbpp"}
    assert len(texts) > 2000


def test_humaneval_solution_pasted_into_a_file_is_caught() -> None:
    humaneval = {t.task_id: t.text for t in load_benchmark_texts() if t.benchmark == "humaneval"}
    solution = humaneval["HumanEval/2"]
    assert "truncate_number" in solution
    contaminated = "import math\n\n" + solution + "\n\nif __name__ == '__main__':\n    print(truncate_number(3.5))\n"
    hit = default_decontaminator().check(contaminated)
    assert hit is not None and hit.benchmark == "humaneval" and hit.task_id == "HumanEval/2"
    assert default_decontaminator().check(_module(5)) is None


def test_ngram_length_decides() -> None:
    index = Decontaminator([BenchmarkText("b", "t/1", "one two three four five six")], n=4)
    assert index.check("zero one two three four") is not None
    assert index.check("one two three zero four five six") is None
