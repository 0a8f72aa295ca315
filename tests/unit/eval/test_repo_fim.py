"""repo-fim mines tasks from a real git repository (built here with back-dated commits)."""

from __future__ import annotations

import os
import subprocess

import pytest

from assay.errors import RequestInvalid
from assay.eval.tasks import get_task

OLD_PY = "def old():\n    return 1\n"
NEW_PY = """import os


def load(path, mode="r"):
    with open(path, mode) as fh:
        data = fh.read()
        size = len(data)
    return data, size


def main():
    print(load(os.path.join("a", "b"), mode="rb"))
"""
NEW_JS = "function add(a, b) {\n  const s = a + b;\n  console.log(s, a, b);\n  return s;\n}\n"


def _commit(repo, date: str, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        (repo / name).write_text(text)
    env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date, "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", "-C", str(repo), "add", *files], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", message], check=True, env=env)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    path = tmp_path_factory.mktemp("repo")
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    _commit(path, "2020-01-01T00:00:00", {"old.py": OLD_PY}, "old")
    _commit(path, "2025-06-01T00:00:00", {"new.py": NEW_PY, "app.js": NEW_JS, "notes.md": "# hi\n"}, "new")
    return path


def test_only_files_changed_after_the_cutoff_are_masked(repo) -> None:
    problems = get_task("repo-fim", path=str(repo), since="2024-01-01").problems()
    assert {p.file_name for p in problems} == {"new.py", "app.js"}
    kinds = {(p.file_name, p.data["kind"]) for p in problems}
    assert kinds == {(f, k) for f in ("new.py", "app.js") for k in ("line", "block", "arguments")}
    for p in problems:
        original = NEW_PY if p.file_name == "new.py" else NEW_JS
        assert p.prompt + p.reference + p.suffix == original
        assert p.reference.strip()
        assert p.cluster == p.file_name
        assert p.language == ("python" if p.file_name == "new.py" else "javascript")


def test_mining_is_deterministic_per_seed(repo) -> None:
    a = get_task("repo-fim", path=str(repo), since="2024-01-01", seed=3).problems()
    b = get_task("repo-fim", path=str(repo), since="2024-01-01", seed=3).problems()
    assert [(p.task_id, p.reference) for p in a] == [(p.task_id, p.reference) for p in b]
    only_args = get_task("repo-fim", path=str(repo), since="2024-01-01", kinds="arguments", count=1).problems()
    assert len(only_args) == 1 and only_args[0].data["kind"] == "arguments"


def test_scoring_is_exact_match_plus_edit_similarity(repo) -> None:
    task = get_task("repo-fim", path=str(repo), since="2024-01-01")
    p = task.problems()[0]
    assert task.score(p, p.reference + "\n").passed
    miss = task.score(p, p.reference + "zz")
    assert not miss.passed and 0 < miss.metrics["edit_similarity"] < 100


def test_clear_errors(repo, tmp_path) -> None:
    with pytest.raises(RequestInvalid, match="needs a cutoff date"):
        get_task("repo-fim", path=str(repo))
    with pytest.raises(RequestInvalid, match="is not a git repository"):
        get_task("repo-fim", path=str(tmp_path), since="2024-01-01")
    with pytest.raises(RequestInvalid, match="no files with maskable code changed"):
        get_task("repo-fim", path=str(repo), since="2030-01-01").problems()
    with pytest.raises(RequestInvalid, match="unknown span kind 'loop'"):
        get_task("repo-fim", path=str(repo), since="2024-01-01", kinds="loop")
