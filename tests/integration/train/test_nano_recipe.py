"""The assay-nano recipe's stages on tiny inputs: corpus gathering with decontamination, license reading,
and publishing a trained run (weights, tokenizer, model card with sample completions).

Everything runs for real on small files written by the test; the full-size recipe is what trained
``src/assay/weights/assay-nano`` (see its README.md). Run:
``python -m pytest tests/integration/train/test_nano_recipe.py -q`` (about 10 s).
"""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from assay.errors import ConfigError
from assay.train.model import ModelConfig
from assay.train.nano import PUBLISHED_FILES, NanoConfig, build_tokenizer, publish, read_manifest
from assay.train.nano_corpus import CorpusSource, debian_license, gather_corpus
from assay.train.pretrain import pretrain
from tests.support.live_server import live_server

HUMANEVAL_PROMPT = (
    "def has_close_elements(numbers: List[float], threshold: float) -> bool:\n"
    "    \"\"\" Check if in given list of numbers, are any two numbers closer to each other than\n"
    "    given threshold.\n    \"\"\"\n"
)

CLEAN = "import os\n\n\ndef read_file(path):\n    with open(path) as fh:\n        return fh.read()\n" * 3


def _benchmarks(root: Path) -> Path:
    bench = root / "bench" / "humaneval"
    bench.mkdir(parents=True)
    with gzip.open(bench / "HumanEval.jsonl.gz", "wt") as fh:
        fh.write(json.dumps({"task_id": "HumanEval/0", "prompt": HUMANEVAL_PROMPT, "canonical_solution": "    return False\n"}) + "\n")
    return root / "bench"


def _source(root: Path) -> CorpusSource:
    src = root / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "test").mkdir()
    (src / "pkg" / "clean.py").write_text(CLEAN)
    (src / "pkg" / "leaky.py").write_text("from typing import List\n\n" + HUMANEVAL_PROMPT + "    pass\n" + CLEAN)
    (src / "test" / "test_clean.py").write_text(CLEAN)
    (src / "pkg" / "tiny.py").write_text("x = 1\n")
    return CorpusSource("fake", src, (".py",), "MIT", "test fixture")


def test_corpus_drops_benchmark_overlap_tests_and_tiny_files(tmp_path: Path) -> None:
    report = gather_corpus(tmp_path / "out" / "train.jsonl", sources=[_source(tmp_path)],
                           benchmarks=_benchmarks(tmp_path))
    rows = [json.loads(line) for line in (tmp_path / "out" / "train.jsonl").read_text().splitlines()]
    assert [r["path"] for r in rows] == ["fake/pkg/clean.py"]
    assert rows[0] | {"text": ""} == {"text": "", "language": "python", "path": "fake/pkg/clean.py", "source": "fake",
                                      "license": "MIT"}
    assert report.contaminated_files == ["fake/pkg/leaky.py"]
    assert report.sources[0].dropped_contaminated == 1 and report.sources[0].dropped_other == 1


def test_missing_benchmarks_are_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="benchmark data directory .* does not exist"):
        gather_corpus(tmp_path / "x.jsonl", sources=[_source(tmp_path)], benchmarks=tmp_path / "nope")


def test_debian_copyright_license_is_read(tmp_path: Path) -> None:
    doc = tmp_path / "golang-src"
    doc.mkdir()
    (doc / "copyright").write_text("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
                                   "Files: *\nCopyright: The Go Authors\nLicense: BSD-3-clause\n\n"
                                   "Files: src/x.go\nLicense: MIT\n")
    assert debian_license("golang-src", tmp_path) == "BSD-3-clause"
    assert debian_license("absent", tmp_path) is None


def test_publish_writes_weights_tokenizer_and_model_card(tmp_path: Path) -> None:
    """The recipe's stages on a toy corpus and model publish a folder that transformers loads and a real
    gateway serves (what ``assay train nano`` hands ``assay serve``)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    report = gather_corpus(tmp_path / "run" / "corpus" / "train.jsonl", sources=[_source(tmp_path)],
                           benchmarks=_benchmarks(tmp_path))
    manifest = {**report.__dict__, "path": str(report.path), "sources": [s.__dict__ for s in report.sources]}
    (tmp_path / "run" / "corpus" / "manifest.json").write_text(json.dumps(manifest))
    config = NanoConfig(out_dir=str(tmp_path / "run"), weights_dir=str(tmp_path / "weights"), vocab_size=300,
                        model=ModelConfig(hidden_size=32, num_layers=2, num_heads=4, num_kv_heads=2,
                                          intermediate_size=64, context_length=128),
                        max_steps=3, warmup_steps=1, seq_len=32, batch_size=2, grad_accum=1, eval_interval=3,
                        checkpoint_interval=3, max_minutes=None, progress=False, continue_steps=2,
                        continue_batch_size=2, continue_threads=1, continue_max_minutes=None)
    build_tokenizer(config)
    with pytest.raises(ConfigError, match="run the pretrain stage to the end first"):
        publish(config, read_manifest(tmp_path / "run"))
    pretrain(replace(config.pretrain_config(), val_fraction=0.0))
    with pytest.raises(ConfigError, match="run the pretrain stage to the end first"):
        publish(config, read_manifest(tmp_path / "run"))  # phase 2 (continued pretraining) is still missing
    phase2 = pretrain(replace(config.continue_config(), val_fraction=0.0))
    assert phase2.steps == 2

    row = "| humaneval-infilling-single-line | 10 | pass@1 | 0.100 | [0.000, 0.300] |"
    dest, samples = publish(config, read_manifest(tmp_path / "run"), evaluation=[row])
    assert sorted(p.name for p in dest.iterdir()) == sorted([*PUBLISHED_FILES, "README.md"])
    assert set(samples) >= {"python-fim", "python", "go", "ruby"}
    card = (dest / "README.md").read_text()
    for fact in ("Parameters", "Tokens seen", "Training time", "Final validation loss", "Hardware", "MIT",
                 "assay train nano", "Dropped (benchmark overlap)", "phase 1: 3 steps", "phase 2 (continued from "
                 "phase 1): 2 steps", row):
        assert fact in card
    assert f"| Tokens seen | {3 * 2 * 32 + 2 * 2 * 32:,} |" in card
    model = AutoModelForCausalLM.from_pretrained(dest)
    assert AutoTokenizer.from_pretrained(dest).convert_tokens_to_ids("<fim_middle>") == 3
    assert model.config.num_hidden_layers == 2

    with live_server({"models": [{"name": "fresh-nano", "provider": "local", "path": str(dest), "device": "cpu"}]}) as srv:
        r = httpx.post(f"{srv.url}/v1/completions", timeout=30,
                       json={"model": "fresh-nano", "prompt": "def add(a, b):\n", "max_tokens": 8, "temperature": 0})
    assert r.status_code == 200, r.text
    assert r.json()["model"] == "fresh-nano" and r.json()["usage"]["completion_tokens"] >= 1


def test_nano_cli_evaluates_the_published_weights_for_the_card(tmp_path: Path) -> None:
    """`assay train nano --publish-only` scores the weights with assay eval and writes the scores into the card."""
    from typer.testing import CliRunner

    from assay.cli.train import NANO_EVAL_TASKS, train_app

    report = gather_corpus(tmp_path / "run" / "corpus" / "train.jsonl", sources=[_source(tmp_path)],
                           benchmarks=_benchmarks(tmp_path))
    manifest = {**report.__dict__, "path": str(report.path), "sources": [s.__dict__ for s in report.sources]}
    (tmp_path / "run" / "corpus" / "manifest.json").write_text(json.dumps(manifest))
    config = NanoConfig(out_dir=str(tmp_path / "run"), vocab_size=300,
                        model=ModelConfig(hidden_size=32, num_layers=2, num_heads=4, num_kv_heads=2,
                                          intermediate_size=64, context_length=1024),
                        max_steps=2, warmup_steps=1, seq_len=32, batch_size=2, grad_accum=1, eval_interval=2,
                        checkpoint_interval=2, max_minutes=None, progress=False, continue_steps=0)
    build_tokenizer(config)
    pretrain(replace(config.pretrain_config(), val_fraction=0.0))
    # The CLI's recipe has a phase 2 by default; this run has none, so publish through the library first
    # and then let the CLI evaluate what the library published.
    weights = tmp_path / "weights"
    publish(replace(config, weights_dir=str(weights)), read_manifest(tmp_path / "run"))
    (tmp_path / "run" / "phase2").symlink_to(tmp_path / "run" / "pretrain")
    result = CliRunner().invoke(train_app, ["nano", "--out", str(tmp_path / "run"), "--weights", str(weights),
                                            "--publish-only", "--eval-limit", "2", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert set(summary["evaluation"]) == set(NANO_EVAL_TASKS)
    for scores in summary["evaluation"].values():
        assert scores["problems"] == 2 and "pass@1" in scores["scores"]
    card = (weights / "README.md").read_text()
    assert "| humaneval-infilling-single-line | 2 | pass@1 |" in card
