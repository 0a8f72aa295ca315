"""The one conversion from request overrides and model defaults into GenerateParams."""

from __future__ import annotations

import pytest

from assay.config import ModelConfig, ModelDefaults
from assay.errors import RequestInvalid
from assay.pipeline.params import MAX_TOKENS_CAP, build_params
from assay.pipeline.types import RequestOverrides
from assay.specs.registry import get_spec

SPEC = get_spec("assay-nano")


def model(**defaults: object) -> ModelConfig:
    return ModelConfig(name="m", provider="echo", defaults=ModelDefaults(**defaults))  # type: ignore[arg-type]


def test_spec_defaults_apply_when_nothing_else_is_set() -> None:
    params = build_params(RequestOverrides(), model(), SPEC)
    assert params.max_tokens == SPEC.defaults.max_tokens
    assert params.time_budget_s == SPEC.defaults.time_budget_s
    assert params.temperature == 0.0 and params.top_p == 1.0 and params.n == 1
    assert params.stop == SPEC.stop


def test_model_config_beats_spec_and_request_beats_model_config() -> None:
    cfg = model(max_tokens=10, temperature=0.5, time_budget_s=3.0, stop=["\n\n"])
    params = build_params(RequestOverrides(), cfg, SPEC)
    assert (params.max_tokens, params.temperature, params.time_budget_s) == (10, 0.5, 3.0)
    params = build_params(RequestOverrides(max_tokens=5, temperature=0.0, top_p=0.9, stop=("END",), n=2, seed=7),
                          cfg, SPEC)
    assert (params.max_tokens, params.temperature, params.top_p, params.n, params.seed) == (5, 0.0, 0.9, 2, 7)
    assert params.stop == SPEC.stop + ("\n\n", "END")


def test_stops_are_deduplicated_and_chat_leaves_out_fim_stops() -> None:
    params = build_params(RequestOverrides(stop=(SPEC.stop[0], "x")), model(), SPEC, fim_stops=False)
    assert params.stop == (SPEC.stop[0], "x")


@pytest.mark.parametrize(("overrides", "field"), [
    (RequestOverrides(max_tokens=0), "max_tokens"),
    (RequestOverrides(max_tokens=MAX_TOKENS_CAP + 1), "max_tokens"),
    (RequestOverrides(temperature=2.5), "temperature"),
    (RequestOverrides(temperature=-0.1), "temperature"),
    (RequestOverrides(top_p=0.0), "top_p"),
    (RequestOverrides(top_p=1.5), "top_p"),
    (RequestOverrides(n=0), "n"),
    (RequestOverrides(n=9), "n"),
    (RequestOverrides(stop=("",)), "stop"),
    (RequestOverrides(time_budget_s=0.0), "time_budget_s"),
])
def test_out_of_range_values_name_the_field(overrides: RequestOverrides, field: str) -> None:
    with pytest.raises(RequestInvalid) as err:
        build_params(overrides, model(), SPEC)
    assert err.value.field == field
    assert err.value.status_code == 422
    assert "\n" not in err.value.message


def test_repetition_penalty_comes_from_the_spec_unless_the_model_config_sets_one() -> None:
    assert SPEC.defaults.repetition_penalty > 1.0, "assay-nano loops without a penalty"
    assert build_params(RequestOverrides(), model(), SPEC).repetition_penalty == SPEC.defaults.repetition_penalty
    assert build_params(RequestOverrides(), model(repetition_penalty=1.0), SPEC).repetition_penalty == 1.0
    assert build_params(RequestOverrides(), model(), get_spec("starcoder")).repetition_penalty == 1.0
