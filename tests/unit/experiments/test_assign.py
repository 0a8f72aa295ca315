"""Deterministic assignment and what an arm changes in a request."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from assay.config import ExperimentConfig, PipelineConfig
from assay.experiments import apply_arm, assign, assign_arm, bucket
from assay.pipeline.types import CompletionInput, RequestOverrides


def _exp(**kw: object) -> ExperimentConfig:
    base = {"name": "e", "salt": "pepper", "arms": [{"name": "control", "weight": 1}, {"name": "treatment", "weight": 3}]}
    return ExperimentConfig(**{**base, **kw})


def test_bucket_is_sha256_of_salt_and_user() -> None:
    digest = hashlib.sha256(b"pepper:alice").digest()
    assert bucket("pepper", "alice") == int.from_bytes(digest[:8], "big") / 2**64
    assert 0 <= bucket("pepper", "alice") < 1


def test_assignment_is_deterministic_and_follows_the_weights() -> None:
    exp = _exp()
    users = [f"u{i}" for i in range(8000)]
    first = [assign_arm(exp, u) for u in users]
    assert first == [assign_arm(exp, u) for u in users]
    counts = Counter(a.arm for a in first)
    share = counts["treatment"] / len(users)
    assert abs(share - 0.75) < 0.02
    assert {a.variant for a in first if a.arm == "treatment"} == {1}


def test_salt_reshuffles_users() -> None:
    users = [f"u{i}" for i in range(400)]
    a = [assign_arm(_exp(), u).arm for u in users]
    b = [assign_arm(_exp(salt="other"), u).arm for u in users]
    assert 0.2 < sum(x != y for x, y in zip(a, b, strict=True)) / len(users) < 0.6


def test_apply_arm_sets_model_pipeline_and_decoding() -> None:
    exp = _exp(arms=[{"name": "c"}, {"name": "t", "model": "big",
                                       "pipeline": {"context": False, "context_share": 0.5, "max_tokens": 32,
                                                    "temperature": 0.2}}])
    inp = CompletionInput(prefix="x", model="small", overrides=RequestOverrides(max_tokens=8, n=2))
    out = apply_arm(inp, exp.arms[1], PipelineConfig(max_context_snippets=7))
    assert out.model == "big"
    assert out.overrides == RequestOverrides(max_tokens=32, temperature=0.2, n=2)
    assert out.pipeline == PipelineConfig(context=False, context_share=0.5, max_context_snippets=7)
    assert apply_arm(inp, exp.arms[0], PipelineConfig()) == inp


@pytest.mark.parametrize("user", [None, ""])
def test_no_user_gets_control_and_no_assignment(user: str | None) -> None:
    exp = _exp(arms=[{"name": "c", "model": "m0"}, {"name": "t", "model": "m1"}])
    out, assignments = assign([exp], CompletionInput(prefix="x"), user, PipelineConfig())
    assert out.model == "m0" and assignments == []


def test_stopped_experiments_change_nothing_and_several_apply_in_order() -> None:
    one = _exp(name="one", arms=[{"name": "c", "model": "m0", "weight": 1e-9}, {"name": "t", "model": "m1"}])
    two = _exp(name="two", salt="x", arms=[{"name": "c", "pipeline": {"postprocess": False}}, {"name": "t", "weight": 1e-9}])
    stopped = _exp(name="off", status="stopped", arms=[{"name": "c", "model": "zzz"}, {"name": "t", "model": "zzz"}])
    out, assignments = assign([one, two, stopped], CompletionInput(prefix="x"), "alice", PipelineConfig())
    assert [(a.experiment, a.arm, a.variant) for a in assignments] == [("one", "t", 1), ("two", "c", 0)]
    assert out.model == "m1" and out.pipeline is not None and out.pipeline.postprocess is False
