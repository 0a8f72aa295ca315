"""GitLab AI Gateway-compatible routes: ``/v2/code/completions`` (+ legacy ``/v2/completions``),
``/v2/code/generations``, ``/v3/code/completions`` and ``/v4/code/suggestions``.

Experiments: completions and generations are assigned by the experiments' targets; the variants are
returned in v2's ``experiments`` and v3/v4's ``metadata.experiments`` (also v4's ``stream_start``), the
suggestion id in ``X-Assay-Trace-Id``.

Empty suggestions are dropped (``choices: []`` with 200 = no suggestion). v2 / v3 streams are raw text
labelled ``text/event-stream``; v4 streams are SSE (``stream_start`` → ``content_chunk``* →
``stream_end``) with ``X-Streaming-Format: sse``.

v3 and v4 need ``complete_code`` (the guard's rule) even for generation components; a generation
component carrying ``prompt_id`` (or ``agent_id``) also needs the prompt's own unit primitive (contract
§1, §12 #6), else 403 ``{"detail": ...}``: the ``unit_primitives`` of that prompt in assay's registry,
or ``generate_code`` for GitLab's own generation prompts (``code_suggestions/generations``, ...), which
assay answers with its generation template. Any other ``prompt_id`` on a generation (v2, or a v3 / v4
generation component) is 404 naming the known ones, as GitLab's prompt registry answers an unknown prompt.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from assay.errors import Forbidden
from assay.experiments.assign import COMPLETIONS, GENERATIONS
from assay.languages import detect_language
from assay.pipeline.engine import ChatInput
from assay.pipeline.types import CompletionInput, Trace
from assay.prompts import PromptNotFound, default_registry
from assay.server import calls
from assay.server.audit import report_usage
from assay.server.deps import SSE_HEADERS, TRACE_HEADER, budget_of, engine_of, require_model, settings_of
from assay.server.protocol.gitlab import (
    CodeRequest,
    ComponentsMetadata,
    ComponentsRequest,
    ComponentsResponse,
    EditorGenerationComponent,
    Experiment,
    GenerationRequest,
    ModelMeta,
    SuggestionChoice,
    SuggestionsResponse,
    TokensConsumption,
    to_pipeline_input,
)
from assay.server.routes.events import (
    apply_chat_experiments,
    apply_experiments,
    experiment_tags,
    note_telemetry,
    suggestion_id,
)
from assay.types import Choice, Usage

router = APIRouter(tags=["gitlab"])
GENERATION_UNIT_PRIMITIVE = "generate_code"
GITLAB_GENERATION_PROMPT = "code_suggestions/generations"
"""GitLab's own generation prompt (Rails' ``agent_id``), also with a family: ``code_suggestions/generations/base``."""


@dataclass(frozen=True)
class _Answer:
    """The engine's answer to a GitLab request, whichever path (completion or chat) produced it."""

    choices: list[SuggestionChoice]
    meta: ModelMeta
    trace_id: str | None

    @classmethod
    def build(cls, choices: tuple[Choice, ...], model: str, engine: str, lang: str | None, usage: Usage,
              trace: Trace | None) -> _Answer:
        context_tokens = sum(int(c.get("tokens", 0)) for c in trace.context) if trace else 0
        tokens = TokensConsumption(input_tokens=usage.prompt_tokens, output_tokens=usage.completion_tokens,
                                   context_tokens_sent=context_tokens, context_tokens_used=context_tokens)
        return cls(choices=[SuggestionChoice(text=c.text, index=c.index) for c in choices if c.text],
                   meta=ModelMeta(engine=engine, name=model, lang=lang, tokens_consumption_metadata=tokens),
                   trace_id=trace.id if trace else None)

    @property
    def headers(self) -> dict[str, str]:
        return {TRACE_HEADER: self.trace_id} if self.trace_id else {}


def _provider(request: Request, model: str) -> str:
    return next((m.provider for m in settings_of(request).models if m.name == model), "unknown")


def prompt_unit_primitives(prompt_id: str) -> frozenset[str]:
    """The unit primitives a generation ``prompt_id`` requires: those its prompts in assay's registry
    declare (of the pinned family when the id names one), else ``generate_code``."""
    registry = default_registry()
    try:
        feature, family = registry.split_id(prompt_id)
    except PromptNotFound:
        return frozenset({GENERATION_UNIT_PRIMITIVE})
    return frozenset(up for p in registry.prompts() if p.feature == feature and family in (None, p.family)
                     for up in p.data.unit_primitives)


def check_prompt_id(prompt_id: str) -> None:
    """404 (``PromptNotFound``) unless ``prompt_id`` is GitLab's generation prompt (with or without a family)
    or one of assay's registry: an unknown id must not be silently answered by the generation template."""
    parts = prompt_id.strip("/").split("/")
    if parts[:2] == GITLAB_GENERATION_PROMPT.split("/") and len(parts) <= 3 and all(parts):
        return
    try:
        default_registry().split_id(prompt_id)
    except PromptNotFound:
        known = ", ".join([GITLAB_GENERATION_PROMPT, *default_registry().features()])
        raise PromptNotFound(f"unknown prompt_id '{prompt_id}'; known prompts: {known}") from None


def _generation_prompt_id(body: CodeRequest | ComponentsRequest, generation: bool) -> str | None:
    if isinstance(body, ComponentsRequest):
        task = body.task
        return task.payload.prompt_id if isinstance(task, EditorGenerationComponent) else None
    return body.prompt_id if generation else None


def _check_generation_prompt(request: Request, body: ComponentsRequest) -> None:
    """403 unless the caller holds the unit primitive of the generation component's ``prompt_id``."""
    task = body.task
    principal = getattr(request.state, "principal", None)
    if principal is None or not isinstance(task, EditorGenerationComponent) or not task.payload.prompt_id:
        return
    needed = prompt_unit_primitives(task.payload.prompt_id)
    if not principal.has_any(needed):
        held = ", ".join(sorted(principal.scopes)) or "none"
        raise Forbidden(f"prompt '{task.payload.prompt_id}' needs the unit primitive {' or '.join(sorted(needed))}; "
                        f"this credential has {held}")


def _input(request: Request, body: CodeRequest | ComponentsRequest, generation: bool) -> CompletionInput | ChatInput:
    if prompt_id := _generation_prompt_id(body, generation):
        check_prompt_id(prompt_id)
    if isinstance(body, ComponentsRequest):
        _check_generation_prompt(request, body)
    settings = settings_of(request)
    inp = to_pipeline_input(body, generation=generation,
                            generation_model=settings.model_for("code_generations").name)
    if isinstance(body, CodeRequest):
        note_telemetry(request, [t.model_dump() for t in body.telemetry])
    if isinstance(inp, CompletionInput):
        inp = apply_experiments(request, inp)
    else:
        is_generation = generation or (isinstance(body, ComponentsRequest) and isinstance(body.task, EditorGenerationComponent))
        inp = apply_chat_experiments(request, inp, GENERATIONS if is_generation else COMPLETIONS)
    require_model(request, inp.model)
    return calls.with_trace_id(inp, suggestion_id(request))


def _model_name(request: Request, inp: CompletionInput | ChatInput) -> str:
    feature = "code_completions" if isinstance(inp, CompletionInput) else "chat"
    return settings_of(request).model(inp.model).name if inp.model else settings_of(request).model_for(feature).name


async def _answer(request: Request, inp: CompletionInput | ChatInput, file_name: str) -> _Answer:
    engine, budget = engine_of(request), budget_of(request)
    if isinstance(inp, CompletionInput):
        result = await calls.complete(engine, inp, budget)
        report_usage(request, result)
        return _Answer.build(result.choices, result.model, _provider(request, result.model), result.language,
                             result.usage, result.trace)
    gen = await calls.chat(engine, inp, budget)
    report_usage(request, gen)
    model = gen.model or _model_name(request, inp)
    lang = detect_language(file_name)
    answer = _Answer.build(gen.choices, model, _provider(request, model), lang.id if lang else None, gen.usage, None)
    return replace(answer, trace_id=inp.trace_id)


async def _text_stream(request: Request, inp: CompletionInput | ChatInput) -> calls.Primed:
    engine = engine_of(request)
    stream = engine.stream_complete(inp) if isinstance(inp, CompletionInput) else engine.stream_chat(inp)
    return await calls.prime(stream, budget_of(request))


def _stream_headers(request: Request, inp: CompletionInput | ChatInput) -> dict[str, str]:
    return {**SSE_HEADERS, **calls.trace_header(inp)}


async def _raw_text(request: Request, inp: CompletionInput | ChatInput) -> StreamingResponse:
    primed = await _text_stream(request, inp)

    async def body() -> AsyncIterator[str]:
        async for chunk in primed.chunks:
            if chunk.index == 0 and chunk.text:
                yield chunk.text
        report_usage(request, primed.final)

    return StreamingResponse(body(), media_type="text/event-stream", headers=_stream_headers(request, inp))


async def _code(request: Request, body: CodeRequest, generation: bool) -> Response:
    inp = _input(request, body, generation)
    if body.stream:
        return await _raw_text(request, inp)
    answer = await _answer(request, inp, body.current_file.file_name)
    response = SuggestionsResponse(model=answer.meta, created=int(time.time()), choices=answer.choices,
                                   experiments=_experiments(request))
    return Response(response.model_dump_json(), media_type="application/json", headers=answer.headers)


@router.post("/v2/code/completions", response_model=SuggestionsResponse)
@router.post("/v2/completions", response_model=SuggestionsResponse, include_in_schema=False)
async def v2_completions(body: CodeRequest, request: Request) -> Response:
    return await _code(request, body, generation=False)


@router.post("/v2/code/generations", response_model=SuggestionsResponse)
async def v2_generations(body: GenerationRequest, request: Request) -> Response:
    return await _code(request, body, generation=True)


async def _components(request: Request, body: ComponentsRequest) -> tuple[CompletionInput | ChatInput, _Answer]:
    inp = _input(request, body, generation=False)
    return inp, await _answer(request, inp, body.task.payload.file_name)


def _experiments(request: Request) -> list[Experiment]:
    return [Experiment(name=t["name"], variant=t["variant"]) for t in experiment_tags(request)]


def _components_json(request: Request, answer: _Answer) -> Response:
    meta = answer.meta.model_copy(update={"tokens_consumption_metadata": None})
    response = ComponentsResponse(choices=answer.choices, metadata=ComponentsMetadata(
        model=meta, timestamp=int(time.time()), experiments=_experiments(request) or None))
    return Response(response.model_dump_json(exclude_none=True), media_type="application/json",
                    headers=answer.headers)


@router.post("/v3/code/completions", response_model=ComponentsResponse)
async def v3_completions(body: ComponentsRequest, request: Request) -> Response:
    if body.stream:
        return await _raw_text(request, _input(request, body, generation=False))
    _, answer = await _components(request, body)
    return _components_json(request, answer)


@router.post("/v4/code/suggestions", response_model=ComponentsResponse)
async def v4_suggestions(body: ComponentsRequest, request: Request) -> Response:
    if not body.stream:
        _, answer = await _components(request, body)
        return _components_json(request, answer)
    inp = _input(request, body, generation=False)
    primed = await _text_stream(request, inp)
    model = _model_name(request, inp)
    experiments = [e.model_dump() for e in _experiments(request)]
    start = {"metadata": {"model": {"engine": _provider(request, model), "name": model},
                          "timestamp": int(time.time()), **({"experiments": experiments} if experiments else {})}}

    async def events() -> AsyncIterator[str]:
        yield f"event: stream_start\ndata: {json.dumps(start)}\n\n"
        async for chunk in primed.chunks:
            if chunk.text:
                data = {"choices": [{"delta": {"content": chunk.text}, "index": chunk.index}]}
                yield f"event: content_chunk\ndata: {json.dumps(data)}\n\n"
        report_usage(request, primed.final)
        yield "event: stream_end\ndata: null\n\n"

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={**_stream_headers(request, inp), "X-Streaming-Format": "sse"})
