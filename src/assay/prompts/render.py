"""Rendering: declared inputs checked against their types and size limits, then the templates rendered
in Jinja's ``ImmutableSandboxedEnvironment`` with ``StrictUndefined``.

Every template is compiled when its file is loaded, and may name only the inputs the file declares,
so a template typo is a start-up ``ConfigError`` rather than a request-time surprise. Caller errors
(missing input, wrong type, value over its limit) are ``RequestInvalid`` naming ``inputs.<name>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from assay.errors import ConfigError, RequestInvalid
from assay.prompts.schema import InputSpec, PromptFile
from assay.types import ChatMessage

TEMPLATE_FIELDS = ("system", "user", "assistant")


@lru_cache(maxsize=1)
def sandbox() -> ImmutableSandboxedEnvironment:
    """The one Jinja environment prompts render in: sandboxed, immutable, strict about undefined names."""
    return ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False,
                                         keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class CompiledTemplates:
    system: jinja2.Template | None
    user: jinja2.Template
    assistant: jinja2.Template | None


def compile_templates(data: PromptFile, where: str) -> CompiledTemplates:
    """Compile the file's templates; ``ConfigError`` naming the file and ``prompt_template.<field>``."""
    env = sandbox()
    compiled: dict[str, jinja2.Template | None] = {}
    for name in TEMPLATE_FIELDS:
        source = getattr(data.prompt_template, name)
        if source is None:
            compiled[name] = None
            continue
        try:
            names = meta.find_undeclared_variables(env.parse(source))
            compiled[name] = env.from_string(source)
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(f"{where}: prompt_template.{name}: line {exc.lineno}: {exc.message}") from None
        unknown = sorted(names - set(data.inputs))
        if unknown:
            raise ConfigError(f"{where}: prompt_template.{name}: uses undeclared input(s) {', '.join(unknown)}")
    user = compiled["user"]
    assert user is not None
    return CompiledTemplates(system=compiled["system"], user=user, assistant=compiled["assistant"])


def _size(value: Any) -> int:
    return sum(len(str(v)) for v in value) if isinstance(value, list) else len(str(value))


def _check_type(name: str, spec: InputSpec, value: Any) -> Any:
    field = f"inputs.{name}"
    ok = {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "list": isinstance(value, list) and all(isinstance(v, str | int | float) for v in value),
    }[spec.type]
    if not ok:
        raise RequestInvalid(f"expected {spec.type}, got {type(value).__name__}", field=field)
    if isinstance(value, list) and len(value) > spec.max_items:
        raise RequestInvalid(f"{len(value)} items exceed the limit of {spec.max_items}", field=field)
    size = _size(value)
    if size > spec.max_chars:
        raise RequestInvalid(f"{size} characters exceed the limit of {spec.max_chars}", field=field)
    return value


def check_inputs(declared: Mapping[str, InputSpec], given: Mapping[str, Any]) -> dict[str, Any]:
    """The template variables: given values checked, defaults filled in; unknown inputs are ignored."""
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in given and given[name] is not None:
            values[name] = _check_type(name, spec, given[name])
        elif spec.required:
            raise RequestInvalid("required input is missing", field=f"inputs.{name}")
        else:
            values[name] = spec.default if spec.default is not None else ""
    return values


def render_messages(templates: CompiledTemplates, values: Mapping[str, Any]) -> tuple[ChatMessage, ...]:
    """System (if any), user, then the assistant pre-fill (if any) as chat messages."""
    try:
        messages = []
        if templates.system is not None:
            messages.append(ChatMessage("system", templates.system.render(values).strip()))
        messages.append(ChatMessage("user", templates.user.render(values).strip()))
        if templates.assistant is not None:
            prefill = templates.assistant.render(values)
            if prefill:
                messages.append(ChatMessage("assistant", prefill))
    except jinja2.exceptions.SecurityError as exc:
        raise RequestInvalid(f"the template refused an unsafe operation: {exc}", field="inputs") from None
    except jinja2.UndefinedError as exc:
        raise RequestInvalid(f"template variable missing: {exc.message}", field="inputs") from None
    return tuple(messages)
