"""GitLab AI Gateway wire models: ``/v2/code/*`` bodies, ``/v3`` / ``/v4`` prompt components, responses.

Field names and limits are those of GitLab's gateway (255 / 100,000 / 500,000 / 400,000 characters,
10 telemetry items, 100 context items, 1–100 prompt components); unknown fields are ignored so that
newer GitLab versions keep working. :func:`to_pipeline_input` is the one place a GitLab request
becomes pipeline input: a completion, or chat messages for generations and ``prompt_version`` 3.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from assay.languages import detect_language
from assay.pipeline.engine import ChatInput
from assay.pipeline.types import CompletionInput, ContextFile, RequestOverrides
from assay.types import ChatMessage

NAME_MAX = 255
CONTENT_MAX = 100_000
CONTEXT_CONTENT_MAX = 500_000
GENERATION_PROMPT_MAX = 400_000

V2ModelProvider = Literal["anthropic", "vertex-ai", "litellm", "codestral", "fireworks_ai"]
"""``model_provider`` on ``/v2/code/*`` (contract §3.1); any other value is a 422 naming the field, as GitLab's."""
ComponentModelProvider = Literal["vertex-ai", "anthropic"]
"""``model_provider`` in v3 / v4 editor payloads: only these two (contract §4)."""


def _prompt_within_limit(value: Any) -> Any:
    """A string prompt longer than ``GENERATION_PROMPT_MAX`` is refused (lists are checked per message)."""
    if isinstance(value, str) and len(value) > GENERATION_PROMPT_MAX:
        raise ValueError(f"String should have at most {GENERATION_PROMPT_MAX} characters")
    return value


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Message(_Body):
    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=GENERATION_PROMPT_MAX)


class CurrentFile(_Body):
    file_name: str = Field(max_length=NAME_MAX)
    content_above_cursor: str = Field(max_length=CONTENT_MAX)
    content_below_cursor: str = Field(max_length=CONTENT_MAX)
    language_identifier: str | None = Field(default=None, max_length=NAME_MAX)

    @field_validator("file_name", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


class Experiment(_Body):
    name: str
    variant: int


class Telemetry(_Body):
    model_engine: str | None = None
    model_name: str | None = None
    lang: str | None = None
    experiments: list[Experiment] = []
    requests: int
    accepts: int
    errors: int


class ContextItem(_Body):
    type: str = Field(max_length=1024)
    name: str = Field(max_length=1024)
    content: str = Field(max_length=CONTEXT_CONTENT_MAX)


class CodeRequest(_Body):
    """``/v2/code/completions`` and ``/v2/code/generations``; ``prompt`` depends on ``prompt_version``."""

    prompt_version: Literal[1, 2, 3] = 1
    current_file: CurrentFile
    project_path: str | None = Field(default=None, max_length=NAME_MAX)
    project_id: int | None = None
    model_provider: V2ModelProvider | None = None
    """Validated only: assay serves the configured model (``model_name``, else the feature's)."""
    model_name: str | None = Field(default=None, max_length=NAME_MAX)
    """A configured assay model; unknown names answer 404 with the configured ones."""
    telemetry: list[Telemetry] = Field(default=[], max_length=10)
    stream: bool = False
    choices_count: int = Field(default=0, ge=0, le=16)
    context: list[ContextItem] = Field(default=[], max_length=100)
    prompt_id: str | None = Field(default=None, validation_alias=AliasChoices("prompt_id", "agent_id"))
    prompt: str | list[Message] | None = None

    @field_validator("prompt")
    @classmethod
    def _prompt_fits_version(cls, value: Any, info: ValidationInfo) -> Any:
        version = info.data.get("prompt_version", 1)
        if version == 2 and isinstance(value, list):
            raise ValueError("prompt_version 2 takes a string prompt")
        if version == 3 and isinstance(value, str):
            raise ValueError("prompt_version 3 takes a list of messages")
        return _prompt_within_limit(value)


class GenerationRequest(CodeRequest):
    """Generations: ``prompt`` is required for ``prompt_version`` 2 and 3."""

    @field_validator("prompt", mode="after")
    @classmethod
    def _prompt_required(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("prompt_version", 1) in (2, 3) and not value:
            raise ValueError("prompt is required for prompt_version 2 and 3")
        return value

    model_config = ConfigDict(extra="ignore", populate_by_name=True, validate_default=True)


class ComponentMetadata(_Body):
    source: str = Field(max_length=NAME_MAX)
    version: str = Field(max_length=NAME_MAX)


class EditorPayload(CurrentFile):
    model_provider: ComponentModelProvider | None = None
    model_name: str | None = Field(default=None, max_length=NAME_MAX)
    stream: bool = False
    choices_count: int = Field(default=0, ge=0, le=16)


class CompletionPayload(EditorPayload):
    prompt: str | list[Message] | None = Field(default=None)

    @field_validator("prompt")
    @classmethod
    def _limit(cls, value: Any) -> Any:
        return _prompt_within_limit(value)


class GenerationPayload(EditorPayload):
    prompt: str | None = Field(default=None, max_length=GENERATION_PROMPT_MAX)
    prompt_id: str | None = Field(default=None, validation_alias=AliasChoices("prompt_id", "agent_id"))
    prompt_enhancer: dict[str, Any] | None = None


class CodeContextPayload(_Body):
    type: str = Field(max_length=1024)
    name: str = Field(max_length=1024)
    content: str = Field(max_length=CONTENT_MAX)


class EditorCompletionComponent(_Body):
    type: Literal["code_editor_completion"]
    payload: CompletionPayload
    metadata: ComponentMetadata | None = None


class EditorGenerationComponent(_Body):
    type: Literal["code_editor_generation"]
    payload: GenerationPayload
    metadata: ComponentMetadata | None = None


class CodeContextComponent(_Body):
    type: Literal["code_context"]
    payload: CodeContextPayload
    metadata: ComponentMetadata | None = None


Component = Annotated[
    EditorCompletionComponent | EditorGenerationComponent | CodeContextComponent, Field(discriminator="type")
]


class ComponentsRequest(_Body):
    """``/v3/code/completions`` and ``/v4/code/suggestions``: only the first component decides the task."""

    prompt_components: list[Component] = Field(min_length=1, max_length=100)

    @field_validator("prompt_components")
    @classmethod
    def _first_is_editor(cls, value: list[Any]) -> list[Any]:
        if isinstance(value[0], CodeContextComponent):
            raise ValueError("the first prompt component must be code_editor_completion or code_editor_generation")
        return value

    @property
    def task(self) -> EditorCompletionComponent | EditorGenerationComponent:
        return self.prompt_components[0]  # type: ignore[return-value]

    @property
    def stream(self) -> bool:
        return self.task.payload.stream


def _generation_messages(file_name: str, above: str, below: str, instruction: str | None) -> tuple[ChatMessage, ...]:
    lang = detect_language(file_name)
    system = ("You are a code generator. Reply with only the code to insert at the cursor, "
              "without explanations or markdown fences.")
    user = (f"File: {file_name}" + (f" ({lang.name})" if lang else "") + "\n"
            f"<code_above_cursor>\n{above}\n</code_above_cursor>\n"
            f"<code_below_cursor>\n{below}\n</code_below_cursor>\n"
            + (f"Instruction: {instruction}\n" if instruction else "Write the code that belongs at the cursor.\n"))
    return (ChatMessage("system", system), ChatMessage("user", user))


def _messages(prompt: list[Message]) -> tuple[ChatMessage, ...]:
    return tuple(ChatMessage(m.role, m.content) for m in prompt)


def to_pipeline_input(body: CodeRequest | ComponentsRequest, *, generation: bool,
                      generation_model: str) -> CompletionInput | ChatInput:
    """A GitLab body → ``CompletionInput`` (completions) or ``ChatInput`` (generations, prompt_version 3).

    ``generation`` is True for ``/v2/code/generations``; ``generation_model`` is the configured
    model serving ``features.code_generations``, used when the body names none.
    """
    if isinstance(body, ComponentsRequest):
        task = body.task
        p = task.payload
        name, above, below, lang_id = p.file_name, p.content_above_cursor, p.content_below_cursor, p.language_identifier
        n = max(1, p.choices_count)
        model = p.model_name or None
        project = None
        context = tuple(ContextFile(name=c.payload.name, content=c.payload.content, type=c.payload.type)
                        for c in body.prompt_components[1:] if isinstance(c, CodeContextComponent))
        if isinstance(task, EditorGenerationComponent):
            generation, prompt = True, task.payload.prompt
        else:
            prompt = task.payload.prompt
    else:
        f = body.current_file
        name, above, below, lang_id = f.file_name, f.content_above_cursor, f.content_below_cursor, f.language_identifier
        n = max(1, body.choices_count)
        model = body.model_name or None
        project = body.project_path
        context = tuple(ContextFile(name=c.name, content=c.content, type=c.type) for c in body.context)
        prompt = body.prompt if body.prompt_version != 1 else None
    overrides = RequestOverrides(n=n)
    if generation:
        messages = _messages(prompt) if isinstance(prompt, list) else (
            (ChatMessage("user", prompt),) if prompt else _generation_messages(name, above, below, None))
        return ChatInput(messages=messages, model=model or generation_model, overrides=overrides,
                         file_name=name, project=project)
    if isinstance(prompt, list):
        return ChatInput(messages=_messages(prompt), model=model, overrides=overrides, file_name=name, project=project)
    return CompletionInput(prefix=above, suffix=below, file_name=name, language_id=lang_id, context=context,
                           model=model, overrides=overrides, raw_prompt=prompt or None, project=project)


class TokensConsumption(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    context_tokens_sent: int = 0
    context_tokens_used: int = 0


class ModelMeta(BaseModel):
    engine: str
    name: str
    lang: str | None = None
    tokens_consumption_metadata: TokensConsumption | None = None


class SuggestionChoice(BaseModel):
    text: str
    index: int = 0
    finish_reason: Literal["length"] = "length"


class SuggestionsResponse(BaseModel):
    """The v2 answer; ``choices: []`` with 200 means "no suggestion"."""

    id: Literal["id"] = "id"
    model: ModelMeta
    experiments: list[Experiment] = []
    object: Literal["text_completion"] = "text_completion"
    created: int
    choices: list[SuggestionChoice]


class ComponentsMetadata(BaseModel):
    model: ModelMeta
    timestamp: int
    experiments: list[Experiment] | None = None
    """The request's experiment variants (as v2's ``experiments``); omitted when it is in none."""


class ComponentsResponse(BaseModel):
    """The v3 / v4 non-streaming answer."""

    choices: list[SuggestionChoice]
    metadata: ComponentsMetadata
