"""Published anchors: every canonical solution passes in the real sandbox, with parallel workers.

Slow (they execute thousands of programs) but part of the default test command. Identical programs
are executed once (``assay.eval.tasks.execution`` memoizes by program text): infilling tasks cut from
one function rebuild the same program when filled with their canonical span, so the 5,815 multi-line
tasks need a few hundred real executions; each test asserts how many programs it really ran.
"""

from __future__ import annotations

import asyncio

import pytest

from assay.eval.generate import ReferenceGenerator
from assay.eval.runner import EvalOptions, run_eval
from assay.eval.store import RunStore
from assay.eval.tasks import get_task
from assay.eval.tasks.execution import EXECUTIONS

CANONICAL = [
    ("humaneval", 164),
    ("humaneval-infilling-single-line", 1033),
    ("humaneval-infilling-multi-line", 5815),
    ("humaneval-infilling-random-span", 1640),
    ("humaneval-infilling-random-span-light", 164),
    ("mbpp", 500),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "count"), CANONICAL)
def test_every_canonical_solution_passes(name: str, count: int, db_url: str) -> None:
    store = RunStore(db_url)
    before = EXECUTIONS["count"]
    result = asyncio.run(run_eval(get_task(name), ReferenceGenerator(), store, EvalOptions(workers=4)))
    failed = [(s.task_id, s.outcome, s.detail[-200:]) for s in store.samples(result.run_id) if not s.passed]
    assert failed == []
    assert result.problems == count and result.samples == count
    assert result.scores["pass@1"].mean == 1.0
    assert result.outcomes == {"passed": count}
    executed = EXECUTIONS["count"] - before
    assert 0 <= executed <= count
