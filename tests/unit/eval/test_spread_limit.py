"""``--limit`` spreads over source problems, so a small run of an infilling task is not one function."""

from __future__ import annotations

from assay.eval.runner import EvalOptions, run_config, spread_limit
from assay.eval.tasks.base import Problem
from assay.eval.tasks.registry import get_task


def _p(task_id: str, cluster: str = "") -> Problem:
    return Problem(task_id=task_id, prompt="", cluster=cluster)


def test_round_robin_over_sources_in_task_order() -> None:
    problems = [_p("a1", "A"), _p("a2", "A"), _p("a3", "A"), _p("b1", "B"), _p("c1", "C"), _p("c2", "C")]
    assert [p.task_id for p in spread_limit(problems, 3)] == ["a1", "b1", "c1"]
    assert [p.task_id for p in spread_limit(problems, 5)] == ["a1", "a2", "b1", "c1", "c2"]
    assert [p.task_id for p in spread_limit(problems, 99)] == [p.task_id for p in problems]


def test_problems_that_are_their_own_source_keep_the_first_n() -> None:
    problems = get_task("humaneval").problems()
    assert spread_limit(problems, 7) == problems[:7]


def test_a_small_infilling_run_covers_as_many_functions_as_problems() -> None:
    picked = spread_limit(get_task("humaneval-infilling-single-line").problems(), 20)
    assert len(picked) == 20 and len({p.source for p in picked}) == 20


def test_limited_runs_get_their_own_run_id_and_full_runs_keep_theirs() -> None:
    class Gen:
        model = "m"

        def describe(self) -> dict:
            return {"model": "m"}

    task = get_task("humaneval")
    assert "limit_spread" not in run_config(task, Gen(), EvalOptions())
    assert run_config(task, Gen(), EvalOptions(limit=5))["limit_spread"] == "round-robin over source problems"
