"""GitLab's prompt-registry endpoint ``POST /v1/prompts/{prompt_id}``, plus the helpers every feature
route shares (resolve → render → chat model).

Request: ``{inputs, prompt_version?: semver constraint (default ^1.0.0), stream?, model_metadata?: {name, ...}}``.
Answer: a bare JSON string (the model's text, after the prompt's assistant pre-fill), or with
``stream`` the raw text. Errors: 404 unknown prompt or no matching version; 403 when the credential holds none of the
prompt's ``unit_primitives`` (nor assay's ``chat`` scope); 422 bad constraint, missing input or an
input over its size limit; 421 when the model call itself failed, with
``detail`` naming the upstream status and message (so Rails can tell model errors from gateway ones).

The family is ``model_metadata.name`` when the prompt has a variant for it, else the serving chat
model's spec family (``assay-nano`` uses the ``small`` variants), else ``base``. When
``model_metadata.name`` is also a configured model's name, that model answers. Custom endpoints in
``model_metadata`` are ignored: models are configured in ``assay.yaml``.

A user in an experiment on the ``features`` target gets the arm's model and ``prompt_version`` (which
win over the request's); ``X-Assay-Experiments`` names the arm and ``X-Assay-Trace-Id`` the suggestion.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from assay.errors import AssayError, Forbidden, ProviderError
from assay.pipeline.engine import ChatInput
from assay.pipeline.types import RequestOverrides
from assay.prompts import PromptRegistry, RenderedPrompt, default_registry
from assay.server import calls
from assay.server.audit import report_usage
from assay.server.deps import SSE_HEADERS, budget_of, engine_of, settings_of
from assay.server.routes.events import feature_arm, suggestion_id
from assay.types import Generation

router = APIRouter(tags=["prompts"])
CHAT_SCOPE = "chat"
"""assay's own API-key scope for chat features; it admits every prompt."""


class ModelFailed(AssayError):
    """The chat model failed (upstream error, timeout, rate limit): 421 on the prompt endpoint."""

    status_code = 421


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ModelMetadata(_Loose):
    name: str | None = Field(default=None, max_length=255)
    provider: str | None = Field(default=None, max_length=255)
    endpoint: str | None = Field(default=None, max_length=2000)
    api_key: str | None = Field(default=None, max_length=2000)
    identifier: str | None = Field(default=None, max_length=255)


class PromptRequest(_Loose):
    inputs: dict[str, Any] = Field(default_factory=dict)
    prompt_version: str | None = Field(default=None, max_length=100)
    stream: bool = False
    model_metadata: ModelMetadata | None = None


def load_registry() -> PromptRegistry:
    """The shipped prompts, loaded once; an invalid file raises ``ConfigError`` naming the file and the
    field, so ``create_app`` (which calls this) refuses to build a server around it."""
    return default_registry()


def check_unit_primitives(request: Request, prompt_id: str, unit_primitives: tuple[str, ...]) -> None:
    """403 unless the caller's credential holds one of the prompt's unit primitives (GitLab's check) or
    assay's own ``chat`` scope. Without an authenticated principal (``auth.mode: none``) nothing is checked."""
    principal = getattr(request.state, "principal", None)
    if principal is None or principal.unrestricted:
        return
    allowed = frozenset(unit_primitives) | {CHAT_SCOPE}
    if not principal.has_any(allowed):
        held = ", ".join(sorted(principal.scopes)) or "none"
        raise Forbidden(f"prompt '{prompt_id}' needs the unit primitive {' or '.join(sorted(allowed))}; "
                        f"this credential has {held}")


def chat_model(request: Request, requested: str | None = None) -> tuple[str, str]:
    """(configured model name, its spec family): ``requested`` when it is configured, else the chat model."""
    settings = settings_of(request)
    names = {m.name for m in settings.models}
    name = requested if requested in names else settings.model_for("chat").name
    family = next((m.family for m in engine_of(request).models() if m.name == name), None) or ""
    return name, family


def render_prompt(request: Request, prompt_id: str, inputs: Mapping[str, Any] | str, *,
                  constraint: str | None = None, metadata_name: str | None = None,
                  model: str | None = None) -> tuple[RenderedPrompt, str]:
    """Resolve and render ``prompt_id`` for the model that will answer; returns (prompt, model name).

    ``inputs`` given as text fill the prompt's primary input (or, as a JSON object, all of them).
    ``model`` (an experiment arm's configured model) answers in place of the one ``metadata_name`` picks.
    """
    registry = default_registry()
    model, family = chat_model(request, model or metadata_name)
    prompt = registry.resolve(prompt_id, metadata_name, family, constraint=constraint)
    check_unit_primitives(request, prompt.feature, prompt.data.unit_primitives)
    values = prompt.inputs_from_text(inputs) if isinstance(inputs, str) else inputs
    return prompt.render(values), model


def prompt_chat_input(rendered: RenderedPrompt, model: str, overrides: RequestOverrides | None = None) -> ChatInput:
    """The engine call for a rendered prompt: its parameters, each replaced by the caller's when given."""
    p = rendered.params
    o = overrides or RequestOverrides()
    stop = tuple(dict.fromkeys(p.stop + (o.stop or ())))
    return ChatInput(messages=rendered.messages, model=model, overrides=RequestOverrides(
        max_tokens=o.max_tokens if o.max_tokens is not None else p.max_tokens,
        temperature=o.temperature if o.temperature is not None else p.temperature,
        top_p=o.top_p if o.top_p is not None else p.top_p,
        stop=stop or None, n=o.n, seed=o.seed, time_budget_s=p.timeout_s))


def model_failed(exc: ProviderError) -> ModelFailed:
    return ModelFailed(f"model call failed (upstream {exc.status_code}): {exc.message}")


async def ask(request: Request, inp: ChatInput, *, as_421: bool) -> Generation:
    """Run the chat model under the request budget; with ``as_421`` a model failure becomes ``ModelFailed``."""
    try:
        gen = await calls.chat(engine_of(request), inp, budget_of(request))
    except ProviderError as exc:
        if as_421:
            raise model_failed(exc) from None
        raise
    report_usage(request, gen)
    return gen


async def stream_text(request: Request, inp: ChatInput, prefix: str, *, as_421: bool) -> StreamingResponse:
    """The reply as raw text (``prefix`` first), labelled ``text/event-stream`` like GitLab's raw streams."""
    try:
        primed = await calls.prime(engine_of(request).stream_chat(inp), budget_of(request))
    except ProviderError as exc:
        if as_421:
            raise model_failed(exc) from None
        raise

    async def body() -> AsyncIterator[str]:
        if prefix:
            yield prefix
        async for chunk in primed.chunks:
            if chunk.index == 0 and chunk.text:
                yield chunk.text
        report_usage(request, primed.final)

    return StreamingResponse(body(), media_type="text/event-stream", headers={**SSE_HEADERS, **calls.trace_header(inp)})


def reply_text(rendered: RenderedPrompt | None, gen: Generation) -> str:
    text = gen.choices[0].text if gen.choices else ""
    return (rendered.prefill if rendered is not None else "") + text


@router.post("/v1/prompts/{prompt_id:path}")
async def invoke_prompt(prompt_id: str, body: PromptRequest, request: Request) -> Response:
    meta_name = body.model_metadata.name if body.model_metadata else None
    arm = feature_arm(request, prompt_id)
    rendered, model = render_prompt(request, prompt_id, body.inputs, constraint=arm.prompt_version or body.prompt_version,
                                    metadata_name=meta_name, model=arm.model)
    inp = calls.with_trace_id(arm.apply(prompt_chat_input(rendered, model)), suggestion_id(request))
    if body.stream:
        return await stream_text(request, inp, rendered.prefill, as_421=True)
    gen = await ask(request, inp, as_421=True)
    return Response(json.dumps(reply_text(rendered, gen)), media_type="application/json",
                    headers={"X-Assay-Prompt-Version": f"{rendered.feature}/{rendered.family}@{rendered.version}",
                             **calls.trace_header(inp)})
