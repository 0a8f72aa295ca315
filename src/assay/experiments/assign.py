"""Deterministic assignment: ``sha256(salt + ":" + user_id)`` → a number uniform in [0, 1) → the arm whose
cumulative weight share covers it. The same user always gets the same arm while salt and weights stay.

A request without a user id gets every running experiment's control arm (the first) and is not part of
the experiment: no assignment is returned, so nothing is recorded or reported for it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from assay.config import ExperimentArm, ExperimentConfig, PipelineConfig
from assay.pipeline.types import CompletionInput


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


def assign(experiments: list[ExperimentConfig], inp: CompletionInput, user_id: str | None,
           base: PipelineConfig) -> tuple[CompletionInput, list[Assignment]]:
    """Apply every running experiment's arm for ``user_id`` (in config order) and return the assignments."""
    assignments: list[Assignment] = []
    for experiment in experiments:
        if experiment.status != "running":
            continue
        if not user_id:
            inp = apply_arm(inp, experiment.arms[0], base)
            continue
        chosen = assign_arm(experiment, user_id)
        inp = apply_arm(inp, experiment.arms[chosen.variant], base)
        assignments.append(chosen)
    return inp, assignments
