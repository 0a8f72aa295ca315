"""Load model specs from YAML and pick the one that fits a model.

A model's spec is, in order: the one configured (``spec:`` / ``--spec``), else the one assay recorded in the
model's folder when it made it (``spec_recorded_in``), else the first whose ``match`` patterns fit the model's
id or path, else ``generic``. A model folder's own context length caps the spec's.
"""

from __future__ import annotations

import fnmatch
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from assay.errors import ConfigError
from assay.specs.schema import ModelSpec


def load_spec_file(path: Path) -> ModelSpec:
    """Parse one spec file; a bad file raises ``ConfigError`` naming the file and the field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return ModelSpec(**data)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    except (TypeError, ValidationError) as exc:
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"{path}: {loc}: {first['msg']}") from None
        raise ConfigError(f"{path}: a spec must be a mapping") from None


@lru_cache(maxsize=1)
def builtin_specs() -> dict[str, ModelSpec]:
    """Every spec shipped in ``assay/specs/data``, by family name."""
    root = resources.files("assay.specs") / "data"
    specs: dict[str, ModelSpec] = {}
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            spec = load_spec_file(Path(str(entry)))
            specs[spec.family] = spec
    return specs


def get_spec(family: str) -> ModelSpec:
    specs = builtin_specs()
    try:
        return specs[family]
    except KeyError:
        raise ConfigError(f"unknown model spec '{family}'; known: {', '.join(sorted(specs))}") from None


def match_spec(model_id: str) -> ModelSpec | None:
    """The first spec whose ``match`` patterns fit ``model_id`` (case-insensitive), or None."""
    lowered = model_id.lower()
    for spec in builtin_specs().values():
        if any(fnmatch.fnmatch(lowered, pattern.lower()) for pattern in spec.match):
            return spec
    return None


FALLBACK_FAMILY = "generic"

TRAINING_RECORD = "training.json"
"""Written by ``assay train pretrain`` (and so by ``assay train nano``, which publishes it with the weights);
its ``config.family`` is the spec whose tokenizer and FIM tokens the model was trained with."""
LORA_RECORD = "assay_lora.json"
"""Written by ``assay train lora`` next to the adapter or merged model; its ``spec`` is the spec trained with."""


def _read_record(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read what assay recorded about this model: {exc}") from None
    return data if isinstance(data, dict) else {}


def _adapter_base(folder: Path) -> Path | None:
    """The local base model folder a peft adapter folder names, or None (no adapter, or a Hugging Face id)."""
    config = folder / "adapter_config.json"
    if not config.is_file():
        return None
    try:
        base = _read_record(config).get("base_model_name_or_path")
    except ConfigError:  # peft reports a broken adapter_config.json when it loads the adapter
        return None
    return Path(base) if isinstance(base, str) and base and Path(base).is_dir() else None


def spec_recorded_in(model_dir: str | Path) -> str | None:
    """The spec family assay recorded in ``model_dir`` when it made the model, or None (not a folder, or not
    made by assay).

    Why: a model assay trained is named by its user (``runs/x/model``, ``lora1``), so its path rarely fits a
    spec's ``match`` patterns, and guessing ``generic`` serves it without its FIM tokens. Read from
    ``assay_lora.json`` (``spec``), else ``training.json`` (``config.family``), else, for a LoRA adapter
    folder, from its local base model's folder. A recorded family assay does not know raises ``ConfigError``
    (configure ``spec:`` explicitly to override it)."""
    folder = Path(model_dir)
    if not folder.is_dir():
        return None
    family: object = None
    if (record := folder / LORA_RECORD).is_file():
        family = _read_record(record).get("spec")
    if not family and (record := folder / TRAINING_RECORD).is_file():
        config = _read_record(record).get("config")
        family = config.get("family") if isinstance(config, dict) else None
    if not family:
        base = _adapter_base(folder)
        return spec_recorded_in(base) if base is not None and base.resolve() != folder.resolve() else None
    if not isinstance(family, str) or family not in builtin_specs():
        raise ConfigError(f"{record} records model spec {family!r}, which assay does not know; known: "
                          f"{', '.join(sorted(builtin_specs()))} (set the model's spec explicitly)")
    return family


def infer_spec(model_id: str) -> ModelSpec | None:
    """The spec of a model nobody named one for: what assay recorded in its folder, else the first ``match``."""
    recorded = spec_recorded_in(model_id)
    return get_spec(recorded) if recorded else match_spec(model_id)


def model_context_length(model_dir: str | Path) -> int | None:
    """The positions a local transformers model takes (``max_position_embeddings`` in its, or for an adapter
    its base's, ``config.json``); None when ``model_dir`` is not such a folder."""
    folder = Path(model_dir)
    if not folder.is_dir():
        return None
    if not (folder / "config.json").is_file():
        base = _adapter_base(folder)
        return model_context_length(base) if base is not None and base.resolve() != folder.resolve() else None
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    positions = config.get("max_position_embeddings") if isinstance(config, dict) else None
    return positions if isinstance(positions, int) and positions > 0 else None


def spec_for(model_config_spec: str | None, model_id: str) -> ModelSpec:
    """The spec for a model: the configured family when given, else what assay recorded in the model's folder,
    else the first match on ``model_id``, else ``generic``; its ``context_length`` capped at the model's own
    (a spec's 2048 or 1024 must not promise a 64-position model longer prompts than it can take)."""
    spec = get_spec(model_config_spec) if model_config_spec else infer_spec(model_id) or get_spec(FALLBACK_FAMILY)
    positions = model_context_length(model_id)
    if positions is not None and positions < spec.context_length:
        return spec.model_copy(update={"context_length": positions})
    return spec
