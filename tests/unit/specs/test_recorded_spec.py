"""A model folder assay made says which spec it was trained with, and that wins over its name.

QA found a model from ``assay train pretrain`` (``training.json``), a LoRA output (``assay_lora.json``) and the
nano rehearsal's weights served as ``generic`` (no FIM tokens, no suffix, a 2048-token context), because the spec
was guessed from the folder's name alone. The records here are written as the trainers write them (the real
end-to-end run is in tests/integration/train/test_recorded_spec_served.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.errors import ConfigError
from assay.specs.registry import (
    LORA_RECORD,
    TRAINING_RECORD,
    infer_spec,
    model_context_length,
    spec_for,
    spec_recorded_in,
)


def _model(folder: Path, *, family: str | None = None, positions: int = 64) -> Path:
    """A folder shaped like ``assay train pretrain``'s ``OUT/model`` (config.json and training.json)."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "llama", "max_position_embeddings": positions}))
    if family is not None:
        (folder / TRAINING_RECORD).write_text(json.dumps({"config": {"family": family}, "steps": 4}))
    return folder


def _adapter(folder: Path, base: Path, *, spec: str | None = None, record: bool = True) -> Path:
    """A folder shaped like ``assay train lora``'s output (adapter_config.json naming its base, assay_lora.json)."""
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": str(base.resolve())}))
    if record:
        (folder / LORA_RECORD).write_text(json.dumps({"spec": spec, "options": {"spec": None}}))
    return folder


def test_a_pretrained_model_is_served_with_the_family_it_was_trained_with(tmp_path: Path) -> None:
    model = _model(tmp_path / "runs" / "mine" / "model", family="assay-nano")
    assert spec_recorded_in(model) == "assay-nano"
    spec = spec_for(None, str(model))
    assert spec.family == "assay-nano" and spec.fim.prefix == "<fim_prefix>"


def test_the_shipped_nano_weights_record_their_family() -> None:
    """``assay train nano`` publishes ``training.json`` with the weights; a copy anywhere keeps its spec."""
    import assay

    weights = Path(assay.__file__).parent / "weights" / "assay-nano"
    if not (weights / TRAINING_RECORD).is_file():
        pytest.skip("no packaged assay-nano weights in this checkout")
    assert spec_recorded_in(weights) == "assay-nano"


def test_a_lora_output_names_its_spec_and_an_unrecorded_adapter_follows_its_base(tmp_path: Path) -> None:
    base = _model(tmp_path / "base", family="assay-nano")
    assert spec_recorded_in(_adapter(tmp_path / "lora1", base, spec="starcoder")) == "starcoder"
    # out/adapter of a --merge run holds no assay_lora.json; a record of spec None says nothing either
    assert spec_recorded_in(_adapter(tmp_path / "merged" / "adapter", base, record=False)) == "assay-nano"
    assert spec_recorded_in(_adapter(tmp_path / "lora2", base, spec=None)) == "assay-nano"


def test_a_folder_assay_did_not_make_records_nothing(tmp_path: Path) -> None:
    assert spec_recorded_in(_model(tmp_path / "plain")) is None
    assert spec_recorded_in(tmp_path / "missing") is None
    assert spec_recorded_in("Qwen/Qwen2.5-Coder-1.5B") is None
    assert spec_recorded_in("builtin:assay-nano") is None


def test_order_explicit_then_recorded_then_name_then_generic(tmp_path: Path) -> None:
    recorded = _model(tmp_path / "starcoder2-finetune", family="assay-nano", positions=4096)
    assert spec_for("qwen2.5-coder", str(recorded)).family == "qwen2.5-coder"
    assert spec_for(None, str(recorded)).family == "assay-nano"  # recorded beats the name's "starcoder"
    assert infer_spec(str(recorded)).family == "assay-nano"  # type: ignore[union-attr]
    named = _model(tmp_path / "starcoder2-3b", positions=4096)
    assert spec_for(None, str(named)).family == "starcoder"
    assert spec_for(None, str(_model(tmp_path / "mystery", positions=4096))).family == "generic"
    assert infer_spec(str(tmp_path / "mystery")) is None


def test_an_unknown_recorded_family_is_a_one_line_error(tmp_path: Path) -> None:
    model = _model(tmp_path / "m", family="assay-mega")
    with pytest.raises(ConfigError, match=r"records model spec 'assay-mega', which assay does not know"):
        spec_for(None, str(model))
    assert spec_for("assay-nano", str(model)).family == "assay-nano"  # an explicit spec needs no record
    (model / TRAINING_RECORD).write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read what assay recorded"):
        spec_recorded_in(model)


def test_the_served_context_is_the_models_when_shorter_than_the_specs(tmp_path: Path) -> None:
    """A 64-position model must not be promised nano's 1024 (or generic's 2048): prompts would not fit."""
    short = _model(tmp_path / "short", family="assay-nano", positions=64)
    assert model_context_length(short) == 64
    assert spec_for(None, str(short)).context_length == 64
    assert spec_for("generic", str(short)).context_length == 64
    assert spec_for(None, str(_adapter(tmp_path / "lora", short))).context_length == 64  # via the base
    long = _model(tmp_path / "long", family="assay-nano", positions=32768)
    assert spec_for(None, str(long)).context_length == 1024  # the spec's own limit stands
    assert spec_for(None, "builtin:assay-nano").context_length == 1024
