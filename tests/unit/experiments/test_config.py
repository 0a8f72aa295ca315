"""Experiments in assay.yaml are validated at load, with errors naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from assay.config import load_settings
from assay.errors import ConfigError

MODELS = [{"name": "a", "provider": "echo"}, {"name": "b", "provider": "echo"}]


def _load(tmp_path: Path, experiments: list[dict[str, Any]]) -> Any:
    path = tmp_path / "assay.yaml"
    path.write_text(yaml.safe_dump({"models": MODELS, "experiments": experiments}))
    return load_settings(path)


def _arms(*arms: dict[str, Any]) -> list[dict[str, Any]]:
    return list(arms) or [{"name": "control", "model": "a"}, {"name": "treatment", "model": "b"}]


def test_a_valid_experiment_loads_with_defaults(tmp_path: Path) -> None:
    settings = _load(tmp_path, [{"name": "ab", "salt": "s", "arms": _arms()}])
    exp = settings.experiments[0]
    assert exp.status == "running" and exp.unit == "user" and exp.guardrails.latency_p95 == 0.10
    assert [a.weight for a in exp.arms] == [1.0, 1.0]


@pytest.mark.parametrize(("experiments", "field", "words"), [
    ([{"name": "ab", "salt": "s", "arms": _arms({"name": "c", "weight": 0}, {"name": "t"})}],
     "experiments.0.arms.0.weight", "greater than 0"),
    ([{"name": "ab", "salt": "s", "arms": _arms({"name": "c", "model": "nope"}, {"name": "t"})}],
     "experiments.0.arms.0.model", "'nope'"),
    ([{"name": "ab", "salt": "s", "arms": _arms()}, {"name": "ab", "salt": "t", "arms": _arms()}],
     "experiment names must be unique", "ab"),
    ([{"name": "ab", "salt": "s", "arms": _arms({"name": "c"}, {"name": "c"})}],
     "experiments.0", "arm names must be unique"),
    ([{"name": "ab", "salt": "s", "arms": _arms({"name": "c"})}], "experiments.0.arms", "at least 2"),
    ([{"name": "ab", "arms": _arms()}], "experiments.0.salt", "required"),
    ([{"name": "ab", "salt": "s", "unit": "session", "arms": _arms()}], "experiments.0.unit", "user"),
    ([{"name": "ab", "salt": "s", "arms": _arms({"name": "c", "pipeline": {"context_budget": 3}}, {"name": "t"})}],
     "experiments.0.arms.0.pipeline.context_budget", "not permitted"),
])
def test_bad_experiments_raise_config_error_naming_the_field(tmp_path: Path, experiments: list[dict[str, Any]],
                                                             field: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, experiments)
    assert field in err.value.message and words in err.value.message
    assert "\n" not in err.value.message
