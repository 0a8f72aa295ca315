"""Experiment targets: config validation naming the field, which requests an experiment covers, the
analyze filter's values, and the arm's changes to a chat-served request. (Filtering the store by target:
tests/integration/experiments/test_store_targets.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from assay.config import ExperimentConfig, Settings, load_settings
from assay.errors import ConfigError, RequestInvalid
from assay.experiments.assign import (
    COMPLETIONS,
    GENERATIONS,
    INFILL,
    apply_chat_arm,
    arms_for,
    check_target_filter,
    feature_target,
)
from assay.experiments.runtime import ExperimentRuntime, check_prompt_targets
from assay.pipeline.engine import ChatInput
from assay.pipeline.types import RequestOverrides
from assay.types import ChatMessage

MODELS = [{"name": "a", "provider": "echo"}, {"name": "b", "provider": "echo"}]
ARMS = [{"name": "control", "model": "a"}, {"name": "treatment", "model": "b"}]


def _experiment(**extra: Any) -> dict[str, Any]:
    return {"name": "ab", "salt": "s", "arms": ARMS, **extra}


def _load(tmp_path: Path, experiment: dict[str, Any]) -> Settings:
    path = tmp_path / "assay.yaml"
    path.write_text(yaml.safe_dump({"models": MODELS, "experiments": [experiment]}))
    return load_settings(path)


def test_targets_default_to_code_completions(tmp_path: Path) -> None:
    exp = _load(tmp_path, _experiment()).experiments[0]
    assert exp.targets == ["code_completions"] and exp.features == []
    assert COMPLETIONS.covered_by(exp) and not GENERATIONS.covered_by(exp) and not feature_target("fix_code").covered_by(exp)


@pytest.mark.parametrize(("experiment", "field", "words"), [
    (_experiment(targets=["code_completions", "chat"]), "experiments.0.targets.1", "'infill'"),
    (_experiment(targets=[]), "experiments.0.targets", "at least 1"),
    (_experiment(features=["explain_code"]), "experiments.0", "targets does not include 'features'"),
    (_experiment(arms=[ARMS[0], {**ARMS[1], "prompt_version": "1.0.0"}]), "experiments.0", "arms treatment set prompt_version"),
])
def test_bad_targets_are_refused_naming_the_field(tmp_path: Path, experiment: dict[str, Any], field: str,
                                                  words: str) -> None:
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, experiment)
    assert field in err.value.message and words in err.value.message, err.value.message


@pytest.mark.parametrize(("experiment", "field", "words"), [
    (_experiment(targets=["features"], features=["explain_code", "tell_jokes"]), "experiments.0.features.1",
     "unknown feature 'tell_jokes'"),
    (_experiment(targets=["features"], arms=[ARMS[0], {**ARMS[1], "prompt_version": "^2.0.0"}]),
     "experiments.0.arms.1.prompt_version", "no version matching '^2.0.0'"),
    (_experiment(targets=["features"], features=["fix_code"], arms=[{**ARMS[0], "prompt_version": "one"}, ARMS[1]]),
     "experiments.0.arms.0.prompt_version", "bad version constraint"),
])
def test_features_and_prompt_versions_are_checked_against_the_registry_at_start(
        experiment: dict[str, Any], field: str, words: str) -> None:
    settings = Settings(models=MODELS, experiments=[experiment])
    with pytest.raises(ConfigError) as err:
        ExperimentRuntime(settings)
    assert err.value.message.startswith(field) and words in err.value.message, err.value.message


def test_a_valid_feature_experiment_starts() -> None:
    check_prompt_targets([ExperimentConfig(**_experiment(targets=["features"], features=["fix_code"],
                                                         arms=[{**ARMS[0], "prompt_version": "~1.0"}, ARMS[1]]))])


def test_an_experiment_covers_only_its_targets_and_features() -> None:
    gen = ExperimentConfig(**_experiment(name="gen", targets=["code_generations", "infill"]))
    chat = ExperimentConfig(**_experiment(name="chat", salt="t", targets=["features"], features=["fix_code"]))
    every = ExperimentConfig(**_experiment(name="every", salt="u", targets=["features"]))
    experiments = [gen, chat, every]
    assert [a.experiment for a in arms_for(experiments, GENERATIONS, "u1")[1]] == ["gen"]
    assert [a.experiment for a in arms_for(experiments, INFILL, "u1")[1]] == ["gen"]
    assert [a.experiment for a in arms_for(experiments, feature_target("fix_code"), "u1")[1]] == ["chat", "every"]
    assert [a.experiment for a in arms_for(experiments, feature_target("explain_code"), "u1")[1]] == ["every"]
    assert arms_for(experiments, COMPLETIONS, "u1") == ([], [])
    arms, assignments = arms_for(experiments, GENERATIONS, None)
    assert [a.name for a in arms] == ["control"] and assignments == []


def test_target_keys() -> None:
    assert [t.key for t in (COMPLETIONS, GENERATIONS, INFILL, feature_target("fix_code"))] == [
        "code_completions", "code_generations", "infill", "feature:fix_code"]


def test_target_filter_values_are_checked() -> None:
    assert check_target_filter("feature:fix_code") == "feature:fix_code"
    for bad in ("chat", "feature:", "generations"):
        with pytest.raises(RequestInvalid, match="--target"):
            check_target_filter(bad)


def test_a_chat_arm_sets_model_max_tokens_and_temperature_and_keeps_the_rest() -> None:
    inp = ChatInput(messages=(ChatMessage("user", "hi"),), model="a",
                    overrides=RequestOverrides(max_tokens=50, temperature=0.2, stop=("\n",), n=2))
    arm = ExperimentConfig(**_experiment(arms=[ARMS[0], {**ARMS[1], "pipeline": {"max_tokens": 8}}])).arms[1]
    out = apply_chat_arm(inp, arm)
    assert out.model == "b" and out.overrides == RequestOverrides(max_tokens=8, temperature=0.2, stop=("\n",), n=2)
    assert apply_chat_arm(inp, ExperimentConfig(**_experiment(arms=[{"name": "c"}, {"name": "t"}])).arms[0]) == inp
