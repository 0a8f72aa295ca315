"""OpenAI-compatible routes: ``GET /v1/models``, ``POST /v1/completions``, ``POST /v1/chat/completions``.

Streams are ``data: {json}`` events ending with ``data: [DONE]``; an error after the stream started
is sent as a ``data: {"error": ...}`` event (the SDK raises it).

OpenAI fields assay cannot honour are refused with 422 naming the field (as llama.cpp's server refuses
what it does not support), never silently ignored: ``echo``, ``logprobs`` and ``best_of`` (other than
``n``) on completions, ``logprobs`` on chat.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel

from assay.errors import AssayError, ModelNotFound, RequestInvalid
from assay.pipeline.types import CompletionResult
from assay.server import calls
from assay.server.audit import report_usage
from assay.server.deps import SSE_HEADERS, TRACE_HEADER, budget_of, engine_of, require_model, settings_of
from assay.server.protocol.openai import (
    ChatChoice,
    ChatChunkChoice,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatDelta,
    ChatMessageOut,
    CompletionChoice,
    CompletionRequest,
    CompletionResponse,
    ErrorBody,
    ErrorDetail,
    ModelCard,
    ModelList,
    UsageOut,
    to_chat_input,
    to_completion_input,
)
from assay.server.routes.chat_features import feature_chat_input, is_feature_model
from assay.server.routes.events import (
    apply_experiments,
    experiment_tags,
    suggestion_id,
)
from assay.types import Generation

router = APIRouter(prefix="/v1", tags=["openai"])


def _event(payload: BaseModel) -> str:
    return f"data: {payload.model_dump_json()}\n\n"


def _error_event(exc: AssayError) -> str:
    return _event(ErrorBody(error=ErrorDetail(message=exc.message, type="server_error",
                                              code=str(exc.status_code))))


@router.get("/models", response_model=ModelList)
async def list_models(request: Request) -> ModelList:
    return ModelList(data=[ModelCard(id=m.name, provider=m.provider, family=m.family, context_length=m.context_length)
                           for m in engine_of(request).models()])


@router.get("/models/{model_id:path}", response_model=ModelCard)
async def get_model(model_id: str, request: Request) -> ModelCard:
    models = engine_of(request).models()
    for m in models:
        if m.name == model_id:
            return ModelCard(id=m.name, provider=m.provider, family=m.family, context_length=m.context_length)
    raise ModelNotFound(model_id, [m.name for m in models])


async def _refuse_unsupported(request: Request, body: CompletionRequest | ChatCompletionRequest) -> None:
    """422 for a field that asks for something assay does not produce (its wire models ignore unknown
    fields, so it is read from the raw body FastAPI already parsed): ignoring it would hand the client an
    answer that silently lacks what it asked for (log probabilities, the echoed prompt, best-of ranking)."""
    raw = await request.json()
    if not isinstance(raw, dict):
        return
    chat = isinstance(body, ChatCompletionRequest)
    refused = {"logprobs": raw.get("logprobs") not in (None, False)} if chat else {
        "echo": raw.get("echo") not in (None, False),
        "logprobs": raw.get("logprobs") is not None,
        "best_of": raw.get("best_of") not in (None, 1, body.n),
    }
    for name, unsupported in refused.items():
        if unsupported:
            raise RequestInvalid(f"not supported (got {raw[name]!r}); assay returns "
                                 f"{_NOT_RETURNED[name]}", field=name)


_NOT_RETURNED = {"echo": "only the completion, without the prompt", "logprobs": "no log probabilities",
                 "best_of": "the n completions it samples, without best-of ranking"}


@router.post("/completions", response_model=CompletionResponse)
async def completions(body: CompletionRequest, request: Request) -> object:
    await _refuse_unsupported(request, body)
    engine, budget = engine_of(request), budget_of(request)
    require_model(request, body.model)
    inp = calls.with_trace_id(apply_experiments(request, to_completion_input(body), body.user))
    created = int(time.time())
    if not body.stream:
        result = await calls.complete(engine, inp, budget)
        report_usage(request, result)
        response = CompletionResponse(
            id=f"cmpl-{result.trace.id}", created=created, model=result.model,
            choices=[CompletionChoice(text=c.text, index=c.index, finish_reason=c.finish_reason.wire())
                     for c in result.choices],
            usage=UsageOut.of(result.usage), assay_experiments=experiment_tags(request) or None)
        return _json(response, {TRACE_HEADER: result.trace.id})
    primed = await calls.prime(engine.stream_complete(inp), budget)
    cid = f"cmpl-{inp.trace_id}"

    model = inp.model or settings_of(request).model_for("code_completions").name

    async def events() -> AsyncIterator[str]:
        async for chunk in primed.chunks:
            yield _event(CompletionResponse(id=cid, created=created, model=model, choices=[
                CompletionChoice(text=chunk.text, index=chunk.index, finish_reason=None)]))
        if primed.error is not None:
            yield _error_event(primed.error)
            return
        final: CompletionResult | None = primed.final
        report_usage(request, final)
        if final is not None:
            yield _event(CompletionResponse(id=cid, created=created, model=final.model, choices=[
                CompletionChoice(text="", index=c.index, finish_reason=c.finish_reason.wire())
                for c in final.choices]))
            if body.include_usage:
                yield _event(CompletionResponse(id=cid, created=created, model=final.model, choices=[],
                                                usage=UsageOut.of(final.usage)))
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={**SSE_HEADERS, TRACE_HEADER: inp.trace_id or ""})


@router.post("/chat/completions", response_model=ChatCompletionResponse)
async def chat_completions(body: ChatCompletionRequest, request: Request) -> object:
    await _refuse_unsupported(request, body)
    engine, budget = engine_of(request), budget_of(request)
    if is_feature_model(body.model):
        inp = feature_chat_input(request, body)
    else:
        require_model(request, body.model)
        inp = to_chat_input(body)
    inp = calls.with_trace_id(inp, suggestion_id(request))
    created = int(time.time())
    cid = f"chatcmpl-{inp.trace_id}"
    headers = calls.trace_header(inp)
    if not body.stream:
        gen = await calls.chat(engine, inp, budget)
        report_usage(request, gen)
        return _json(ChatCompletionResponse(
            id=cid, created=created, model=gen.model or body.model or settings_of(request).model_for("chat").name,
            choices=[ChatChoice(index=c.index, message=ChatMessageOut(content=c.text), finish_reason=c.finish_reason.wire())
                     for c in gen.choices],
            usage=UsageOut.of(gen.usage), assay_experiments=experiment_tags(request) or None), headers)
    primed = await calls.prime(engine.stream_chat(inp), budget)

    model = body.model or settings_of(request).model_for("chat").name

    async def events() -> AsyncIterator[str]:
        started: set[int] = set()
        async for chunk in primed.chunks:
            delta = ChatDelta(content=chunk.text)
            if chunk.index not in started:
                started.add(chunk.index)
                delta.role = "assistant"
            yield _event(ChatCompletionChunk(id=cid, created=created, model=model,
                                             choices=[ChatChunkChoice(index=chunk.index, delta=delta)]))
        if primed.error is not None:
            yield _error_event(primed.error)
            return
        final: Generation | None = primed.final
        report_usage(request, final)
        if final is not None:
            yield _event(ChatCompletionChunk(id=cid, created=created, model=final.model or model, choices=[
                ChatChunkChoice(index=c.index, delta=ChatDelta(), finish_reason=c.finish_reason.wire())
                for c in final.choices]))
            if body.include_usage:
                yield _event(ChatCompletionChunk(id=cid, created=created, model=final.model or model, choices=[],
                                                 usage=UsageOut.of(final.usage)))
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream", headers={**SSE_HEADERS, **headers})


def _json(model: BaseModel, headers: dict[str, str] | None = None) -> Response:
    return Response(model.model_dump_json(), media_type="application/json", headers=headers)

