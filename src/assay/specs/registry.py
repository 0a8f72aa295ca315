"""Load model specs from YAML and pick the one that fits a model."""

from __future__ import annotations

import fnmatch
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


def spec_for(model_config_spec: str | None, model_id: str) -> ModelSpec:
    """The spec for a model: the configured family when given, else the first match on ``model_id``, else ``generic``."""
    if model_config_spec:
        return get_spec(model_config_spec)
    return match_spec(model_id) or get_spec(FALLBACK_FAMILY)
