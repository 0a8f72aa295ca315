"""HumanEval-X in each language whose toolchain is installed and reachable inside the sandbox; a clear
``ConfigError`` naming the tool for the others (go is not installed here; a rustup rustc under ~/.cargo is
invisible to the sandbox). Compiling is slow, so each language runs its first three problems."""

from __future__ import annotations

import asyncio

import pytest

from assay.errors import ConfigError
from assay.eval.generate import ReferenceGenerator
from assay.eval.runner import EvalOptions, run_eval
from assay.eval.store import RunStore
from assay.eval.tasks import get_task


@pytest.mark.slow
@pytest.mark.parametrize("language", ["python", "cpp", "java", "js", "go", "rust"])
def test_canonical_solutions_pass_and_broken_ones_fail(language: str, db_url: str) -> None:
    try:
        task = get_task(f"humaneval-x-{language}")
    except ConfigError as exc:
        tool = {"go": "go", "rust": "rustc", "java": "java", "cpp": "g++", "js": "node"}.get(language, language)
        assert f"humaneval-x-{language}" in exc.message and tool in exc.message
        assert language not in ("python",)
        return
    result = asyncio.run(run_eval(task, ReferenceGenerator(), RunStore(db_url), EvalOptions(limit=3, workers=2)))
    assert result.outcomes == {"passed": 3}
    problem = task.problems()[0]
    broken = task.score(problem, problem.reference.replace("return", "retrun", 1))
    assert not broken.passed and broken.outcome == "failed" and broken.detail
