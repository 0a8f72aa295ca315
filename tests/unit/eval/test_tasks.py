"""Task registry and the packaged benchmark data: counts, ids, prompts and the programs built for scoring."""

from __future__ import annotations

import hashlib

import pytest

from assay.errors import ConfigError, RequestInvalid
from assay.eval.tasks import get_task, task_help, task_names
from assay.eval.tasks.base import DATA_DIR
from assay.eval.tasks.infilling import source_problem

EXPECTED_COUNTS = {
    "humaneval": 164,
    "humaneval-infilling": 1033,
    "humaneval-infilling-single-line": 1033,
    "humaneval-infilling-multi-line": 5815,
    "humaneval-infilling-random-span": 1640,
    "humaneval-infilling-random-span-light": 164,
    "mbpp": 500,
}


def test_registry_lists_every_task_with_help() -> None:
    names = task_names()
    for name in [*EXPECTED_COUNTS, "humaneval-x-python", "humaneval-x-cpp", "humaneval-x-java", "humaneval-x-js",
                 "humaneval-x-go", "humaneval-x-rust", "repo-fim", "cceval", "repobench", "safim"]:
        assert name in names
    assert all(task_help()[n] for n in names)


def test_unknown_task_names_the_known_ones() -> None:
    with pytest.raises(RequestInvalid, match="unknown task 'humaneva'; known tasks: .*humaneval"):
        get_task("humaneva")


def test_unknown_task_option_is_a_request_error() -> None:
    with pytest.raises(RequestInvalid, match="does not take these options"):
        get_task("humaneval", colour="red")


@pytest.mark.parametrize(("name", "count"), sorted(EXPECTED_COUNTS.items()))
def test_packaged_data_has_the_published_problem_counts(name: str, count: int) -> None:
    problems = get_task(name).problems()
    assert len(problems) == count
    assert len({p.task_id for p in problems}) == count


def test_infilling_clusters_on_the_source_function() -> None:
    assert source_problem("MultiLineInfilling/HumanEval/12/L0_L3") == "HumanEval/12"
    problems = get_task("humaneval-infilling-multi-line").problems()
    assert len({p.cluster for p in problems}) == 164
    assert all(p.cluster.startswith("HumanEval/") for p in problems)
    assert sum(bool(p.suffix) for p in problems) > 4500


def test_humaneval_program_is_the_reference_concatenation() -> None:
    task = get_task("humaneval")
    p = task.problems()[0]
    prog = task.program(p, "    return True\n")
    assert prog == p.prompt + "    return True\n" + "\n" + p.data["test"] + "\n" + "check(has_close_elements)"


def test_humaneval_postprocess_cuts_at_the_next_top_level_statement() -> None:
    task = get_task("humaneval")
    p = task.problems()[0]
    assert task.postprocess(p, "    return 1\n\ndef other():\n    pass\n") == "    return 1\n"
    assert task.postprocess(p, "    return 1\nif __name__ == '__main__':\n") == "    return 1"


def test_infilling_program_puts_the_suffix_after_the_completion() -> None:
    task = get_task("humaneval-infilling-random-span-light")
    p = task.problems()[3]
    prog = task.program(p, "XX")
    assert prog == p.prompt + "XX" + p.suffix + "\n" + p.data["test"] + "\n" + f"check({p.data['entry_point']})"


def test_mbpp_uses_the_test_split_and_the_papers_three_shot_prompt() -> None:
    task = get_task("mbpp")
    problems = task.problems()
    assert [p.task_id for p in problems] == [f"MBPP/{i}" for i in range(11, 511)]
    prompt = problems[0].prompt
    assert prompt.count("You are an expert Python programmer, and here is your task:") == 4
    assert prompt.count("[DONE]") == 3
    assert "similar_elements" in prompt and "is_not_prime" in prompt and "heap_queue_largest" in prompt
    assert prompt.endswith("Your code should pass these tests:\n\n" + "\n".join(problems[0].data["test_list"])
                           + "\n[BEGIN]\n")
    assert "\r" not in prompt
    assert task.postprocess(problems[0], "def f():\n    pass\n[DONE]\nmore") == "def f():\n    pass\n"


def test_mbpp_file_is_pinned_by_sha256() -> None:
    data = (DATA_DIR / "mbpp" / "mbpp.jsonl").read_bytes()
    assert hashlib.sha256(data).hexdigest() == "ccf64ceae9c5403bf50a044cb6d505bfd2a2963ee58338ba268fd65beab92a9f"


def test_every_packaged_dataset_carries_its_license() -> None:
    for folder in ("humaneval", "humaneval-infilling", "humaneval-x", "mbpp"):
        text = (DATA_DIR / folder / "LICENSE.txt").read_text()
        assert "License" in text or "license" in text


def test_humaneval_x_without_its_toolchain_names_the_missing_tool(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="humaneval-x-java needs javac, java on PATH"):
        get_task("humaneval-x-java")


def test_humaneval_x_cpp_program_adds_only_missing_headers() -> None:
    from assay.eval.tasks.humaneval_x import HumanEvalX

    task = HumanEvalX.__new__(HumanEvalX)
    task.lang, task.language = "cpp", "cpp"
    p = type("P", (), {"prompt": "#include<vector>\nint f(){\n", "data": {"test": "int main(){}"}})()
    prog = task.program(p, "return 1;}\n")
    assert prog.count("#include<vector>") == 1 and "#include<algorithm>\n" in prog
    assert prog.endswith("int f(){\nreturn 1;}\n\nint main(){}")


def test_bad_data_file_is_reported_with_line_number(tmp_path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"task_id": "x/0", "prompt": "", "test": "", "entry_point": "f"}\nnot json\n')
    with pytest.raises(RequestInvalid, match=r"bad.jsonl:2: not valid JSON"):
        get_task("humaneval", path=str(bad)).problems()
    missing = tmp_path / "missing.jsonl"
    missing.write_text('{"task_id": "x/0"}\n')
    with pytest.raises(RequestInvalid, match="missing field 'prompt'"):
        get_task("humaneval", path=str(missing)).problems()
