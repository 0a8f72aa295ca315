"""The ``POST /v1/events`` body and the typed records the event store keeps.

A client reports what happened to each suggestion: ``shown``, ``accepted``, ``rejected``,
``partially_accepted`` (with ``accepted_chars``), and ``retained`` (``retained_chars`` still present
``checkpoint_s`` seconds later: 30, 120, 300 or 600). Every event carries a client-generated ``id``;
a repeated id is stored once. ``arm`` may be the arm's name or GitLab's variant index.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

EventType = Literal["shown", "accepted", "rejected", "partially_accepted", "retained"]
CHECKPOINTS_S = (30, 120, 300, 600)
MAX_BATCH = 1000


class EventIn(BaseModel):
    """One suggestion event as a client sends it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=128)
    type: EventType
    suggestion_id: str = Field(min_length=1, max_length=128)
    """The suggestion's trace id (``X-Assay-Trace-Id``) or the client's own id for it."""
    user_id: str | None = Field(default=None, min_length=1, max_length=200)
    """Not needed for a suggestion the gateway served (its exposure names the user, and wins). For other ids:
    default the caller's user id (``X-Gitlab-Global-User-Id`` or the API key's user), else none."""
    experiment: str | None = Field(default=None, max_length=100)
    arm: str | int | None = None
    timestamp: dt.datetime
    """When it happened; a time without zone is UTC."""
    accepted_chars: int | None = Field(default=None, ge=0)
    retained_chars: int | None = Field(default=None, ge=0)
    checkpoint_s: int | None = None

    @model_validator(mode="after")
    def _fields_for_type(self) -> EventIn:
        if self.type == "partially_accepted" and self.accepted_chars is None:
            raise ValueError("a partially_accepted event needs accepted_chars")
        if self.type == "retained":
            if self.retained_chars is None:
                raise ValueError("a retained event needs retained_chars")
            if self.checkpoint_s not in CHECKPOINTS_S:
                raise ValueError(f"checkpoint_s must be one of {', '.join(map(str, CHECKPOINTS_S))} for a retained event")
        if (self.experiment is None) != (self.arm is None):
            raise ValueError("experiment and arm must be given together")
        return self

    @property
    def epoch(self) -> float:
        ts = self.timestamp if self.timestamp.tzinfo else self.timestamp.replace(tzinfo=dt.UTC)
        return ts.timestamp()


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH)


class EventsAccepted(BaseModel):
    """The answer to a batch: how many events were new and how many were repeats of stored ids."""

    received: int
    recorded: int
    duplicates: int


@dataclass(frozen=True)
class StoredEvent:
    """An event as stored: names resolved (``arm`` is the arm's name), time as epoch seconds."""

    id: str
    type: str
    suggestion_id: str
    user_id: str
    experiment: str | None
    arm: str | None
    at: float
    accepted_chars: int | None = None
    retained_chars: int | None = None
    checkpoint_s: int | None = None


@dataclass(frozen=True)
class Exposure:
    """One suggestion request served to an assigned user: what the guardrails and target filters need."""

    experiment: str
    arm: str
    user_id: str
    at: float
    trace_id: str | None
    latency_ms: float
    prompt_tokens: int
    completion_tokens: int
    error: bool
    cost: float
    target: str = "code_completions"
    """What was served (:attr:`~assay.experiments.assign.Target.key`): ``code_completions``,
    ``code_generations``, ``infill`` or ``feature:<id>``; exposures stored before targets were recorded
    read as ``code_completions``."""


@dataclass(frozen=True)
class TelemetryCount:
    """One GitLab ``telemetry[]`` item of a completion request, per experiment variant it names."""

    at: float
    user_id: str | None
    experiment: str | None
    variant: int | None
    arm: str | None
    model_engine: str | None
    model_name: str | None
    lang: str | None
    requests: int
    accepts: int
    errors: int
