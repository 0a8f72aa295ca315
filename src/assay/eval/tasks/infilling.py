"""HumanEval-Infilling (Bavarian et al. 2022): fill a masked span of a HumanEval solution.

Four sets, all cut from the same 164 HumanEval functions (``cluster`` = ``HumanEval/<k>``):
single-line (1,033), multi-line (5,815), random-span (1,640), random-span-light (164).
Scored by execution, pass@k on ``prompt + completion + suffix + "\\n" + test + "\\n" + check(entry_point)``,
with exact match (``em_santacoder``: stripped equality) and first-line EM as extra metrics.

The upstream loader maps random-span to ``HumanEval-RandomSpan.jsonl.gz``; the real files end in
``…Infilling.jsonl.gz`` and that is what is read here.
"""

from __future__ import annotations

from pathlib import Path

from assay.eval.metrics import edit_similarity, em_first_line, em_santacoder
from assay.eval.tasks.base import DATA_DIR, Problem, Score, Task, read_jsonl, require
from assay.eval.tasks.execution import run_python_program
from assay.eval.tasks.registry import register

SUBSETS = {
    "single-line": "HumanEval-SingleLineInfilling.jsonl.gz",
    "multi-line": "HumanEval-MultiLineInfilling.jsonl.gz",
    "random-span": "HumanEval-RandomSpanInfilling.jsonl.gz",
    "random-span-light": "HumanEval-RandomSpanInfillingLight.jsonl.gz",
}
FIELDS = ("task_id", "prompt", "suffix", "test", "entry_point")


def source_problem(task_id: str) -> str:
    """``SingleLineInfilling/HumanEval/7/L3`` → ``HumanEval/7``; ids without that shape are their own source."""
    parts = task_id.split("/")
    if "HumanEval" in parts:
        i = parts.index("HumanEval")
        return "/".join(parts[i:i + 2])
    return task_id


class HumanEvalInfilling(Task):
    kind = "execution"
    language = "python"
    max_tokens = 128

    def __init__(self, subset: str = "single-line", path: str | Path | None = None) -> None:
        self.subset = subset
        self.name = f"humaneval-infilling-{subset}"
        self.path = Path(path) if path else DATA_DIR / "humaneval-infilling" / SUBSETS[subset]
        if subset == "single-line":
            self.stop = ("\n",)

    def problems(self) -> list[Problem]:
        out = []
        for row in read_jsonl(self.path):
            require(row, FIELDS, str(self.path))
            out.append(Problem(task_id=row["task_id"], prompt=row["prompt"], suffix=row["suffix"],
                               reference=row.get("canonical_solution", ""), language="python",
                               cluster=source_problem(row["task_id"]), file_name="solution.py", data=row))
        return out

    def program(self, problem: Problem, completion: str) -> str:
        d = problem.data
        return problem.prompt + completion + problem.suffix + "\n" + d["test"] + "\n" + f"check({d['entry_point']})"

    def score(self, problem: Problem, completion: str) -> Score:
        executed = run_python_program(self.program(problem, completion), self.timeout_s)
        metrics = {
            "em_santacoder": float(em_santacoder(completion, problem.reference)),
            "em_first_line": float(em_first_line(completion, problem.reference)),
            "edit_similarity": float(edit_similarity(completion, problem.reference)),
        }
        return Score(passed=executed.passed, outcome=executed.outcome, metrics=metrics,
                     detail=executed.detail, exec_s=executed.exec_s)

    def describe(self) -> dict:
        return super().describe() | {"subset": self.subset}


def _factory(subset: str):
    def build(path: str | None = None) -> Task:
        return HumanEvalInfilling(subset, path)

    build.__doc__ = f"HumanEval-Infilling {subset}"
    return build


for _subset in SUBSETS:
    register(f"humaneval-infilling-{_subset}", f"HumanEval-Infilling, {_subset} ({SUBSETS[_subset]})")(_factory(_subset))
register("humaneval-infilling", "HumanEval-Infilling single-line (alias of humaneval-infilling-single-line)")(
    _factory("single-line"))
