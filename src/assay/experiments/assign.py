"""Deterministic assignment: ``sha256(salt + ":" + user_id)`` → a number uniform in [0, 1) → the arm whose
cumulative weight share covers it. The same user always gets the same arm while salt and weights stay,
whichever of the experiment's targets the request is for.

A request takes part in the running experiments whose ``targets`` cover its :class:`Target`. A request
without a user id gets those experiments' control arms (the first) and is not part of them: no
assignment is returned, so nothing is recorded or reported for it.

A request's target is stored with its exposures (:attr:`Target.key`); suggestion ids stay opaque.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import get_args

from assay.config import ExperimentArm, ExperimentConfig, ExperimentTarget, PipelineConfig
from assay.errors import RequestInvalid
from assay.pipeline.engine import ChatInput
from assay.pipeline.types import CompletionInput

TARGETS: tuple[str, ...] = get_args(ExperimentTarget)
FEATURE_PREFIX = "feature:"


@dataclass(frozen=True)
class Target:
    """What a request produces: an endpoint kind, and for ``features`` the prompt feature."""

    kind: ExperimentTarget
    feature: str | None = None

    @property
    def key(self) -> str:
        """``code_completions``, ``code_generations``, ``infill`` or ``feature:<id>``."""
        return f"{FEATURE_PREFIX}{self.feature}" if self.kind == "features" else self.kind

    def covered_by(self, experiment: ExperimentConfig) -> bool:
        if self.kind not in experiment.targets:
            return False
        return self.kind != "features" or not experiment.features or self.feature in experiment.features


COMPLETIONS = Target("code_completions")
GENERATIONS = Target("code_generations")
INFILL = Target("infill")


def feature_target(feature: str) -> Target:
    return Target("features", feature)


def check_target_filter(value: str) -> str:
    """A target filter as ``assay experiment analyze --target`` takes it: a target (``features`` = every
    feature) or ``feature:<id>``; ``RequestInvalid`` naming ``--target`` otherwise."""
    if value in TARGETS or (value.startswith(FEATURE_PREFIX) and len(value) > len(FEATURE_PREFIX)):
        return value
    raise RequestInvalid(f"unknown target '{value}'; targets: {', '.join(TARGETS)} or feature:<id>", field="--target")


@dataclass(frozen=True)
class Assignment:
    """A user's arm in one experiment; ``variant`` is the arm's index (GitLab's ``experiments[].variant``)."""

    experiment: str
    arm: str
    variant: int
    user_id: str


def bucket(salt: str, user_id: str) -> float:
    """The user's position in [0, 1) for an experiment salted with ``salt``."""
    digest = hashlib.sha256(f"{salt}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign_arm(experiment: ExperimentConfig, user_id: str) -> Assignment:
    """The arm of ``user_id`` in ``experiment``, by cumulative weights."""
    u = bucket(experiment.salt, user_id) * sum(a.weight for a in experiment.arms)
    edge = 0.0
    for variant, arm in enumerate(experiment.arms):
        edge += arm.weight
        if u < edge:
            return Assignment(experiment.name, arm.name, variant, user_id)
    last = len(experiment.arms) - 1
    return Assignment(experiment.name, experiment.arms[last].name, last, user_id)


def apply_arm(inp: CompletionInput, arm: ExperimentArm, base: PipelineConfig) -> CompletionInput:
    """``inp`` as the arm serves it: its model, pipeline settings, max tokens and temperature win over the request's."""
    p = arm.pipeline
    pipeline_changes = {k: v for k, v in p.model_dump(exclude={"max_tokens", "temperature"}).items() if v is not None}
    current = inp.pipeline or base
    overrides = inp.overrides
    if p.max_tokens is not None:
        overrides = replace(overrides, max_tokens=p.max_tokens)
    if p.temperature is not None:
        overrides = replace(overrides, temperature=p.temperature)
    return replace(inp, model=arm.model or inp.model, overrides=overrides,
                   pipeline=current.model_copy(update=pipeline_changes) if pipeline_changes else inp.pipeline)


def apply_chat_arm(inp: ChatInput, arm: ExperimentArm) -> ChatInput:
    """``inp`` as the arm serves it: its model, max tokens and temperature win over the request's."""
    p = arm.pipeline
    changes = {k: v for k, v in (("max_tokens", p.max_tokens), ("temperature", p.temperature)) if v is not None}
    return replace(inp, model=arm.model or inp.model, overrides=replace(inp.overrides, **changes))


def arms_for(experiments: list[ExperimentConfig], target: Target,
             user_id: str | None) -> tuple[list[ExperimentArm], list[Assignment]]:
    """The arms serving a ``target`` request of ``user_id`` (running experiments covering it, in config
    order; control arms without a user) and the assignments to report (none without a user)."""
    arms: list[ExperimentArm] = []
    assignments: list[Assignment] = []
    for experiment in experiments:
        if experiment.status != "running" or not target.covered_by(experiment):
            continue
        if not user_id:
            arms.append(experiment.arms[0])
            continue
        chosen = assign_arm(experiment, user_id)
        arms.append(experiment.arms[chosen.variant])
        assignments.append(chosen)
    return arms, assignments


def assign(experiments: list[ExperimentConfig], inp: CompletionInput, user_id: str | None,
           base: PipelineConfig, target: Target = COMPLETIONS) -> tuple[CompletionInput, list[Assignment]]:
    """Apply every covering experiment's arm for ``user_id`` (in config order) and return the assignments."""
    arms, assignments = arms_for(experiments, target, user_id)
    for arm in arms:
        inp = apply_arm(inp, arm, base)
    return inp, assignments
