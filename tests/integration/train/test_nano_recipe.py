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

import pytest

from assay.errors import ConfigError
from assay.train.model import ModelConfig
from assay.train.nano import PUBLISHED_FILES, NanoConfig, build_tokenizer, publish, read_manifest
from assay.train.nano_corpus import CorpusSource, debian_license, gather_corpus
from assay.train.pretrain import pretrain

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
    from transformers import AutoModelForCausalLM, AutoTokenizer

    report = gather_corpus(tmp_path / "run" / "corpus" / "train.jsonl", sources=[_source(tmp_path)],
                           benchmarks=_benchmarks(tmp_path))
    manifest = {**report.__dict__, "path": str(report.path), "sources": [s.__dict__ for s in report.sources]}
    (tmp_path / "run" / "corpus" / "manifest.json").write_text(json.dumps(manifest))
    config = NanoConfig(out_dir=str(tmp_path / "run"), weights_dir=str(tmp_path / "weights"), vocab_size=300,
                        model=ModelConfig(hidden_size=32, num_layers=2, num_heads=4, num_kv_heads=2,
                                          intermediate_size=64, context_length=128),
                        max_steps=3, warmup_steps=1, seq_len=32, batch_size=2, grad_accum=1, eval_interval=3,
                        checkpoint_interval=3, max_minutes=None, progress=False)
    build_tokenizer(config)
    with pytest.raises(ConfigError, match="run the pretrain stage to the end first"):
        publish(config, read_manifest(tmp_path / "run"))
    pretrain(replace(config.pretrain_config(), val_fraction=0.0))

    dest, samples = publish(config, read_manifest(tmp_path / "run"))
    assert sorted(p.name for p in dest.iterdir()) == sorted([*PUBLISHED_FILES, "README.md"])
    assert set(samples) >= {"python-fim", "python", "go", "ruby"}
    card = (dest / "README.md").read_text()
    for fact in ("Parameters", "Tokens seen", "Training time", "Final validation loss", "Hardware", "MIT",
                 "assay train nano", "Dropped (benchmark overlap)"):
        assert fact in card
    model = AutoModelForCausalLM.from_pretrained(dest)
    assert AutoTokenizer.from_pretrained(dest).convert_tokens_to_ids("<fim_middle>") == 3
    assert model.config.num_hidden_layers == 2
