"""The shipped model specs: they load, carry the real token strings, and select by model id."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from assay.errors import ConfigError
from assay.specs.registry import builtin_specs, get_spec, load_spec_file, match_spec, spec_for

REQUIRED = {"starcoder", "qwen2.5-coder", "deepseek-coder", "codellama", "codestral", "codegemma",
            "assay-nano", "chat", "generic"}


def _shipped_files() -> list[Path]:
    root = resources.files("assay.specs") / "data"
    return sorted(Path(str(e)) for e in root.iterdir() if e.name.endswith(".yaml"))


@pytest.mark.parametrize("path", _shipped_files(), ids=lambda p: p.name)
def test_every_shipped_file_loads_and_is_named_after_its_family(path: Path) -> None:
    spec = load_spec_file(path)
    assert path.stem == spec.family
    assert spec.context_length > spec.defaults.max_tokens
    if spec.fim.mode in ("psm", "spm"):
        assert spec.fim.prefix and spec.fim.suffix
        assert spec.eos and spec.eos in spec.stop


def test_required_families_are_shipped() -> None:
    assert REQUIRED <= set(builtin_specs())


@pytest.mark.parametrize(
    ("family", "prefix", "suffix", "middle", "file_sep"),
    [
        ("starcoder", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>"),
        ("qwen2.5-coder", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_sep|>"),
        ("deepseek-coder", "<\uff5cfim\u2581begin\uff5c>", "<\uff5cfim\u2581hole\uff5c>", "<\uff5cfim\u2581end\uff5c>", None),
        ("codellama", "<PRE> ", " <SUF>", " <MID>", None),
        ("codestral", "[PREFIX]", "[SUFFIX]", "", None),
        ("codegemma", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_separator|>"),
        ("assay-nano", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>"),
    ],
)
def test_family_token_strings(family: str, prefix: str, suffix: str, middle: str, file_sep: str | None) -> None:
    spec = get_spec(family)
    assert (spec.fim.prefix, spec.fim.suffix, spec.fim.middle, spec.repo.file_sep) == (prefix, suffix, middle, file_sep)


def test_modes_and_stops() -> None:
    assert get_spec("codestral").fim.mode == "spm"
    assert get_spec("chat").fim.mode == "chat"
    assert get_spec("chat").special_tokens() == []
    assert get_spec("generic").fim.mode == "none"
    assert "<EOT>" in get_spec("codellama").stop
    assert "<|file_separator|>" in get_spec("codegemma").stop
    assert get_spec("qwen2.5-coder").repo.repo_name == "<|repo_name|>"


@pytest.mark.parametrize(
    ("model_id", "family"),
    [
        ("bigcode/starcoder2-3b", "starcoder"),
        ("starcoder2:7b", "starcoder"),
        ("bigcode/starcoderbase-1b", "starcoder1"),
        ("Qwen/Qwen2.5-Coder-1.5B", "qwen2.5-coder"),
        ("/models/qwen2.5-coder-7b", "qwen2.5-coder"),
        ("qwen2.5-coder:1.5b-base", "qwen2.5-coder"),
        ("deepseek-ai/deepseek-coder-1.3b-base", "deepseek-coder"),
        ("codellama/CodeLlama-7b-hf", "codellama"),
        ("mistralai/Codestral-22B-v0.1", "codestral"),
        ("google/codegemma-2b", "codegemma"),
        ("claude-3-5-sonnet-latest", "chat"),
        ("gpt-4o-mini", "chat"),
        ("builtin:assay-nano", "assay-nano"),
    ],
)
def test_match_selects_family(model_id: str, family: str) -> None:
    spec = match_spec(model_id)
    assert spec is not None and spec.family == family


def test_spec_for_explicit_family_wins_then_match_then_generic() -> None:
    assert spec_for("codellama", "Qwen/Qwen2.5-Coder-1.5B").family == "codellama"
    assert spec_for(None, "Qwen/Qwen2.5-Coder-1.5B").family == "qwen2.5-coder"
    assert spec_for(None, "gpt2").family == "generic"
    with pytest.raises(ConfigError, match="unknown model spec 'nope'"):
        spec_for("nope", "gpt2")


def test_invalid_file_names_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("family: broken\nfim:\n  mode: middle-out\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_spec_file(bad)
    assert str(bad) in info.value.message and "fim.mode" in info.value.message


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "typo.yaml"
    bad.write_text("family: typo\ncontext_lenght: 4096\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="context_lenght"):
        load_spec_file(bad)


def test_non_mapping_and_bad_yaml_are_refused(tmp_path: Path) -> None:
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_spec_file(listed)
    broken = tmp_path / "yaml.yaml"
    broken.write_text("family: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_spec_file(broken)
