"""Provider registry: ``@register_provider("name")`` on a factory, ``create_provider(config)`` to build one.

A factory is any callable ``(ModelConfig, ModelSpec) -> Provider`` (a ``Provider`` subclass is one).
The built-in factories import their module only when called, so ``import assay.providers.registry``
stays light (no torch, no transformers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from assay.config import ModelConfig
from assay.errors import ConfigError
from assay.providers.base import Provider
from assay.specs.registry import spec_for
from assay.specs.schema import ModelSpec

ProviderFactory = Callable[[ModelConfig, ModelSpec], Provider]
F = TypeVar("F", bound=ProviderFactory)

_FACTORIES: dict[str, ProviderFactory] = {}


def register_provider(name: str) -> Callable[[F], F]:
    """Register ``factory`` under ``name`` (the ``provider:`` value in ``assay.yaml``)."""

    def decorate(factory: F) -> F:
        _FACTORIES[name] = factory
        return factory

    return decorate


def provider_names() -> list[str]:
    return sorted(_FACTORIES)


def model_id(config: ModelConfig) -> str:
    """The id a spec is matched on: ``path`` for local and GGUF models, else the upstream model id."""
    if config.provider in ("local", "llamacpp", "ctranslate2") and config.path:
        return config.path
    return config.upstream_model


def create_provider(config: ModelConfig) -> Provider:
    """Build (not start) the provider for ``config``, with its spec resolved by ``spec_for``."""
    factory = _FACTORIES.get(config.provider)
    if factory is None:
        raise ConfigError(f"model '{config.name}': unknown provider '{config.provider}'; known: {', '.join(provider_names())}")
    return factory(config, spec_for(config.spec, model_id(config)))


@register_provider("local")
def _local(config: ModelConfig, spec: ModelSpec) -> Provider:
    from assay.providers.local import LocalProvider

    return LocalProvider(config, spec)


@register_provider("openai")
def _openai(config: ModelConfig, spec: ModelSpec) -> Provider:
    from assay.providers.openai_compat import OpenAIProvider

    return OpenAIProvider(config, spec)


@register_provider("anthropic")
def _anthropic(config: ModelConfig, spec: ModelSpec) -> Provider:
    from assay.providers.anthropic import AnthropicProvider

    return AnthropicProvider(config, spec)


@register_provider("echo")
def _echo(config: ModelConfig, spec: ModelSpec) -> Provider:
    from assay.providers.echo import EchoProvider

    return EchoProvider(config, spec)


@register_provider("llamacpp")
def _llamacpp(config: ModelConfig, spec: ModelSpec) -> Provider:
    from assay.providers.llamacpp import LlamaCppProvider

    return LlamaCppProvider(config, spec)


@register_provider("ctranslate2")
def _ctranslate2(config: ModelConfig, spec: ModelSpec) -> Provider:
    from assay.providers.ctranslate2 import CTranslate2Provider

    return CTranslate2Provider(config, spec)
