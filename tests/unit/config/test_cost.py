"""Model prices (``models[].cost``) and the one cost formula that evaluation runs and experiments share."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.config import ExperimentArm, ModelConfig, ModelCost, load_settings, request_cost
from assay.errors import ConfigError
from assay.types import Usage


def test_request_cost_prices_prompt_and_completion_tokens_per_thousand() -> None:
    price = ModelCost(prompt_per_1k=0.5, completion_per_1k=2.0)
    assert request_cost(Usage(prompt_tokens=1200, completion_tokens=300), price) == pytest.approx(0.6 + 0.6)
    assert request_cost(Usage(prompt_tokens=7, completion_tokens=0), price) == pytest.approx(0.0035)
    assert request_cost(Usage(prompt_tokens=1200, completion_tokens=300), ModelCost()) == 0.0


def test_a_model_is_free_in_usd_unless_priced(tmp_path: Path) -> None:
    assert ModelConfig(name="m").cost == ModelCost(prompt_per_1k=0.0, completion_per_1k=0.0, currency="USD")
    cfg = tmp_path / "assay.yaml"
    cfg.write_text("models:\n  - {name: a, provider: echo, cost: {prompt_per_1k: 0.25, completion_per_1k: 1, currency: EUR}}\n")
    assert load_settings(cfg).model("a").cost == ModelCost(prompt_per_1k=0.25, completion_per_1k=1.0, currency="EUR")


@pytest.mark.parametrize("cost", ["{prompt_per_1k: -1}", "{completion_per_1k: -0.5}", "{currency: ''}", "{per_token: 1}"])
def test_negative_prices_empty_currencies_and_unknown_fields_are_refused(tmp_path: Path, cost: str) -> None:
    cfg = tmp_path / "assay.yaml"
    cfg.write_text(f"models:\n  - {{name: a, provider: echo, cost: {cost}}}\n")
    with pytest.raises(ConfigError, match=r"models\.0\.cost\."):
        load_settings(cfg)


def test_experiment_arm_prices_use_the_same_formula() -> None:
    arm = ExperimentArm(name="t", prompt_cost_per_1k=1.0, completion_cost_per_1k=3.0)
    assert arm.price == ModelCost(prompt_per_1k=1.0, completion_per_1k=3.0)
    assert request_cost(Usage(prompt_tokens=500, completion_tokens=100), arm.price) == pytest.approx(0.8)
