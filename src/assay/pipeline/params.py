"""The one conversion from a request's overrides and the model's defaults into ``GenerateParams``.

Precedence for every field: request → model config (``ModelConfig.defaults``) → model spec
(``spec.defaults``) → ``GenerateParams`` defaults. Stop sequences are merged instead: the spec's
stops, then the model config's, then the request's (duplicates dropped, order kept).
"""

from __future__ import annotations

from typing import TypeVar

from assay.config import ModelConfig
from assay.errors import RequestInvalid
from assay.pipeline.types import RequestOverrides
from assay.specs.schema import ModelSpec
from assay.types import GenerateParams

MAX_TOKENS_CAP = 4096
"""Upper bound on ``max_tokens`` for any request."""
MAX_CHOICES = 8
MAX_STOP_SEQUENCES = 16

T = TypeVar("T")


def _first(*values: T | None) -> T | None:
    for value in values:
        if value is not None:
            return value
    return None


def build_params(overrides: RequestOverrides, model: ModelConfig, spec: ModelSpec, *,
                 fim_stops: bool = True) -> GenerateParams:
    """Resolve and validate decoding parameters; a value out of range raises ``RequestInvalid(field=...)``.

    ``fim_stops=False`` leaves out the spec's stop tokens (chat requests).
    """
    base = GenerateParams()
    cfg = model.defaults
    max_tokens = _first(overrides.max_tokens, cfg.max_tokens, spec.defaults.max_tokens, base.max_tokens)
    temperature = _first(overrides.temperature, cfg.temperature, base.temperature)
    top_p = _first(overrides.top_p, cfg.top_p, base.top_p)
    time_budget = _first(overrides.time_budget_s, cfg.time_budget_s, spec.defaults.time_budget_s)
    assert max_tokens is not None and temperature is not None and top_p is not None

    if isinstance(max_tokens, bool) or not 1 <= max_tokens <= MAX_TOKENS_CAP:
        raise RequestInvalid(f"must be between 1 and {MAX_TOKENS_CAP}, got {max_tokens}", field="max_tokens")
    if not 0.0 <= temperature <= 2.0:
        raise RequestInvalid(f"must be between 0 and 2, got {temperature}", field="temperature")
    if not 0.0 < top_p <= 1.0:
        raise RequestInvalid(f"must be greater than 0 and at most 1, got {top_p}", field="top_p")
    if not 1 <= overrides.n <= MAX_CHOICES:
        raise RequestInvalid(f"must be between 1 and {MAX_CHOICES}, got {overrides.n}", field="n")
    if time_budget is not None and time_budget <= 0:
        raise RequestInvalid(f"must be positive, got {time_budget}", field="time_budget_s")

    request_stop = tuple(overrides.stop or ())
    if len(request_stop) > MAX_STOP_SEQUENCES:
        raise RequestInvalid(f"at most {MAX_STOP_SEQUENCES} stop sequences, got {len(request_stop)}", field="stop")
    if any(not s for s in request_stop):
        raise RequestInvalid("stop sequences must not be empty", field="stop")
    stops = (spec.stop if fim_stops else ()) + tuple(cfg.stop or ()) + request_stop

    return GenerateParams(
        max_tokens=max_tokens,
        temperature=float(temperature),
        top_p=float(top_p),
        stop=tuple(dict.fromkeys(stops)),
        n=overrides.n,
        time_budget_s=time_budget,
        seed=overrides.seed,
        repetition_penalty=_first(cfg.repetition_penalty, spec.defaults.repetition_penalty),
        token_healing=bool(_first(overrides.token_healing, cfg.token_healing, spec.defaults.token_healing)),
    )
