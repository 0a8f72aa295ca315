"""bf16 training on the CPU: the path a GPU run takes (autocast, fp32 master weights), run where CI runs.

``precision="bf16"`` autocasts on any device, so the CPU exercises the same code a CUDA run does.
Nothing is mocked: a forward hook on the real model records the logits' dtype inside each training
step, and the checkpoint on disk shows the dtypes of weights and optimizer state.
Run: ``python -m pytest tests/integration/train/test_bf16_training.py -q`` (about 15 s).
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from assay.cli.lora import lora_command
from assay.train import pretrain as pretrain_module
from assay.train.model import ModelConfig
from assay.train.pretrain import PretrainConfig, pretrain, read_metrics
from assay.train.tokenizer import train_tokenizer

DOCS = [
    "def add(a, b):\n    return a + b\n\n\nprint(add(1, 2))\n",
    "import os\n\ndef read_file(path):\n    with open(path) as fh:\n        return fh.read()\n",
    "class Greeter:\n    def __init__(self, name):\n        self.name = name\n",
    "for i in range(10):\n    if i % 2 == 0:\n        continue\n    print(i)\n",
]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> PretrainConfig:
    root = tmp_path_factory.mktemp("bf16")
    data = root / "data.jsonl"
    data.write_text("".join(json.dumps({"text": DOCS[i % 4] * (1 + i % 3), "language": "python"}) + "\n"
                            for i in range(24)))
    train_tokenizer(DOCS * 10, root / "tok", vocab_size=300)
    return PretrainConfig(
        data=(str(data),), tokenizer=str(root / "tok"), out_dir=str(root / "run"),
        model=ModelConfig(hidden_size=32, num_layers=2, num_heads=4, num_kv_heads=2, intermediate_size=64,
                          context_length=64),
        seq_len=32, batch_size=2, grad_accum=2, max_steps=3, warmup_steps=1, lr=3e-3, eval_interval=3,
        checkpoint_interval=1, log_interval=1, eval_rows=2, val_fraction=0.2, chunk_chars=200, threads=1,
        progress=False, seed=3, precision="bf16")


def _spy_logits(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, Any, Any]]:
    """Record (grad enabled, logits dtype, lm_head weight dtype) of every forward pass of the run's model."""
    import torch

    seen: list[tuple[bool, Any, Any]] = []
    real = pretrain_module.build_model

    def build_and_watch(*args: Any, **kwargs: Any) -> Any:
        model = real(*args, **kwargs)
        model.register_forward_hook(lambda mod, _inp, out: seen.append(
            (torch.is_grad_enabled(), out.logits.dtype, mod.lm_head.weight.dtype)))
        return model

    monkeypatch.setattr(pretrain_module, "build_model", build_and_watch)
    return seen


def test_bf16_pretraining_autocasts_and_keeps_fp32_master_weights(base: PretrainConfig, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    seen = _spy_logits(monkeypatch)
    result = pretrain(replace(base, out_dir=str(tmp_path / "bf16")))

    train_steps = [s for s in seen if s[0]]
    assert len(train_steps) == 3 * 2, "one forward per micro-batch"
    assert {dtype for _, dtype, _ in seen} == {torch.bfloat16}, "training and validation forwards ran in bf16"
    assert {weight for _, _, weight in seen} == {torch.float32}
    assert result.device == "cpu" and result.precision == "bf16" and result.steps == 3
    assert all(math.isfinite(m.loss) for m in read_metrics(tmp_path / "bf16"))
    assert result.val_loss is not None and math.isfinite(result.val_loss)

    training = json.loads((tmp_path / "bf16" / "model" / "training.json").read_text())
    assert training["precision"] == "bf16" and training["device"] == "cpu" and training["gpu"] is None
    payload = torch.load(tmp_path / "bf16" / "checkpoint" / "checkpoint.pt", weights_only=False)
    assert {t.dtype for t in payload["model"].values()} == {torch.float32}
    moments = [t for s in payload["optimizer"]["state"].values() for k, t in s.items() if k != "step"]
    assert moments and {t.dtype for t in moments} == {torch.float32}


def test_bf16_changes_the_arithmetic_and_resumes_onto_the_same_curve(base: PretrainConfig, tmp_path: Path) -> None:
    straight = pretrain(replace(base, out_dir=str(tmp_path / "straight")))
    assert straight.resumed_from_step is None

    first = pretrain(replace(base, out_dir=str(tmp_path / "resumed"), max_minutes=1e-9))
    assert first.stopped_early and first.steps == 1
    resumed = pretrain(replace(base, out_dir=str(tmp_path / "resumed")))
    assert resumed.resumed_from_step == 1 and resumed.steps == 3 and resumed.precision == "bf16"
    curve = [(m.step, m.loss) for m in read_metrics(tmp_path / "straight")]
    assert [(m.step, m.loss) for m in read_metrics(tmp_path / "resumed")] == curve
    assert resumed.val_loss == straight.val_loss

    fp32 = pretrain(replace(base, out_dir=str(tmp_path / "fp32"), precision="fp32", max_minutes=1e-9))
    assert fp32.precision == "fp32"
    fp32_loss, bf16_loss = read_metrics(tmp_path / "fp32")[0].loss, curve[0][1]
    assert fp32_loss != bf16_loss and abs(fp32_loss - bf16_loss) < 0.05, "same model and batch, other arithmetic"


def test_lora_in_bf16_trains_a_float32_adapter_on_bf16_weights_and_merges(tiny_model_dir: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from assay.train import lora as lora_module

    watched: list[Any] = []
    real = lora_module._peft_model
    monkeypatch.setattr(lora_module, "_peft_model", lambda model, options: watched.append(real(model, options))
                        or watched[-1])
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"text": d, "language": "python"}) + "\n" for d in DOCS * 6))
    app = typer.Typer()
    app.command()(lora_command)
    out = tmp_path / "merged"
    run = CliRunner().invoke(app, [str(tiny_model_dir), "--data", str(data), "--out", str(out), "--merge",
                                   "--steps", "2", "--seq-len", "32", "--lr", "0.03", "--spec", "assay-nano",
                                   "--precision", "bf16", "--json"])
    assert run.exit_code == 0, run.output
    summary = json.loads(run.stdout)
    assert summary["precision"] == "bf16" and summary["device"] == "cpu" and summary["steps"] == 2
    assert all(math.isfinite(x) for x in (summary["first_loss"], summary["last_loss"]))

    (model,) = watched
    adapter = {p.dtype for n, p in model.named_parameters() if "lora_" in n}
    frozen = {p.dtype for n, p in model.named_parameters() if "lora_" not in n}
    assert adapter == {torch.float32} and frozen == {torch.bfloat16}

    merged = AutoModelForCausalLM.from_pretrained(out).eval()
    assert {p.dtype for p in merged.parameters()} == {torch.float32}, "merged into the stored fp32 base weights"
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    reference = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir),
                                          out / "adapter").eval()
    ids = AutoTokenizer.from_pretrained(out)("def add(a, b):\n", return_tensors="pt").input_ids
    with torch.no_grad():
        assert torch.allclose(merged(ids).logits, reference(ids).logits, atol=1e-4)
        assert not torch.allclose(merged(ids).logits, base(ids).logits, atol=1e-3), "the adapter changed the model"
    info = json.loads((out / "assay_lora.json").read_text())
    assert info["precision"] == "bf16" and info["options"]["precision"] == "bf16"


def test_a_bad_precision_on_the_command_line_is_one_line_naming_it(tmp_path: Path) -> None:
    from assay.cli.train import train_app

    res = CliRunner().invoke(train_app, ["pretrain", str(tmp_path), "--tokenizer", str(tmp_path), "--out",
                                         str(tmp_path / "run"), "--precision", "fp16"])
    assert res.exit_code == 2
    assert "precision 'fp16' is not one of auto, fp32, bf16" in res.output and "Traceback" not in res.output
