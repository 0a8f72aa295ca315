"""HumanEval (Chen et al. 2021): 164 Python functions, pass@k by executing the unit tests.

Program = ``prompt + completion + "\\n" + test + "\\n" + f"check({entry_point})"`` (openai/human-eval
``execution.py``). Completions are cut at the stop sequences human-eval's paper used.
"""

from __future__ import annotations

from pathlib import Path

from assay.eval.tasks.base import DATA_DIR, Problem, Score, Task, read_jsonl, require
from assay.eval.tasks.execution import run_python_program
from assay.eval.tasks.registry import register

HUMANEVAL_FILE = DATA_DIR / "humaneval" / "HumanEval.jsonl.gz"
STOP = ("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#")
FIELDS = ("task_id", "prompt", "test", "entry_point")


def truncate_at_stop(text: str, stop: tuple[str, ...]) -> str:
    """The text before the earliest stop sequence."""
    cut = min((i for s in stop if (i := text.find(s)) != -1), default=len(text))
    return text[:cut]


class HumanEval(Task):
    name = "humaneval"
    kind = "execution"
    language = "python"
    max_tokens = 512
    stop = STOP

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else HUMANEVAL_FILE

    def problems(self) -> list[Problem]:
        out = []
        for row in read_jsonl(self.path):
            require(row, FIELDS, str(self.path))
            out.append(Problem(task_id=row["task_id"], prompt=row["prompt"],
                               reference=row.get("canonical_solution", ""), language="python",
                               cluster=row["task_id"], file_name="solution.py", data=row))
        return out

    def postprocess(self, problem: Problem, completion: str) -> str:
        return truncate_at_stop(completion, self.stop)

    def program(self, problem: Problem, completion: str) -> str:
        d = problem.data
        return problem.prompt + completion + "\n" + d["test"] + "\n" + f"check({d['entry_point']})"

    def score(self, problem: Problem, completion: str) -> Score:
        return run_python_program(self.program(problem, completion), self.timeout_s)


@register("humaneval", "HumanEval: 164 Python functions, pass@k by execution")
def humaneval(path: str | None = None) -> Task:
    """HumanEval; ``path`` reads another file in the same format (e.g. the README's example_problem.jsonl)."""
    return HumanEval(path)
