"""Loaders for user-supplied CrossCodeEval, RepoBench and SAFIM files (tiny synthetic fixtures in their schemas)."""

from __future__ import annotations

import json

import pytest

from assay.errors import RequestInvalid
from assay.eval.tasks import get_task


def _write(tmp_path, name: str, rows: list[dict]) -> str:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


CCEVAL_ROWS = [
    {"prompt": "import os\n\ndef home():\n    return ", "groundtruth": "os.path.expanduser('~')",
     "right_context": "\n", "metadata": {"task_id": "proj/0", "repository": "proj", "file": "src/util.py"},
     "crossfile_context": {"text": "# from lib.py\n# def helper(): ...\n"}},
    {"prompt": "class A {\n  int f() {\n    return ", "groundtruth": "compute(1, 2);",
     "metadata": {"task_id": "other/1", "repository": "other", "file": "A.java"}},
]


def test_cceval_loads_and_scores_with_its_pinned_metrics(tmp_path) -> None:
    task = get_task("cceval", path=_write(tmp_path, "cceval.jsonl", CCEVAL_ROWS))
    problems = task.problems()
    assert [(p.task_id, p.language, p.cluster, p.suffix) for p in problems] == [
        ("proj/0", "python", "proj", ""), ("other/1", "java", "other", "")]
    processed = task.postprocess(problems[0], "os.path.expanduser('~')  # home\nprint(1)")
    assert processed == "os.path.expanduser('~')"
    exact = task.score(problems[0], processed)
    assert exact.passed and exact.metrics["em_cceval"] == 1.0 and exact.metrics["identifier_em"] == 1.0
    wrong = task.score(problems[1], task.postprocess(problems[1], "compute(1, 3); }\n}"))
    assert not wrong.passed and wrong.outcome == "mismatch"
    assert 0 < wrong.metrics["edit_similarity"] < 100 and wrong.metrics["identifier_f1"] == 1.0


def test_cceval_retrieval_and_fim_options(tmp_path) -> None:
    task = get_task("cceval", path=_write(tmp_path, "c.jsonl", CCEVAL_ROWS), retrieval=True, fim=True)
    p = task.problems()[0]
    assert p.prompt.startswith("# from lib.py\n") and p.prompt.endswith("return ") and p.suffix == "\n"


def test_repobench_scores_the_first_line_with_whitespace_token_match(tmp_path) -> None:
    row = {"repo_name": "r/x", "file_path": "pkg/mod.py", "context": [{"path": "pkg/a.py", "snippet": "def a(): pass"}],
           "import_statement": "from pkg.a import a", "cropped_code": "def b():\n    x = a()",
           "next_line": "    return x  ", "level": "cross_file_first"}
    task = get_task("repobench", path=_write(tmp_path, "rb.jsonl", [row]))
    (p,) = task.problems()
    assert p.prompt.startswith("# Path: pkg/a.py\ndef a(): pass\n# Path: pkg/mod.py\nfrom pkg.a import a\n")
    assert p.cluster == "r/x"
    out = task.postprocess(p, "\n    return  x\n    more()")
    assert out == "    return  x"
    s = task.score(p, out)
    assert s.passed and s.metrics["em_repobench"] == 1.0 and s.metrics["edit_similarity"] < 100


def test_safim_splits_the_eval_prompt_at_the_placeholder(tmp_path) -> None:
    row = {"task_id": "block/1", "lang": "python", "eval_prompt": "def f(x):\n{{completion}}\nprint(f(1))\n",
           "ground_truth": "    return x + 1"}
    task = get_task("safim", path=_write(tmp_path, "s.jsonl", [row]))
    (p,) = task.problems()
    assert (p.prompt, p.suffix) == ("def f(x):\n", "\nprint(f(1))\n")
    assert task.score(p, "    return x+1").passed
    assert not task.score(p, "    return x-1").passed


def test_user_supplied_tasks_need_a_data_file_and_valid_rows(tmp_path) -> None:
    with pytest.raises(RequestInvalid, match="cceval needs its data file"):
        get_task("cceval")
    bad = _write(tmp_path, "s.jsonl", [{"task_id": "x", "lang": "python", "eval_prompt": "no hole", "ground_truth": ""}])
    with pytest.raises(RequestInvalid, match=r"s.jsonl:1: eval_prompt has no \{\{completion\}\} placeholder"):
        get_task("safim", path=bad).problems()
    with pytest.raises(RequestInvalid, match="missing field 'next_line'"):
        get_task("repobench", path=_write(tmp_path, "r.jsonl", [{"repo_name": "a", "file_path": "b.py",
                                                               "cropped_code": ""}])).problems()
