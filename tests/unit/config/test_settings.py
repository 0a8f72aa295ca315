from __future__ import annotations

from pathlib import Path

import pytest

from assay.config import load_settings
from assay.errors import ConfigError, ModelNotFound


def test_default_is_the_embedded_model_reachable_by_its_alias() -> None:
    settings = load_settings(None)
    assert [m.name for m in settings.models] == ["assay-nano"]
    assert settings.model("nano").name == "assay-nano"
    assert settings.server.port == 5052


def test_unknown_model_lists_the_configured_ones() -> None:
    with pytest.raises(ModelNotFound, match="configured models: assay-nano"):
        load_settings(None).model("gpt-9")


def test_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "assay.yaml"
    cfg.write_text("server: {port: 6000}\nmodels:\n  - {name: a, provider: echo, aliases: [b]}\n")
    assert load_settings(cfg).server.port == 6000
    monkeypatch.setenv("ASSAY_SERVER__PORT", "7000")
    settings = load_settings(cfg)
    assert settings.server.port == 7000
    assert settings.model("b").name == "a"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("models:\n  - {name: a, provider: echo}\n  - {name: a, provider: echo}\n", "repeated: a"),
        ("models:\n  - {name: a, provider: echo}\n  - {name: b, provider: echo, aliases: [a]}\n", "repeated: a"),
        ("models:\n  - {name: a, provider: nope}\n", "models.0.provider"),
        ("features: {chat: zz}\n", "features.chat"),
        ("serve: {}\n", "serve"),
        ("- just a list\n", "top level must be a mapping"),
    ],
)
def test_bad_files_name_the_field(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "assay.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(cfg)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")
