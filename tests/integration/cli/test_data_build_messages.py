"""`assay data build` on a real git repository: an empty result is said out loud, not left to a later step."""

from __future__ import annotations

import subprocess
from pathlib import Path

from typer.testing import CliRunner

from assay.cli.main import app


def unlicensed_repo(root: Path) -> Path:
    root.mkdir()
    (root / "a.py").write_text("def f(x):\n    return x + 1\n\n\ndef g(y):\n    return y * 2\n")
    git = ["git", "-C", str(root), "-c", "user.email=a@b.c", "-c", "user.name=a"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run([*git, "add", "a.py"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    return root


def test_a_corpus_left_empty_by_the_license_filter_warns(tmp_path: Path) -> None:
    repo = unlicensed_repo(tmp_path / "repo")
    done = CliRunner().invoke(app, ["data", "build", str(repo), "--out", str(tmp_path / "corpus"),
                                    "--licenses", "permissive"])
    assert done.exit_code == 0, done.output
    assert "removed: license 1" in done.stdout
    assert "warning: the corpus is empty" in done.stderr and "--licenses any" in done.stderr


def test_a_corpus_with_files_has_no_warning(tmp_path: Path) -> None:
    repo = unlicensed_repo(tmp_path / "repo")
    done = CliRunner().invoke(app, ["data", "build", str(repo), "--out", str(tmp_path / "corpus"), "--licenses", "any"])
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("1 files") and "warning" not in done.stderr
