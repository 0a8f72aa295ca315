"""Loading prompt files (invalid ones named with their field), resolution by family and version, rendering limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.errors import ConfigError, RequestInvalid
from assay.prompts import PromptNotFound, PromptRegistry, default_registry

GOOD = """\
name: Demo
unit_primitives: [demo]
model:
  params: {temperature: 0.3, max_tokens: 100}
params:
  stop: ["END"]
inputs:
  text: {type: string, max_chars: 20}
  tags: {type: list, required: false, default: [], max_items: 2}
  n: {type: integer, required: false, default: 3}
prompt_template:
  system: "v{{ n }}"
  user: "Say {{ text }}{% if tags %} [{{ tags | join(',') }}]{% endif %}"
  assistant: "OK:"
"""


def write(root: Path, rel: str, text: str = GOOD) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def registry(tmp_path: Path) -> PromptRegistry:
    for rel in ("demo/base/1.0.0.yml", "demo/base/1.4.2.yml", "demo/base/2.0.0.yml", "demo/small/1.0.0.yml",
                "group/nested/base/1.0.0.yml"):
        write(tmp_path, rel, GOOD.replace("Demo", rel))
    return PromptRegistry.load(tmp_path)


def test_resolution_by_feature_family_and_version(registry: PromptRegistry) -> None:
    assert registry.features() == ["demo", "group/nested"]
    assert registry.families("demo") == ["base", "small"]
    assert str(registry.resolve("demo").version) == "1.4.2"
    assert str(registry.resolve("demo", constraint="^2.0.0").version) == "2.0.0"
    assert str(registry.resolve("demo", constraint="~1.0").version) == "1.0.0"
    assert registry.resolve("demo", "small").family == "small"
    assert registry.resolve("demo", "assay-nano").family == "small"
    assert registry.resolve("demo", "claude_3", "assay-nano").family == "small"
    assert registry.resolve("demo", "mistral").family == "base"
    assert registry.resolve("demo/small").family == "small"
    assert registry.resolve("group/nested").id == "group/nested/base"


def test_unknown_prompt_family_or_version_is_not_found(registry: PromptRegistry, tmp_path: Path) -> None:
    with pytest.raises(PromptNotFound, match="unknown prompt 'nope'; known prompts: demo, group/nested"):
        registry.resolve("nope")
    with pytest.raises(PromptNotFound, match="no version matching '\\^3.0.0'; versions: 1.0.0, 1.4.2, 2.0.0"):
        registry.resolve("demo", constraint="^3.0.0")
    write(tmp_path / "only-small", "x/small/1.0.0.yml")
    with pytest.raises(PromptNotFound, match="no 'base' variant"):
        PromptRegistry.load(tmp_path / "only-small").resolve("x")
    assert PromptNotFound.status_code == 404


def test_rendering_fills_defaults_and_keeps_inputs_literal(registry: PromptRegistry) -> None:
    out = registry.resolve("demo").render({"text": "{{ 7 * 7 }}", "tags": ["a", "b"], "unknown": 1})
    assert [(m.role, m.content) for m in out.messages] == [
        ("system", "v3"), ("user", "Say {{ 7 * 7 }} [a,b]"), ("assistant", "OK:")]
    assert out.prefill == "OK:"
    assert (out.params.temperature, out.params.max_tokens, out.params.stop) == (0.3, 100, ("END",))
    assert out.unit_primitives == ("demo",)


@pytest.mark.parametrize(("inputs", "message"), [
    ({}, "inputs.text: required input is missing"),
    ({"text": "x" * 21}, "inputs.text: 21 characters exceed the limit of 20"),
    ({"text": 5}, "inputs.text: expected string, got int"),
    ({"text": "x", "tags": ["a", "b", "c"]}, "inputs.tags: 3 items exceed the limit of 2"),
    ({"text": "x", "n": True}, "inputs.n: expected integer, got bool"),
    ({"text": "x", "tags": "a"}, "inputs.tags: expected list, got str"),
])
def test_bad_inputs_are_422_naming_the_input(registry: PromptRegistry, inputs: dict, message: str) -> None:
    with pytest.raises(RequestInvalid) as info:
        registry.resolve("demo").render(inputs)
    assert str(info.value) == message and info.value.status_code == 422


def test_free_text_fills_the_primary_input(registry: PromptRegistry) -> None:
    prompt = registry.resolve("demo")
    assert prompt.primary_input == "text"
    assert prompt.inputs_from_text("hello") == {"text": "hello"}
    assert prompt.inputs_from_text('{"text": "hi", "n": 1}') == {"text": "hi", "n": 1}
    assert prompt.inputs_from_text("{not json") == {"text": "{not json"}


@pytest.mark.parametrize(("rel", "text", "message"), [
    ("demo/base/1.0.0.yml", GOOD.replace("name: Demo", "name: Demo\ncolour: red"), "colour: Extra inputs are not permitted"),
    ("demo/base/1.0.0.yml", GOOD.replace("max_tokens: 100", "max_tokens: many"), "model.params.max_tokens"),
    ("demo/base/1.0.0.yml", GOOD.replace("unit_primitives: [demo]\n", ""), "unit_primitives: Field required"),
    ("demo/base/1.0.0.yml", GOOD.replace("type: integer", "type: float"), "inputs.n.type"),
    ("demo/base/1.0.0.yml", GOOD.replace("Say {{ text }}", "Say {{ txt }}"),
     "prompt_template.user: uses undeclared input(s) txt"),
    ("demo/base/1.0.0.yml", GOOD.replace('"v{{ n }}"', '"v{{ n "'), "prompt_template.system: line 1"),
    ("demo/base/1.0.0.yml", GOOD.replace("{type: string, max_chars: 20}", "{type: string, default: a}"),
     "inputs.text: a required input cannot have a default"),
    ("demo/base/1.0.0.yml", "name: [unclosed", "not valid YAML"),
    ("demo/base/1.0.0.yml", "- a list", "a prompt file must be a mapping"),
    ("demo/base/latest.yml", GOOD, "the file name must be a version X.Y.Z"),
    ("demo/1.0.0.yml", GOOD, "<feature>/<family>/<X.Y.Z>.yml"),
    ("demo/base/1.0.0.yaml", GOOD, "prompt files end in .yml"),
])
def test_an_invalid_file_is_refused_naming_file_and_field(tmp_path: Path, rel: str, text: str, message: str) -> None:
    write(tmp_path, "fine/base/1.0.0.yml")
    bad = write(tmp_path, rel, text)
    with pytest.raises(ConfigError) as info:
        PromptRegistry.load(tmp_path)
    assert str(bad) in str(info.value) and message in str(info.value)


def test_sandbox_refuses_unsafe_templates(tmp_path: Path) -> None:
    write(tmp_path, "evil/base/1.0.0.yml", GOOD.replace("Say {{ text }}", "{{ tags.append('x') }}{{ text }}"))
    with pytest.raises(RequestInvalid, match="unsafe"):
        PromptRegistry.load(tmp_path).resolve("evil").render({"text": "x", "tags": ["a"]})
    write(tmp_path, "peek/base/1.0.0.yml", GOOD.replace("Say {{ text }}", "{{ text.__class__.__mro__ }}"))
    with pytest.raises(RequestInvalid):
        PromptRegistry.load(tmp_path).resolve("peek").render({"text": "x"})


def test_missing_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        PromptRegistry.load(tmp_path / "nope")


REQUIRED_FEATURES = ("explain_code", "write_tests", "refactor_code", "fix_code", "summarize_merge_request",
                     "generate_commit_message", "summarize_comments", "troubleshoot_job", "explain_vulnerability")


def test_shipped_registry_has_every_feature_for_large_and_small_models() -> None:
    registry = default_registry()
    for feature in REQUIRED_FEATURES:
        assert registry.families(feature) == ["base", "small"], feature
        for family in ("base", "small"):
            assert str(registry.resolve(feature, family).version) == "1.0.0"


@pytest.mark.parametrize("prompt", default_registry().prompts(), ids=lambda p: p.id)
def test_every_shipped_prompt_renders_its_inputs(prompt) -> None:
    values = {}
    for name, spec in prompt.data.inputs.items():
        values[name] = [f"<{name}-1>", f"<{name}-2>"] if spec.type == "list" else f"<{name}>"
    out = prompt.render(values)
    text = out.transcript()
    for name, spec in prompt.data.inputs.items():
        if spec.required:
            assert f"<{name}" in text, name
    assert out.messages[0].role in ("system", "user")
    assert all(m.content for m in out.messages)
    assert prompt.data.unit_primitives and out.params.max_tokens <= 4096
    if prompt.family == "small":
        assert out.params.max_tokens <= 512
