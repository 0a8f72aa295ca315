"""``POST /v1/events`` (scope ``events``): clients report what happened to suggestions, in batches, and
the helpers the suggestion routes call to put a request into the configured experiments.

Body: ``{"events": [{id, type, suggestion_id, user_id?, experiment?, arm?, timestamp, accepted_chars?,
retained_chars?, checkpoint_s?}, ...]}`` (see :mod:`assay.experiments.events`). Answer:
``{received, recorded, duplicates}``; an event id seen before is counted once. A wrong field answers
422 naming it (``events.3.arm``).

An event counts in the experiment(s) its ``suggestion_id`` was served in, for the user it was served to and
with the arm that served it (the gateway's exposure record, :mod:`assay.experiments.store`):
``suggestion_id`` alone is enough, no user id needed. ``user_id``, ``experiment`` and ``arm`` are
optional; an ``experiment``/``arm`` given for a suggestion whose exposure is already recorded must agree
with it, else the batch answers 422 naming ``events.N.experiment`` or ``events.N.arm``. An event for an id
the gateway never served in an experiment (the client's own id, a typo) is stored but counts in no
experiment, whatever it names: ``assay experiment analyze`` reports it as unattributed. An exposure
recorded after its events (they raced the response's end) still gives them their user and arm when events
are analysed.

The user of a request is ``X-Gitlab-Global-User-Id``, else the OpenAI ``user`` field, else the
authenticated API key's (or GitLab token's) user; without one, a request gets the control arms and
is not part of any experiment.

A request in an experiment gets an opaque suggestion id (:func:`suggestion_id`; ``X-Assay-Trace-Id`` on
the wire, 32 hex digits whatever the target); clients send it back as the events' ``suggestion_id``.
The request's target is recorded with its exposures, under that id. It is also the id of the engine's trace
of the request (``GET /v1/traces/{id}``), chat-served suggestions included.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fastapi import APIRouter, Request

from assay.config import ExperimentArm
from assay.experiments.assign import COMPLETIONS, Assignment, Target, apply_chat_arm, feature_target
from assay.experiments.events import EventBatch, EventsAccepted
from assay.experiments.runtime import STATE_KEY, ExperimentRuntime, RequestExperiments
from assay.pipeline.engine import ChatInput
from assay.pipeline.trace import new_trace_id
from assay.pipeline.types import CompletionInput
from assay.prompts import default_registry
from assay.server.calls import with_trace_id

router = APIRouter(prefix="/v1", tags=["experiments"])

USER_HEADER = "X-Gitlab-Global-User-Id"
AUTHENTICATED_KINDS = ("key", "gitlab", "self_signed")


def runtime_of(request: Request) -> ExperimentRuntime:
    return request.app.state.experiments


def user_of(request: Request, body_user: str | None = None) -> str | None:
    """The experiment unit of a request (see module doc)."""
    if header := request.headers.get(USER_HEADER):
        return header
    if body_user:
        return body_user
    principal = getattr(request.state, "principal", None)
    if principal is not None and principal.kind in AUTHENTICATED_KINDS:
        return principal.user
    return None


def _pending(request: Request) -> RequestExperiments:
    pending = getattr(request.state, STATE_KEY, None)
    if pending is None:
        pending = RequestExperiments()
        setattr(request.state, STATE_KEY, pending)
    return pending


def _keep(request: Request, assignments: list[Assignment], suggestion: str, target: Target) -> None:
    if assignments:
        pending = _pending(request)
        pending.assignments = assignments
        pending.trace_id = suggestion
        pending.target = target


def apply_experiments(request: Request, inp: CompletionInput, body_user: str | None = None,
                      target: Target = COMPLETIONS) -> CompletionInput:
    """``inp`` as the user's arms serve it (with a trace id, its suggestion id); the assignment and
    ``target`` are kept for the response."""
    runtime = runtime_of(request)
    if not runtime.settings.experiments:
        return inp
    inp = with_trace_id(inp)
    inp, assignments = runtime.assign(inp, user_of(request, body_user), target)
    _keep(request, assignments, inp.trace_id or "", target)
    return inp


def apply_chat_experiments(request: Request, inp: ChatInput, target: Target,
                           body_user: str | None = None) -> ChatInput:
    """A chat-served suggestion (generations, chat-path completions) as the user's arms serve it."""
    runtime = runtime_of(request)
    if not runtime.settings.experiments:
        return inp
    arms, assignments = runtime.arms(target, user_of(request, body_user))
    for arm in arms:
        inp = apply_chat_arm(inp, arm)
    _keep(request, assignments, new_trace_id(), target)
    return inp


@dataclass(frozen=True)
class FeatureArm:
    """What the user's arms change about a feature request, known before its prompt is rendered."""

    model: str | None = None
    prompt_version: str | None = None
    arms: tuple[ExperimentArm, ...] = ()

    def apply(self, inp: ChatInput) -> ChatInput:
        """The rendered prompt's call as the arms serve it (their model is ``model``, which it was rendered for)."""
        for arm in self.arms:
            inp = apply_chat_arm(inp, arm)
        return inp


def feature_arm(request: Request, prompt_id: str, body_user: str | None = None) -> FeatureArm:
    """The user's arms for a request of prompt ``prompt_id`` (``feature`` or ``feature/family``; an
    unknown one raises ``PromptNotFound``); the last arm setting a model or prompt version wins."""
    runtime = runtime_of(request)
    if not runtime.settings.experiments:
        return FeatureArm()
    target = feature_target(default_registry().split_id(prompt_id)[0])
    arms, assignments = runtime.arms(target, user_of(request, body_user))
    _keep(request, assignments, new_trace_id(), target)
    return FeatureArm(model=next((a.model for a in reversed(arms) if a.model), None),
                      prompt_version=next((a.prompt_version for a in reversed(arms) if a.prompt_version), None),
                      arms=tuple(arms))


def suggestion_id(request: Request) -> str | None:
    """The suggestion id of a request in an experiment; None otherwise."""
    pending = getattr(request.state, STATE_KEY, None)
    return pending.trace_id if pending is not None and pending.assignments else None


def experiment_tags(request: Request) -> list[dict[str, str | int]]:
    """The request's ``[{name, variant, arm}]``; empty when it is in no experiment."""
    pending = getattr(request.state, STATE_KEY, None)
    return pending.tags() if pending is not None else []


def note_telemetry(request: Request, items: list[dict]) -> None:
    """Keep a GitLab request's ``telemetry[]`` counters (as dicts) for recording after the response."""
    if items:
        _pending(request).telemetry = runtime_of(request).telemetry_counts(items, user_of(request))


@router.post("/events", response_model=EventsAccepted)
async def post_events(body: EventBatch, request: Request) -> EventsAccepted:
    """Store a batch of events. Each counts in the experiment(s) its ``suggestion_id`` was served in, for the
    user served and with the serving arm; an ``experiment``/``arm`` that contradicts that recorded exposure
    rejects the batch with 422 naming ``events.N.experiment`` or ``events.N.arm`` (see the module doc)."""
    runtime = runtime_of(request)
    user = user_of(request)
    recorded = await asyncio.to_thread(lambda: runtime.store.add_events(runtime.stored_events(body, user)))
    return EventsAccepted(received=len(body.events), recorded=recorded, duplicates=len(body.events) - recorded)
