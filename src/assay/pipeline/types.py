"""Inputs and results of the completion pipeline (the server converts every endpoint into these)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assay.config import PipelineConfig
from assay.types import Choice, Usage


@dataclass(frozen=True)
class ContextFile:
    """Another file (open tab, snippet) offered as context."""

    name: str
    content: str
    type: str = "file"


@dataclass(frozen=True)
class RequestOverrides:
    """Decoding settings a client asked for; None means "use the model's default"."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] | None = None
    n: int = 1
    seed: int | None = None
    time_budget_s: float | None = None
    token_healing: bool | None = None


@dataclass(frozen=True)
class CompletionInput:
    """One code-completion request, whatever endpoint it arrived on."""

    prefix: str
    suffix: str = ""
    file_name: str | None = None
    language_id: str | None = None
    context: tuple[ContextFile, ...] = ()
    model: str | None = None
    """Configured model name; None = the one serving ``code_completions``."""
    overrides: RequestOverrides = RequestOverrides()
    raw_prompt: str | None = None
    """A prompt already built by the client (GitLab prompt_version 2): sent verbatim, no template."""
    postprocess: bool = True
    """False for plain OpenAI /v1/completions without FIM context, where clients expect raw text."""
    trace_id: str | None = None
    """Id the request's ``Trace`` must carry (the server sends it in ``X-Assay-Trace-Id`` before a
    stream's first byte); the engine makes one up when None."""
    project: str | None = None
    """The project the file belongs to (GitLab ``project_path``); picks per-project exclusion rules."""
    pipeline: PipelineConfig | None = None
    """Pipeline settings for this request only (an experiment arm's), replacing ``settings.pipeline``."""


@dataclass
class StageTiming:
    stage: str
    ms: float


@dataclass
class Trace:
    """Everything the pipeline did for one request (readable at ``GET /v1/traces/{id}``)."""

    id: str
    model: str = ""
    language: str | None = None
    prompt: str = ""
    prompt_tokens: int = 0
    context: list[dict[str, Any]] = field(default_factory=list)
    """Chosen snippets: ``{"file", "start_line", "end_line", "score", "tokens"}``."""
    raw_outputs: list[str] = field(default_factory=list)
    postprocess: list[dict[str, Any]] = field(default_factory=list)
    """One entry per step that changed the text: ``{"choice", "step", "removed"}``."""
    timings: list[StageTiming] = field(default_factory=list)
    error: str | None = None
    kind: str = "completion"
    """``completion`` or ``chat``."""
    mode: str | None = None
    """Post-processing mode decided from the cursor: ``single`` or ``multi`` (None when skipped)."""
    budget: dict[str, Any] = field(default_factory=dict)
    """Token budget: ``{"counted_with", "total", "suffix", "context", "prefix_tokens", "suffix_tokens",
    "context_tokens", "prefix_truncated", "suffix_truncated", "timeout_s"}`` (``{"counted_with",
    "raw_prompt", "timeout_s"}`` for client-built prompts); ``counted_with`` is ``tokenizer`` or the
    chars-per-token estimate used for remote models without one."""

    redactions: list[dict[str, Any]] = field(default_factory=list)
    """Secrets replaced before the model call: ``{"kind", "count"}`` per kind (never the secret)."""
    exclusion: dict[str, Any] = field(default_factory=dict)
    """Path exclusion: ``{"current_file": bool, "context_dropped": int}``."""
    completion_tokens: int = 0
    """Tokens the model produced for all choices (set when the completion finishes)."""
    healing: dict[str, Any] = field(default_factory=dict)
    """Token healing, when it cut the prefix: ``{"removed": text, "removed_chars": N}``; the answer re-grew
    ``text`` and it is left out of the choices."""

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


@dataclass(frozen=True)
class CompletionResult:
    choices: tuple[Choice, ...]
    """Post-processed choices; empty-text choices are kept here (endpoints decide whether to drop them)."""
    model: str
    language: str | None
    usage: Usage
    trace: Trace
