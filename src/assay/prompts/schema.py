"""The prompt-file schema: one YAML file per feature × model family × version, validated strictly.

A file lives at ``definitions/<feature>/<family>/<X.Y.Z>.yml``::

    name: Explain code
    description: Explains what a piece of code does.
    unit_primitives: [explain_code]
    model:
      params: {temperature: 0.1, max_tokens: 1024, top_p: 1.0}
    params:
      stop: ["</answer>"]
    inputs:
      code: {type: string, max_chars: 100000, description: The code to explain.}
      language: {type: string, required: false, default: "", max_chars: 100}
    prompt_template:
      system: You are ...
      user: "Explain this {{ language }} code:\n{{ code }}"
      assistant: "<answer>"        # optional pre-fill of the reply (see PromptTemplate.assistant)

Unknown keys are refused (``extra="forbid"``) so a typo fails at start, not at request time.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


InputType = Literal["string", "integer", "number", "boolean", "list"]


class InputSpec(_Strict):
    """One template variable the caller supplies."""

    type: InputType = "string"
    required: bool = True
    default: str | int | float | bool | list[str] | None = None
    """Used when the input is optional and not given (None renders as an empty string)."""
    max_chars: int = Field(100_000, ge=1)
    """Longest accepted value in characters (a list counts the characters of all its items)."""
    max_items: int = Field(100, ge=1)
    """Longest accepted list."""
    description: str = ""


class ModelParams(_Strict):
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(1024, ge=1, le=8192)
    top_p: float = Field(1.0, gt=0.0, le=1.0)


class ModelSection(_Strict):
    params: ModelParams = ModelParams()


class CallParams(_Strict):
    stop: tuple[str, ...] = ()
    timeout_s: float | None = Field(None, gt=0)


class PromptTemplate(_Strict):
    system: str | None = None
    user: str
    assistant: str | None = None
    """Pre-fills the start of the model's reply (sent as a trailing assistant message; the endpoints put
    it in front of the model's text). Only providers that continue a trailing assistant turn (Anthropic)
    honour it; local chat templates and OpenAI-compatible servers start a new turn, so the shipped
    prompts for those (the ``small`` family) ask for the lead-in in the user message instead."""


class PromptFile(_Strict):
    """The contents of one prompt file."""

    name: str = Field(min_length=1)
    description: str = ""
    unit_primitives: tuple[str, ...] = Field(min_length=1)
    """The scopes a caller needs to run this prompt (GitLab's unit primitives)."""
    model: ModelSection = ModelSection()
    params: CallParams = CallParams()
    inputs: dict[str, InputSpec] = Field(default_factory=dict)
    prompt_template: PromptTemplate

    @model_validator(mode="after")
    def _defaults_only_for_optional(self) -> PromptFile:
        for name, spec in self.inputs.items():
            if spec.required and spec.default is not None:
                raise ValueError(f"inputs.{name}: a required input cannot have a default")
        return self
