"""GitLab's legacy chat features ``POST /v1/chat/{invokable}``, and OpenAI chat's ``model: "feature:<id>"``.

``/v1/chat/{invokable}`` takes ``{prompt_components: [one {type, metadata: {source, version},
payload: {content, provider?, model?, params?: {stop_sequences, temperature, max_tokens_to_sample}}}],
stream?}`` and answers ``{response, metadata: {provider, model, timestamp}}`` (or raw text when
streaming). ``payload.content`` as a list of messages is sent to the chat model as it is (Rails built
the prompt, as in GitLab); as a string it is rendered through the feature's registry prompt: a JSON
object gives the prompt's inputs, other text fills its primary input (e.g. ``code`` for explain_code,
``log`` for troubleshoot_job). Model failures answer 502/504 here, as GitLab's chat endpoint does.

OpenAI chat: a request whose ``model`` is ``feature:<id>`` renders ``<id>``'s prompt from the last
user message by the same rule (a JSON object → inputs, other text → the primary input) and asks the
chat model; the request's max_tokens / temperature / top_p / stop replace the prompt's own.

Both take part in experiments on the ``features`` target (arm's model and prompt version); the arm is
returned in ``metadata.experiments`` / ``assay_experiments`` and ``X-Assay-Experiments``, the
suggestion id in ``X-Assay-Trace-Id`` (and OpenAI's ``id``: ``chatcmpl-<suggestion id>``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from assay.errors import RequestInvalid
from assay.pipeline.engine import ChatInput
from assay.pipeline.types import RequestOverrides
from assay.prompts import PromptNotFound, RenderedPrompt, default_registry
from assay.server import calls
from assay.server.deps import settings_of
from assay.server.protocol.openai import ChatCompletionRequest, to_chat_input
from assay.server.routes.events import FeatureArm, experiment_tags, feature_arm, suggestion_id
from assay.server.routes.prompts import (
    ask,
    chat_model,
    check_unit_primitives,
    prompt_chat_input,
    render_prompt,
    reply_text,
    stream_text,
)
from assay.types import ChatMessage

router = APIRouter(tags=["gitlab-chat"])

INVOKABLES = ("explain_code", "write_tests", "refactor_code", "fix_code", "explain_vulnerability",
              "summarize_comments", "troubleshoot_job")
FEATURE_PREFIX = "feature:"
MAX_CHAT_TOKENS = 4096
"""GitLab clamps chat replies to 4,096 tokens (production#18996)."""


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ComponentMetadata(_Loose):
    source: str = Field(max_length=100)
    version: str = Field(max_length=100)


class ChatParams(_Loose):
    stop_sequences: list[str] | None = None
    temperature: float | None = Field(default=None, ge=0.0, le=1.0)
    max_tokens_to_sample: int | None = Field(default=None, ge=1, le=8192)


class PayloadMessage(_Loose):
    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=400_000)


class ChatPayload(_Loose):
    content: str | list[PayloadMessage]
    provider: str | None = None
    model: str | None = None
    params: ChatParams | None = None

    def text_size_ok(self) -> None:
        if isinstance(self.content, str) and len(self.content) > 400_000:
            raise RequestInvalid(f"{len(self.content)} characters exceed the limit of 400000",
                                 field="prompt_components.0.payload.content")


class PromptComponent(_Loose):
    type: str = Field(max_length=255)
    metadata: ComponentMetadata
    payload: ChatPayload


class ChatFeatureRequest(_Loose):
    prompt_components: list[PromptComponent] = Field(min_length=1, max_length=1)
    stream: bool = False


class ChatFeatureMetadata(BaseModel):
    provider: str
    model: str
    timestamp: int
    experiments: list[dict[str, str | int]] | None = Field(default=None, exclude_if=lambda v: v is None)
    """``[{name, variant, arm}]`` of the experiments this request is in (also in ``X-Assay-Experiments``)."""


class ChatFeatureResponse(BaseModel):
    response: str
    metadata: ChatFeatureMetadata


def _overrides(params: ChatParams | None) -> RequestOverrides:
    p = params or ChatParams()
    max_tokens = min(p.max_tokens_to_sample, MAX_CHAT_TOKENS) if p.max_tokens_to_sample else None
    return RequestOverrides(max_tokens=max_tokens, temperature=p.temperature,
                            stop=tuple(p.stop_sequences) if p.stop_sequences else None)


def _input(request: Request, invokable: str, payload: ChatPayload,
           arm: FeatureArm) -> tuple[ChatInput, RenderedPrompt | None, str]:
    payload.text_size_ok()
    overrides = _overrides(payload.params)
    rendered: RenderedPrompt | None = None
    if isinstance(payload.content, list):
        model, _ = chat_model(request, arm.model or payload.model)
        check_unit_primitives(request, invokable, default_registry().resolve(invokable).data.unit_primitives)
        if not payload.content:
            raise RequestInvalid("at least one message is required", field="prompt_components.0.payload.content")
        messages = tuple(ChatMessage(m.role, m.content) for m in payload.content)
        inp = ChatInput(messages=messages, model=model, overrides=RequestOverrides(
            max_tokens=overrides.max_tokens or MAX_CHAT_TOKENS, temperature=overrides.temperature, stop=overrides.stop))
    else:
        rendered, model = render_prompt(request, invokable, payload.content, metadata_name=payload.model,
                                        constraint=arm.prompt_version, model=arm.model)
        inp = prompt_chat_input(rendered, model, overrides)
    inp = arm.apply(inp)
    if inp.overrides.max_tokens and inp.overrides.max_tokens > MAX_CHAT_TOKENS:
        inp = replace(inp, overrides=replace(inp.overrides, max_tokens=MAX_CHAT_TOKENS))
    return inp, rendered, model


@router.post("/v1/chat/{invokable}", response_model=ChatFeatureResponse)
async def chat_feature(invokable: str, body: ChatFeatureRequest, request: Request) -> Response:
    if invokable not in INVOKABLES:
        raise PromptNotFound(f"unknown chat invokable '{invokable}'; known: {', '.join(INVOKABLES)}")
    arm = feature_arm(request, invokable)
    inp, rendered, model = _input(request, invokable, body.prompt_components[0].payload, arm)
    inp = calls.with_trace_id(inp, suggestion_id(request))
    if body.stream:
        return await stream_text(request, inp, rendered.prefill if rendered else "", as_421=False)
    gen = await ask(request, inp, as_421=False)
    provider = next((m.provider for m in settings_of(request).models if m.name == model), "unknown")
    out = ChatFeatureResponse(response=reply_text(rendered, gen), metadata=ChatFeatureMetadata(
        provider=provider, model=gen.model or model, timestamp=int(time.time()),
        experiments=experiment_tags(request) or None))
    return Response(out.model_dump_json(), media_type="application/json", headers=calls.trace_header(inp))


def is_feature_model(model: str | None) -> bool:
    return bool(model) and model.startswith(FEATURE_PREFIX)  # type: ignore[union-attr]


def feature_chat_input(request: Request, body: ChatCompletionRequest) -> ChatInput:
    """``model: "feature:<id>"`` → the feature's rendered prompt from the last user message (see module doc)."""
    assert body.model is not None
    feature = body.model[len(FEATURE_PREFIX):]
    plain = to_chat_input(body)
    users = [m for m in plain.messages if m.role == "user"]
    if not users:
        raise RequestInvalid(f"model '{body.model}' needs a user message with the feature's input", field="messages")
    arm = feature_arm(request, feature, body.user)
    rendered, model = render_prompt(request, feature, users[-1].content, constraint=arm.prompt_version, model=arm.model)
    return arm.apply(prompt_chat_input(rendered, model, plain.overrides))
