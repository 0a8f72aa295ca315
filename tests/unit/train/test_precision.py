"""Device and precision resolution (``assay.train.precision``) and its bf16 autocast on the CPU.

The CUDA cases monkeypatch ``torch.cuda.is_available``, ``is_bf16_supported``, ``device_count`` and
``get_device_name``: a GPU is the one thing that cannot run on this project's machines, and these
functions are all the resolution asks of it. Everything CPU-side is real.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from assay.errors import ConfigError
from assay.train.model import ModelConfig, build_model, count_parameters, planned_parameters
from assay.train.nano_card import CardFacts, write_model_card
from assay.train.nano_corpus import CorpusReport
from assay.train.precision import BF16_MIN_PARAMETERS, Placement, resolve_placement
from assay.train.pretrain import PretrainConfig


@pytest.fixture
def fake_cuda(monkeypatch: pytest.MonkeyPatch):
    """Pretend one CUDA device is present; the returned setter decides whether it supports bf16 natively."""
    import torch

    support = {"bf16": True}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: support["bf16"])
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Tesla V100-SXM2-16GB")
    return lambda bf16: support.update(bf16=bf16)


def test_auto_on_a_machine_without_cuda_is_cpu_fp32() -> None:
    import torch

    assert not torch.cuda.is_available(), "this test describes the CPU-only machines the suite runs on"
    assert resolve_placement() == Placement("cpu", "fp32")
    assert resolve_placement("auto", "bf16") == Placement("cpu", "bf16")
    assert resolve_placement("cpu", "fp32") == Placement("cpu", "fp32")


def test_auto_picks_cuda_and_bf16_when_the_gpu_supports_it(fake_cuda) -> None:
    """Mocks CUDA's presence (see the module docstring): resolution is all that is exercised."""
    assert resolve_placement("auto", "auto") == Placement("cuda", "bf16")
    assert resolve_placement("cuda:0", "auto") == Placement("cuda:0", "bf16")
    assert resolve_placement("auto", "fp32") == Placement("cuda", "fp32")
    assert resolve_placement("cpu", "auto") == Placement("cpu", "fp32")


def test_auto_keeps_models_under_the_bf16_threshold_in_fp32_on_a_gpu_and_says_why(fake_cuda) -> None:
    """Mocks CUDA's presence (see the module docstring). On an H200, bf16 autocast trained a 4M-parameter model
    no faster than fp32 and a 79M one 1.3-1.4x faster (bench/results/train_precision*.json)."""
    small = resolve_placement("auto", "auto", parameters=3_950_848)
    assert small == Placement("cuda", "fp32")
    assert small.reason == ("auto: fp32, 4.0M parameters is under the 50M at which bf16 trains faster on a GPU; "
                            "--precision bf16 forces it")
    assert resolve_placement("auto", "auto", parameters=BF16_MIN_PARAMETERS - 1).precision == "fp32"
    large = resolve_placement("auto", "auto", parameters=BF16_MIN_PARAMETERS)
    assert large == Placement("cuda", "bf16") and large.reason == "auto: bf16 autocast on a GPU with native bf16"
    assert resolve_placement("auto", "auto").precision == "bf16", "an unknown size is treated as large"
    forced = resolve_placement("cuda", "bf16", parameters=1000)
    assert forced == Placement("cuda", "bf16") and forced.reason == "--precision bf16"
    assert resolve_placement("cpu", "auto", parameters=10**9).reason == "auto: fp32 on a CPU"


def test_planned_parameters_counts_what_build_model_builds_without_allocating_it() -> None:
    for shape in (ModelConfig(vocab_size=4096), ModelConfig(vocab_size=300, hidden_size=64, num_layers=2, num_heads=4,
                                                            num_kv_heads=2, intermediate_size=128, context_length=64)):
        assert planned_parameters(shape) == count_parameters(build_model(shape, eos_token_id=0))
    assert planned_parameters(ModelConfig(vocab_size=4096)) == 3_950_848, "assay-nano's shape, as on the GPU run"


def test_a_gpu_without_native_bf16_gets_fp32_on_auto_and_refuses_bf16(fake_cuda) -> None:
    """Mocks CUDA's presence (see the module docstring)."""
    fake_cuda(False)
    assert resolve_placement("auto", "auto") == Placement("cuda", "fp32")
    assert resolve_placement("auto", "auto").reason == "auto: fp32, the GPU has no native bf16"
    with pytest.raises(ConfigError, match=r"precision 'bf16' requested but Tesla V100-SXM2-16GB has no native bf16"):
        resolve_placement("auto", "bf16")


def test_a_cuda_index_beyond_the_devices_present_is_named(fake_cuda) -> None:
    """Mocks CUDA's presence (see the module docstring)."""
    with pytest.raises(ConfigError, match=r"device 'cuda:2' requested but only 1 CUDA device\(s\) exist"):
        resolve_placement("cuda:2")


def test_cuda_requested_without_cuda_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match="device 'cuda' requested but CUDA is not available"):
        resolve_placement("cuda")
    with pytest.raises(ConfigError, match="device 'cuda:1' requested but CUDA is not available"):
        resolve_placement("cuda:1", "fp32")


@pytest.mark.parametrize(("device", "precision", "message"), [
    ("cpu", "fp16", "precision 'fp16' is not one of auto, fp32, bf16"),
    ("cpu", "BF16", "precision 'BF16' is not one of auto, fp32, bf16"),
    ("tpu", "auto", "device 'tpu' is not one of auto, cpu, cuda, cuda:N"),
    ("cuda:x", "auto", "device 'cuda:x' is not one of auto, cpu, cuda, cuda:N"),
    ("cpu:0", "auto", "device 'cpu:0' is not one of auto, cpu, cuda, cuda:N"),
])
def test_unknown_values_are_config_errors_naming_the_value(device: str, precision: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_placement(device, precision)


def test_bf16_autocast_really_computes_in_bf16_on_the_cpu_and_fp32_does_not() -> None:
    import torch

    layer = torch.nn.Linear(8, 4)
    x = torch.randn(2, 8)
    with Placement("cpu", "bf16").autocast():
        out = layer(x)
    assert out.dtype == torch.bfloat16 and layer.weight.dtype == torch.float32
    with Placement("cpu", "fp32").autocast():
        assert layer(x).dtype == torch.float32
    assert Placement("cuda:1", "bf16").device_type == "cuda"


@pytest.mark.parametrize(("training", "line"), [
    ({"device": "cuda", "gpu": "NVIDIA H100 80GB HBM3", "precision": "bf16"},
     "| Hardware | NVIDIA H100 80GB HBM3, cuda, bf16 autocast (fp32 weights), torch "),
    ({"device": "cpu", "gpu": None, "precision": "fp32"}, ", cpu, fp32, torch "),
    ({"device": "cpu"}, ", cpu, fp32, torch "),
])
def test_the_model_card_names_the_hardware_and_precision_that_trained(tmp_path: Path, training: dict,
                                                                      line: str) -> None:
    """``training.json`` of runs made before precisions existed has no ``precision``: those were fp32."""
    config = PretrainConfig(data=("d",), tokenizer="t", out_dir="o", model=ModelConfig()).to_dict()
    facts = CardFacts.collect(config_dict={}, samples={}, metrics_path=tmp_path / "none.jsonl",
                              corpus=CorpusReport(Path("c"), 1, 10, 13), training={
                                  "config": config, "parameters": 1, "steps": 1, "tokens_seen": 1, "train_loss": 1.0,
                                  "val_loss": 1.0, "elapsed_s": 60.0, **training})
    write_model_card(tmp_path / "README.md", facts)
    assert line in (tmp_path / "README.md").read_text()
    assert asdict(facts)["precision"] == training.get("precision", "fp32")
