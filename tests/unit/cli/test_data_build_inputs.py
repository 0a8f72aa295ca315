"""`assay data build` refuses bad inputs with one ``error:`` line and exit 2, instead of a traceback or a
silently empty corpus; an empty corpus's warning names only the filters that emptied it.

Run in-process through typer's ``CliRunner`` (stderr kept apart) on real folders in ``tmp_path``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.cli.main import app

MIT = "Permission is hereby granted, free of charge, to any person obtaining a copy of this software\n"
CODE = "def f(x):\n" + "\n".join(f"    y_{i} = combine(x, {i}) * weight_{i % 5}(x)" for i in range(20)) + "\n"


def source(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "LICENSE").write_text(MIT)
    (root / "pkg" / "a.py").write_text(CODE)
    return root


def build(*args: str):  # noqa: ANN201
    return CliRunner().invoke(app, ["data", "build", *args])


def assert_one_line_error(result, *needles: str) -> None:  # noqa: ANN001
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    err = result.stderr.strip()
    assert err.startswith("error: ") and "\n" not in err, result.stderr
    for needle in needles:
        assert needle in err


def test_out_naming_an_existing_file_is_an_error(tmp_path: Path) -> None:
    repo = source(tmp_path / "repo")
    (tmp_path / "one.jsonl").write_text("")
    assert_one_line_error(build(str(repo), "--out", str(tmp_path / "one.jsonl")), "one.jsonl", "existing file")
    assert_one_line_error(build(str(repo), "--out", str(tmp_path / "one.jsonl" / "sub")), "cannot create")


def test_a_source_without_any_file_is_an_error_and_writes_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / ".hidden").mkdir(parents=True)
    (empty / ".hidden" / "x.py").write_text(CODE)
    out = tmp_path / "corpus"
    assert_one_line_error(build(str(empty), "--out", str(out)), "no files found in", str(empty))
    assert not out.exists()


@pytest.mark.parametrize("language", ["klingon", "py"])
def test_unknown_language_ids_are_refused_with_the_known_ones(tmp_path: Path, language: str) -> None:
    result = build(str(source(tmp_path / "repo")), "--out", str(tmp_path / "c"), "-l", language)
    assert_one_line_error(result, f"unknown language '{language}'", "python", "typescript")


def test_language_ids_match_case_insensitively(tmp_path: Path) -> None:
    result = build(str(source(tmp_path / "repo")), "--out", str(tmp_path / "c"), "-l", "Python")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 files") and "python 1" in result.stdout


@pytest.mark.parametrize(("option", "value", "needle"), [
    ("--max-line-length", "-1", "max_line_length must be a positive number, got -1"),
    ("--max-line-length", "0", "max_line_length must be a positive number, got 0"),
    ("--shard-mb", "-1", "--shard-mb must be a positive number of megabytes"),
    ("--shard-mb", "0", "--shard-mb must be a positive number of megabytes"),
    ("--shard-mb", "nan", "--shard-mb must be a positive number of megabytes"),
    ("--shard-mb", "inf", "--shard-mb must be a positive number of megabytes"),
    ("--dedup-threshold", "0", "threshold must be in (0, 1]"),
    ("--dedup-threshold", "1.5", "threshold must be in (0, 1]"),
    ("--val-fraction", "-0.1", "val_fraction must be in [0, 1)"),
    ("--val-fraction", "1", "val_fraction must be in [0, 1)"),
])
def test_numeric_options_out_of_range_are_refused(tmp_path: Path, option: str, value: str, needle: str) -> None:
    out = tmp_path / "c"
    assert_one_line_error(build(str(source(tmp_path / "repo")), "--out", str(out), option, value), needle)
    assert not out.exists()


def test_empty_corpus_warning_names_only_the_filters_that_removed_files(tmp_path: Path) -> None:
    repo = source(tmp_path / "repo")
    result = build(str(repo), "--out", str(tmp_path / "c"), "-l", "go")
    assert result.exit_code == 0, result.output
    assert "warning: the corpus is empty: all 2 files seen were removed" in result.stderr
    assert "--language keeps only the languages named" in result.stderr
    assert "--licenses any" not in result.stderr


def test_no_blank_lines_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    result = build(str(source(tmp_path / "repo")), "--out", str(tmp_path / "c"))
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("scanned 1 repositories"), repr(result.stderr)
