"""What the gateway holds for experiments (one :class:`ExperimentRuntime` per app), and the ASGI
middleware that tags responses and records exposures once a response has finished.

A route that assigns arms stores a :class:`RequestExperiments` in the request's state under
:data:`STATE_KEY`. :class:`ExposureMiddleware` then adds the ``X-Assay-Experiments`` header (a JSON
list of ``{name, variant, arm}``) to the response and, after its last byte, writes one
:class:`~assay.experiments.events.Exposure` per assignment (the request's target; latency of the whole
response; tokens from the pipeline trace, whose id is the suggestion id, else the usage the route noted;
error = status ≥ 500, 421 (a failed model call on ``/v1/prompts``) or a trace error; cost from the arm's
prices) plus the request's GitLab telemetry counters. A failing write is logged, never turned into a failed request.

Experiments on the ``features`` target are checked against the prompt registry when the runtime is
built (so ``create_app`` refuses them): each listed feature must exist, and each arm's
``prompt_version`` must match a version of every family of every feature the experiment covers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assay.config import ExperimentArm, ExperimentConfig, Settings, request_cost
from assay.errors import ConfigError, RequestInvalid
from assay.experiments.assign import COMPLETIONS, Assignment, Target, arms_for, assign
from assay.experiments.events import EventBatch, Exposure, StoredEvent, TelemetryCount
from assay.experiments.store import UNKNOWN_USER, EventStore, open_event_store
from assay.pipeline.engine import Engine
from assay.pipeline.types import CompletionInput, Trace
from assay.types import Usage

log = logging.getLogger("assay.experiments")

STATE_KEY = "assay_experiments"
HEADER = "X-Assay-Experiments"
MODEL_FAILED_STATUS = 421


@dataclass
class RequestExperiments:
    """A request's assignments and telemetry, waiting for the response to finish."""

    assignments: list[Assignment] = field(default_factory=list)
    trace_id: str | None = None
    """The suggestion id, which is also the id of the request's pipeline trace (every target)."""
    target: Target = COMPLETIONS
    """What the request produces, recorded with its exposures."""
    telemetry: list[TelemetryCount] = field(default_factory=list)
    usage: Usage | None = None
    """Tokens of a chat-served suggestion as the route noted them (used when its trace has none)."""

    def tags(self) -> list[dict[str, str | int]]:
        """``[{name, variant, arm}]`` for responses."""
        return [{"name": a.experiment, "variant": a.variant, "arm": a.arm} for a in self.assignments]


class ExperimentRuntime:
    """Configured experiments plus the event store (opened on first use, in ``database.url``)."""

    def __init__(self, settings: Settings, store: EventStore | None = None) -> None:
        check_prompt_targets(settings.experiments)
        self.settings = settings
        self._store = store
        self._lock = threading.Lock()

    @property
    def store(self) -> EventStore:
        with self._lock:
            if self._store is None:
                self._store = open_event_store(self.settings.database.url)
            return self._store

    def experiment(self, name: str) -> ExperimentConfig | None:
        return next((e for e in self.settings.experiments if e.name == name), None)

    def assign(self, inp: CompletionInput, user_id: str | None,
               target: Target = COMPLETIONS) -> tuple[CompletionInput, list[Assignment]]:
        return assign(self.settings.experiments, inp, user_id, self.settings.pipeline, target)

    def arms(self, target: Target, user_id: str | None) -> tuple[list[ExperimentArm], list[Assignment]]:
        return arms_for(self.settings.experiments, target, user_id)

    def arm_name(self, experiment: str, arm: str | int, where: str) -> str:
        """The name of ``arm`` (a name or a variant index) of a configured experiment; ``RequestInvalid`` naming ``where``."""
        config = self.experiment(experiment)
        if config is None:
            known = ", ".join(e.name for e in self.settings.experiments) or "none"
            raise RequestInvalid(f"experiment '{experiment}' is not configured; configured: {known}",
                                 field=f"{where}.experiment")
        names = [a.name for a in config.arms]
        if isinstance(arm, int):
            if 0 <= arm < len(names):
                return names[arm]
        elif arm in names:
            return arm
        raise RequestInvalid(f"'{arm}' is not an arm of experiment '{experiment}'; arms: "
                             f"{', '.join(f'{i}={n}' for i, n in enumerate(names))}", field=f"{where}.arm")

    def stored_events(self, batch: EventBatch, default_user: str | None) -> list[StoredEvent]:
        """The batch as stored. A suggestion the gateway served gives its events their user (whatever the event
        or caller says), and an event naming an experiment and arm must name one it was served in, with that
        arm. An event for an id with no exposure (yet) keeps its ``user_id``, else the caller's, else
        :data:`~assay.experiments.store.UNKNOWN_USER`, and what it names is checked against the config only:
        it counts nowhere unless the exposure turns up (see :mod:`assay.experiments.store`). Reads the
        store: call it in a thread."""
        served = self.store.served(e.suggestion_id for e in batch.events)
        out = []
        for i, e in enumerate(batch.events):
            record = served.get(e.suggestion_id)
            user = record.user_id if record else e.user_id or default_user or UNKNOWN_USER
            arm = None
            if e.experiment is not None and e.arm is not None:
                arm = self.arm_name(e.experiment, e.arm, f"events.{i}")
                _check_exposed(record.arms if record else None, e.experiment, arm, e.suggestion_id, f"events.{i}")
            out.append(StoredEvent(id=e.id, type=e.type, suggestion_id=e.suggestion_id, user_id=user,
                                   experiment=e.experiment, arm=arm, at=e.epoch, accepted_chars=e.accepted_chars,
                                   retained_chars=e.retained_chars, checkpoint_s=e.checkpoint_s))
        return out

    def exposures(self, pending: RequestExperiments, latency_ms: float, status: int, trace: Trace | None) -> list[Exposure]:
        usage = pending.usage or Usage()
        prompt = trace.prompt_tokens if trace else usage.prompt_tokens
        completion = trace.completion_tokens if trace else usage.completion_tokens
        error = status >= 500 or status == MODEL_FAILED_STATUS or (trace is not None and trace.error is not None)
        now = time.time()
        out = []
        for a in pending.assignments:
            config = self.experiment(a.experiment)
            arm = config.arms[a.variant] if config else None
            cost = request_cost(Usage(prompt_tokens=prompt, completion_tokens=completion), arm.price) if arm else 0.0
            out.append(Exposure(experiment=a.experiment, arm=a.arm, user_id=a.user_id, at=now,
                                trace_id=pending.trace_id, latency_ms=latency_ms, prompt_tokens=prompt,
                                completion_tokens=completion, error=error, cost=cost, target=pending.target.key))
        return out

    def telemetry_counts(self, items: list[dict], user_id: str | None) -> list[TelemetryCount]:
        """GitLab ``telemetry[]`` items (as dicts) → one count per experiment variant named (or one without)."""
        now = time.time()
        out = []
        for item in items:
            common = {"at": now, "user_id": user_id, "model_engine": item.get("model_engine"),
                      "model_name": item.get("model_name"), "lang": item.get("lang"),
                      "requests": item["requests"], "accepts": item["accepts"], "errors": item["errors"]}
            experiments = item.get("experiments") or []
            if not experiments:
                out.append(TelemetryCount(experiment=None, variant=None, arm=None, **common))
            for exp in experiments:
                config = self.experiment(exp["name"])
                variant = exp["variant"]
                arm = config.arms[variant].name if config and 0 <= variant < len(config.arms) else None
                out.append(TelemetryCount(experiment=exp["name"], variant=variant, arm=arm, **common))
        return out

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


def _check_exposed(served: dict[str, str] | None, experiment: str, arm: str, suggestion: str, where: str) -> None:
    """``RequestInvalid`` naming ``where``'s field when suggestion ``suggestion`` was served (``served``:
    experiment → arm; None: no exposure yet) outside ``experiment`` or by another arm."""
    if served is None:
        return
    if experiment not in served:
        raise RequestInvalid(f"suggestion '{suggestion}' was not served in experiment '{experiment}'; it was in: "
                             f"{', '.join(sorted(served))} (send only suggestion_id to use the gateway's record)",
                             field=f"{where}.experiment")
    if served[experiment] != arm:
        raise RequestInvalid(f"suggestion '{suggestion}' was served by arm '{served[experiment]}' of experiment "
                             f"'{experiment}', not '{arm}' (send only suggestion_id to use the gateway's record)",
                             field=f"{where}.arm")


def check_prompt_targets(experiments: list[ExperimentConfig]) -> None:
    """``ConfigError`` naming the field when a ``features`` experiment names an unknown feature or pins a
    ``prompt_version`` that some family of a covered feature lacks."""
    if not any("features" in e.targets for e in experiments):
        return
    from assay.prompts import PromptNotFound, default_registry

    registry = default_registry()
    known = registry.features()
    for i, experiment in enumerate(experiments):
        for j, feature in enumerate(experiment.features):
            if feature not in known:
                raise ConfigError(f"experiments.{i}.features.{j}: unknown feature '{feature}'; known: {', '.join(known)}")
        for j, arm in enumerate(experiment.arms):
            if arm.prompt_version is None:
                continue
            for feature in experiment.features or known:
                for family in registry.families(feature):
                    try:
                        registry.resolve(f"{feature}/{family}", constraint=arm.prompt_version)
                    except (PromptNotFound, RequestInvalid) as exc:
                        raise ConfigError(f"experiments.{i}.arms.{j}.prompt_version: "
                                          f"{exc.message.removeprefix('prompt_version: ')}") from None


class ExposureMiddleware:
    """Tags responses of assigned requests and records their exposures and telemetry (see module doc)."""

    def __init__(self, app: ASGIApp, runtime: ExperimentRuntime, engine: Engine) -> None:
        self.app = app
        self.runtime = runtime
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        start = time.perf_counter()
        status = 500

        async def tagging_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                pending: RequestExperiments | None = state.get(STATE_KEY)
                if pending is not None and pending.assignments:
                    value = json.dumps(pending.tags(), separators=(",", ":")).encode()
                    message = {**message, "headers": [*message.get("headers", []), (HEADER.lower().encode(), value)]}
            await send(message)

        try:
            await self.app(scope, receive, tagging_send)
        finally:
            pending = state.get(STATE_KEY)
            if pending is not None and (pending.assignments or pending.telemetry):
                latency_ms = (time.perf_counter() - start) * 1000
                trace = self.engine.trace(pending.trace_id) if pending.trace_id else None
                # Shielded: a client that closes its stream right after the last byte cancels this task,
                # and the exposure must still be written.
                await asyncio.shield(self._record(pending, self.runtime.exposures(pending, latency_ms, status, trace)))

    async def _record(self, pending: RequestExperiments, exposures: list[Exposure]) -> None:
        store = self.runtime

        def write() -> None:
            store.store.add_exposures(exposures)
            store.store.add_telemetry(pending.telemetry)

        try:
            await asyncio.to_thread(write)
        except Exception as exc:  # noqa: BLE001
            log.error("experiment exposures were not recorded: %s", exc)
