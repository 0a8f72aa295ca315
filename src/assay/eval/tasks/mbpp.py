"""MBPP (Austin et al. 2021): 500 test problems (task ids 11–510), 3-shot prompt, pass@k by execution.

The prompt is the original paper's (google-research ``mbpp/README.md``): tasks 2, 3 and 4 as worked
examples, each ``You are an expert Python programmer, and here is your task: {text} Your code should
pass these tests:\\n\\n{tests}\\n[BEGIN]\\n{code}\\n[DONE]``, then the problem up to ``[BEGIN]``.
The completion is cut at ``[DONE]``. Program = ``completion + test_setup_code + the three asserts`` (the setup of tasks 367 and 927
builds trees with the class the solution defines). Timeout 20 s: task 123's reference solution takes ~7 s on a busy 2-core machine.
The packaged file is MBPP as shipped by DeepSeek-Coder (sha256 ``ccf64cea…``, see LICENSE.txt).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assay.eval.tasks.base import DATA_DIR, Problem, Score, Task, read_jsonl, require
from assay.eval.tasks.execution import run_python_program
from assay.eval.tasks.humaneval import truncate_at_stop
from assay.eval.tasks.registry import register

MBPP_FILE = DATA_DIR / "mbpp" / "mbpp.jsonl"
FEW_SHOT_IDS = (2, 3, 4)
TEST_IDS = range(11, 511)
FIELDS = ("task_id", "text", "code", "test_list")


def _code(text: str) -> str:
    return text.replace("\r\n", "\n")


def _header(row: dict[str, Any]) -> str:
    tests = "\n".join(row["test_list"])
    return (f"You are an expert Python programmer, and here is your task: {row['text']} "
            f"Your code should pass these tests:\n\n{tests}\n[BEGIN]\n")


def few_shot_prompt(examples: list[dict[str, Any]], target: dict[str, Any]) -> str:
    """The 3-shot prompt of the MBPP paper for ``target``."""
    shots = "".join(_header(r) + _code(r["code"]) + "\n[DONE]\n" for r in examples)
    return shots + _header(target)


class MBPP(Task):
    name = "mbpp"
    kind = "execution"
    language = "python"
    max_tokens = 512
    stop = ("[DONE]",)
    timeout_s = 20.0

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else MBPP_FILE

    def problems(self) -> list[Problem]:
        rows = {}
        for row in read_jsonl(self.path):
            require(row, FIELDS, str(self.path))
            rows[int(row["task_id"])] = row
        missing = [i for i in FEW_SHOT_IDS if i not in rows]
        if missing:
            raise_missing(self.path, missing)
        shots = [rows[i] for i in FEW_SHOT_IDS]
        return [
            Problem(task_id=f"MBPP/{i}", prompt=few_shot_prompt(shots, rows[i]), reference=_code(rows[i]["code"]),
                    language="python", cluster=f"MBPP/{i}", file_name="solution.py", data=rows[i])
            for i in TEST_IDS if i in rows
        ]

    def postprocess(self, problem: Problem, completion: str) -> str:
        return truncate_at_stop(completion, self.stop)

    def program(self, problem: Problem, completion: str) -> str:
        d = problem.data
        setup = _code(d.get("test_setup_code") or "")
        return completion + "\n" + setup + "\n" + "\n".join(d["test_list"]) + "\n"

    def score(self, problem: Problem, completion: str) -> Score:
        return run_python_program(self.program(problem, completion), self.timeout_s)


def raise_missing(path: Path, ids: list[int]) -> None:
    from assay.errors import RequestInvalid

    raise RequestInvalid(f"{path}: the few-shot examples need task ids {', '.join(map(str, ids))}")


@register("mbpp", "MBPP test split (task ids 11-510), 3-shot prompt, pass@k by execution")
def mbpp(path: str | None = None) -> Task:
    return MBPP(path)
