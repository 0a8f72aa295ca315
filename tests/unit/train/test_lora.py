"""LoRA fine-tuning of the tiny test model (real transformers + peft on CPU; nothing mocked)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from assay.cli.lora import lora_command
from assay.errors import ConfigError
from assay.train.corpus import BuildOptions, build_corpus
from assay.train.lora import LoraOptions, pack_tokens, train_lora

DOCS = [
    "def add(a, b):\n    return a + b\n",
    "def mul(a, b):\n    return a * b\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, x):\n        self.items.append(x)\n",
    "for i in range(10):\n    print(i * i)\n",
]


def _jsonl(path: Path, repeat: int = 6) -> Path:
    path.write_text("".join(json.dumps({"text": d, "language": "python"}) + "\n" for d in DOCS * repeat))
    return path


def _mean_loss(model_dir: Path | str, texts: list[str]) -> float:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    with torch.no_grad():
        losses = [float(model(input_ids=ids, labels=ids).loss)
                  for ids in (tok(t, return_tensors="pt").input_ids for t in texts)]
    return sum(losses) / len(losses)


def test_adapter_training_lowers_loss_and_loads_with_transformers(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "adapter"
    result = train_lora(LoraOptions(base=str(tiny_model_dir), data=_jsonl(tmp_path / "d.jsonl"), out=out,
                                    spec="assay-nano", steps=15, batch_size=4, seq_len=32, lr=3e-2, rank=8,
                                    warmup_steps=2))
    assert result.fim and not result.merged and result.adapter_dir == out
    assert len(result.losses) == 15 and result.trainable_parameters > 0
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(tiny_model_dir.resolve())
    assert (out / "adapter_model.safetensors").is_file() and (out / "tokenizer.json").is_file()
    texts = [d + "<|endoftext|>" for d in DOCS]
    assert _mean_loss(out, texts) < _mean_loss(tiny_model_dir, texts) - 0.05


def test_merge_via_cli_gives_a_plain_model_equal_to_base_plus_adapter(tiny_model_dir: Path, tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src = tmp_path / "repo"
    src.mkdir()
    for i, doc in enumerate(DOCS * 3):
        (src / f"m{i}.py").write_text(f"# module {i}\n" + doc)
    corpus = tmp_path / "corpus"
    build_corpus([src], corpus, BuildOptions(val_fraction=0.0, decontaminate=False))
    app = typer.Typer()
    app.command()(lora_command)
    out = tmp_path / "merged"
    run = CliRunner().invoke(app, [str(tiny_model_dir), "--data", str(corpus), "--out", str(out), "--merge",
                                   "--steps", "8", "--seq-len", "32", "--lr", "0.03", "--spec", "assay-nano", "--json"])
    assert run.exit_code == 0, run.output
    assert "Loading weights" not in run.stderr and "Writing model shards" not in run.stderr, run.stderr
    summary = json.loads(run.stdout)
    assert summary["merged"] and summary["steps"] == 8
    assert not (out / "adapter_config.json").exists() and (out / "adapter" / "adapter_config.json").is_file()

    tok = AutoTokenizer.from_pretrained(out)
    merged = AutoModelForCausalLM.from_pretrained(out).eval()
    unmerged = AutoModelForCausalLM.from_pretrained(out / "adapter").eval()
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    ids = tok("def add(a, b):\n", return_tensors="pt").input_ids
    with torch.no_grad():
        assert torch.allclose(merged(ids).logits, unmerged(ids).logits, atol=1e-4)
        assert not torch.allclose(merged(ids).logits, base(ids).logits, atol=1e-3)
        generated = merged.generate(ids, max_new_tokens=6, do_sample=False, pad_token_id=tok.eos_token_id)
    assert generated.shape[1] > ids.shape[1]


def test_too_little_data_is_a_config_error(tiny_model_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "tiny.jsonl"
    data.write_text(json.dumps({"text": "x = 1\n"}) + "\n")
    with pytest.raises(ConfigError, match="fewer than seq_len"):
        train_lora(LoraOptions(base=str(tiny_model_dir), data=data, out=tmp_path / "o", steps=1, seq_len=256))


def test_pack_tokens_windows() -> None:
    class Tok:
        def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
            return {"input_ids": [ord(c) for c in text]}

    windows = pack_tokens(iter(["abcde", "fgh"]), Tok(), 3, None)
    assert windows == [[97, 98, 99], [100, 101, 102]]
    assert pack_tokens(iter(["abcdefgh"]), Tok(), 2, 1) == [[97, 98]]


def test_the_base_size_that_auto_precision_uses_is_read_without_loading_weights(tiny_model_dir: Path,
                                                                               tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM

    from assay.train.lora import _base_parameters
    from assay.train.model import count_parameters

    loaded = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert _base_parameters(str(tiny_model_dir)) == count_parameters(loaded)
    assert _base_parameters(str(tmp_path / "missing")) is None, "an unreadable base is reported by the loader"


def _lora_cli(*args: str) -> Any:
    app = typer.Typer()
    app.command()(lora_command)
    return CliRunner().invoke(app, list(args))


def _one_line_error(run: Any, *expected: str) -> None:
    """QA got tracebacks here; the CLI must say one ``error:`` line and exit 2."""
    assert run.exit_code == 2, run.output  # an uncaught exception exits 1
    assert "Traceback" not in run.output
    lines = [line for line in run.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), run.output
    for text in expected:
        assert text in lines[0], lines[0]


def test_a_target_module_the_base_lacks_is_one_line_naming_the_modules_it_has(tiny_model_dir: Path,
                                                                             tmp_path: Path) -> None:
    run = _lora_cli(str(tiny_model_dir), "--data", str(_jsonl(tmp_path / "d.jsonl")), "--out", str(tmp_path / "o"),
                    "--steps", "1", "--seq-len", "16", "--target", "nosuchmodule")
    _one_line_error(run, "--target nosuchmodule", "not found", "q_proj")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("dropout", ["2", "1", "-0.1"])
def test_dropout_outside_0_to_1_is_refused_before_loading_anything(dropout: str, tmp_path: Path) -> None:
    run = _lora_cli(str(tmp_path), "--data", str(tmp_path), "--out", str(tmp_path / "o"), f"--dropout={dropout}")
    _one_line_error(run, "lora dropout must be at least 0 and below 1", f"got {float(dropout)}")


def test_a_folder_that_is_not_a_model_is_one_line(tiny_model_dir: Path, tmp_path: Path) -> None:
    import shutil

    data = str(_jsonl(tmp_path / "d.jsonl"))
    notatok = tmp_path / "notatok"
    notatok.mkdir()
    (notatok / "readme.txt").write_text("hi")
    _one_line_error(_lora_cli(str(notatok), "--data", data, "--out", str(tmp_path / "o")),
                    f"{notatok} is not a model folder or Hugging Face model id")
    weights_only = tmp_path / "weights-only"  # a model, but no tokenizer: transformers' "sentencepiece or tiktoken"
    weights_only.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copyfile(tiny_model_dir / name, weights_only / name)
    _one_line_error(_lora_cli(str(weights_only), "--data", data, "--out", str(tmp_path / "o")),
                    f"{weights_only} is not a model folder or Hugging Face model id", "no tokenizer")
