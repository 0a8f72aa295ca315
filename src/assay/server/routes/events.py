"""``POST /v1/events`` (scope ``events``): clients report what happened to suggestions, in batches, and
the helpers the completion routes call to put a request into the configured experiments.

Body: ``{"events": [{id, type, suggestion_id, user_id?, experiment?, arm?, timestamp, accepted_chars?,
retained_chars?, checkpoint_s?}, ...]}`` (see :mod:`assay.experiments.events`). Answer:
``{received, recorded, duplicates}``; an event id seen before is counted once. A wrong field answers
422 naming it (``events.3.arm``).

The user of a request is ``X-Gitlab-Global-User-Id``, else the OpenAI ``user`` field, else the
authenticated API key's (or GitLab token's) user; without one, a request gets the control arms and
is not part of any experiment.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request

from assay.experiments.events import EventBatch, EventsAccepted
from assay.experiments.runtime import STATE_KEY, ExperimentRuntime, RequestExperiments
from assay.pipeline.types import CompletionInput
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


def apply_experiments(request: Request, inp: CompletionInput, body_user: str | None = None) -> CompletionInput:
    """``inp`` as the user's arms serve it (with a trace id); the assignment is kept for the response."""
    runtime = runtime_of(request)
    if not runtime.settings.experiments:
        return inp
    inp = with_trace_id(inp)
    inp, assignments = runtime.assign(inp, user_of(request, body_user))
    if assignments:
        pending = _pending(request)
        pending.assignments = assignments
        pending.trace_id = inp.trace_id
    return inp


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
    runtime = runtime_of(request)
    events = runtime.stored_events(body, user_of(request))
    recorded = await asyncio.to_thread(lambda: runtime.store.add_events(events))
    return EventsAccepted(received=len(body.events), recorded=recorded, duplicates=len(body.events) - recorded)
