"""`assay train tokenizer` on a corpus folder from `assay data build`: trained on the train shards only
(validation text stays unseen), bad option values are one ``error:`` line with exit 2.

Run in-process through typer's ``CliRunner`` on a real corpus built in ``tmp_path``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.cli.main import app
from assay.train.corpus import BuildOptions, build_corpus

MIT = "Permission is hereby granted, free of charge, to any person obtaining a copy of this software\n"


def _module(name: str) -> str:
    return f"def {name}(x):\n" + "\n".join(f"    {name}_{i} = {name}_op(x, {i})" for i in range(30)) + "\n"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("src")
    for repo in ("alpha", "beta"):
        (root / repo).mkdir()
        (root / repo / "LICENSE").write_text(MIT)
        for n in range(3):
            (root / repo / f"m{n}.py").write_text(_module(f"{repo}{n}"))
    out = root.parent / "corpus"
    manifest = build_corpus([root], out, BuildOptions(val_fraction=0.5)).manifest
    assert manifest.splits["train"].files == 3 and manifest.splits["validation"].files == 3
    return out


def invoke(*args: str):  # noqa: ANN201
    return CliRunner().invoke(app, ["train", "tokenizer", *args])


def test_validation_shards_are_left_out(corpus: Path, tmp_path: Path) -> None:
    result = invoke(str(corpus), "--out", str(tmp_path / "tok"), "--vocab-size", "300")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("tokenizer: 300 tokens from 3 documents (3 validation documents left out) -> ")
    done = invoke(str(corpus), "--out", str(tmp_path / "tok2"), "--vocab-size", "300", "--json")
    summary = json.loads(done.stdout)
    assert summary["documents"] == 3 and summary["validation_documents_left_out"] == 3


def test_validation_text_does_not_shape_the_vocabulary(corpus: Path, tmp_path: Path) -> None:
    """Each repository's name is a word of its files: only the training repository's becomes a token."""
    result = invoke(str(corpus), "--out", str(tmp_path / "tok"), "--vocab-size", "2000", "--min-frequency", "1")
    assert result.exit_code == 0, result.output
    vocab = json.loads((tmp_path / "tok" / "tokenizer.json").read_text())["model"]["vocab"]
    splits = json.loads((corpus / "manifest.json").read_text())["splits"]
    (trained,) = (r.split("-")[0] for r in splits["train"]["repositories"])
    (held_out,) = (r.split("-")[0] for r in splits["validation"]["repositories"])
    assert any(trained in token for token in vocab)
    assert not any(held_out in token for token in vocab)


def test_only_validation_shards_is_an_error(corpus: Path, tmp_path: Path) -> None:
    result = invoke(str(corpus / "validation-00000.jsonl"), "--out", str(tmp_path / "tok"))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: only validation documents in") and result.stderr.count("\n") == 1


def test_negative_min_frequency_is_one_error_line(corpus: Path, tmp_path: Path) -> None:
    result = invoke(str(corpus), "--out", str(tmp_path / "tok"), "--min-frequency", "-3")
    assert result.exit_code == 2
    assert result.stderr == "error: min_frequency must be at least 1 (times a pair is seen before it is merged), got -3\n"
