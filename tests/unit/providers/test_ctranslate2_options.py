"""The ctranslate2 provider's configuration: options, the conversion cache's location and key, the missing extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from assay.config import ModelConfig
from assay.errors import ConfigError
from assay.providers.ctranslate2 import (
    CACHE_ENV,
    CTranslate2Options,
    CTranslate2Provider,
    cache_root,
    model_key,
)
from assay.providers.registry import create_provider, model_id


def test_registered_and_matched_on_its_path() -> None:
    cfg = ModelConfig(name="fast", provider="ctranslate2", path="builtin:assay-nano")
    provider = create_provider(cfg)
    assert isinstance(provider, CTranslate2Provider)
    assert model_id(cfg) == "builtin:assay-nano" and provider.spec.family == "assay-nano"
    assert provider.options == CTranslate2Options()
    assert provider.options.compute_type == "float32"


def test_bad_options_are_config_errors_naming_model_and_key() -> None:
    with pytest.raises(ConfigError, match=r"model 'fast': options.compute_type"):
        create_provider(ModelConfig(name="fast", provider="ctranslate2", options={"compute_type": "int3"}))
    with pytest.raises(ConfigError, match=r"model 'fast': options.quantize"):
        create_provider(ModelConfig(name="fast", provider="ctranslate2", options={"quantize": True}))


def test_cache_root_is_option_then_environment_then_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    assert cache_root(CTranslate2Options()) == Path("~/.cache/assay/ct2").expanduser()
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "env"))
    assert cache_root(CTranslate2Options()) == tmp_path / "env"
    assert cache_root(CTranslate2Options(cache_dir=str(tmp_path / "opt"))) == tmp_path / "opt"


def test_model_key_follows_the_files_content(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"\x00" * 10)
    first = model_key(tmp_path)
    assert model_key(tmp_path) == first
    (tmp_path / "model.safetensors").write_bytes(b"\x00" * 9 + b"\x01")
    assert model_key(tmp_path) != first


def test_creating_it_imports_neither_torch_nor_ctranslate2() -> None:
    code = ("import sys\n"
            "from assay.config import ModelConfig\n"
            "from assay.providers.registry import create_provider\n"
            "create_provider(ModelConfig(name='n', provider='ctranslate2', path='builtin:assay-nano'))\n"
            "print(sorted({'torch', 'transformers', 'ctranslate2'} & set(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


async def test_without_the_extra_start_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The extra is installed here, so its absence is simulated by blocking the import (sys.modules[...] = None)."""
    monkeypatch.setitem(sys.modules, "ctranslate2", None)
    provider = create_provider(ModelConfig(name="fast", provider="ctranslate2", path="builtin:assay-nano"))
    with pytest.raises(ConfigError) as caught:
        await provider.start()
    assert caught.value.message == "model 'fast': provider ctranslate2 needs the 'fast' extra: pip install 'assay[fast]'"
