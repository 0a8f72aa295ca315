"""Typed ``options:`` of a model entry: each provider validates its own extras with a pydantic model."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from assay.config import ModelConfig
from assay.errors import ConfigError


class ProviderOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


OptionsT = TypeVar("OptionsT", bound=ProviderOptions)


def parse_options(config: ModelConfig, cls: type[OptionsT]) -> OptionsT:
    """``config.options`` as ``cls``; a wrong or unknown key raises ``ConfigError`` naming model and key."""
    raw: dict[str, Any] = dict(config.options)
    try:
        return cls(**raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"model '{config.name}': options.{loc}: {first['msg']}") from None
