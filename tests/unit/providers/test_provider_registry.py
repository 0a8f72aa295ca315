"""Provider registry: names, spec resolution, custom factories."""

from __future__ import annotations

import subprocess
import sys

import pytest

from assay.config import ModelConfig
from assay.errors import ConfigError
from assay.providers import registry
from assay.providers.base import Provider
from assay.providers.echo import EchoProvider
from assay.providers.registry import create_provider, model_id, provider_names, register_provider


def test_builtin_providers_are_registered() -> None:
    assert {"local", "openai", "anthropic", "echo"} <= set(provider_names())


def test_spec_is_resolved_from_config_then_model_id() -> None:
    assert create_provider(ModelConfig(name="q", provider="echo", model="Qwen/Qwen2.5-Coder-1.5B")).spec.family == "qwen2.5-coder"
    assert create_provider(ModelConfig(name="q", provider="echo", spec="codestral")).spec.family == "codestral"
    assert create_provider(ModelConfig(name="plain", provider="echo")).spec.family == "generic"


def test_local_model_id_is_the_path() -> None:
    cfg = ModelConfig(name="nano", provider="local", path="builtin:assay-nano")
    assert model_id(cfg) == "builtin:assay-nano"
    assert create_provider(cfg).spec.family == "assay-nano"


def test_creating_local_provider_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from assay.config import ModelConfig\n"
        "from assay.providers.registry import create_provider\n"
        "create_provider(ModelConfig(name='nano', provider='local', path='builtin:assay-nano'))\n"
        "print(sorted({'torch', 'transformers'} & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_custom_factory_and_unknown_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))

    @register_provider("echo-twin")
    class Twin(EchoProvider):
        pass

    cfg = ModelConfig.model_construct(**ModelConfig(name="t", provider="echo").model_dump())
    object.__setattr__(cfg, "provider", "echo-twin")
    provider = create_provider(cfg)
    assert isinstance(provider, Twin) and isinstance(provider, Provider)
    object.__setattr__(cfg, "provider", "nope")
    with pytest.raises(ConfigError, match="unknown provider 'nope'"):
        create_provider(cfg)
