"""llama.cpp server-compatible ``/infill`` wire models, so llama.vim and llama.vscode can use assay.

Request: ``input_prefix``, ``input_suffix``, ``input_extra`` ([{filename, text}]), ``prompt`` (text
typed on the cursor line, continued after the FIM middle), ``n_predict``, ``temperature``, ``top_p``,
``stop``, ``stream``, ``seed``, ``t_max_predict_ms``. Other llama.cpp sampling fields are accepted and
ignored. ``n_predict: 0`` (llama.vim's cache warm-up) answers at once with empty content.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from assay.pipeline.types import CompletionInput, ContextFile, RequestOverrides


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ExtraChunk(_Request):
    filename: str = ""
    text: str = ""


class InfillRequest(_Request):
    input_prefix: str = ""
    input_suffix: str = ""
    input_extra: list[ExtraChunk] = Field(default=[], max_length=1024)
    prompt: str = ""
    model: str | None = None
    n_predict: int = Field(default=-1, ge=-1)
    """-1 = the model's default budget; 0 = no generation (cache warm-up)."""
    temperature: float | None = Field(default=None, ge=0.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    stop: list[str] | None = None
    stream: bool = False
    seed: int | None = Field(default=None)
    t_max_predict_ms: int | None = Field(default=None, ge=0)


def to_completion_input(req: InfillRequest) -> CompletionInput:
    """Infill body → pipeline input: prefix = ``input_prefix + prompt``, extra chunks become context."""
    return CompletionInput(
        prefix=req.input_prefix + req.prompt,
        suffix=req.input_suffix,
        context=tuple(ContextFile(name=c.filename, content=c.text, type="snippet") for c in req.input_extra if c.text),
        model=req.model,
        overrides=RequestOverrides(
            max_tokens=req.n_predict if req.n_predict > 0 else None,
            temperature=req.temperature,
            top_p=req.top_p,
            stop=tuple(req.stop) if req.stop is not None else None,
            seed=req.seed if req.seed is not None and req.seed >= 0 else None,
            time_budget_s=req.t_max_predict_ms / 1000 if req.t_max_predict_ms else None,
        ),
    )


class Timings(BaseModel):
    prompt_n: int
    prompt_ms: float
    predicted_n: int
    predicted_ms: float
    predicted_per_second: float


class InfillChunk(BaseModel):
    """One streamed piece (``stop: false``)."""

    index: int = 0
    content: str
    stop: bool = False


class InfillResponse(BaseModel):
    """The final answer (also the last streamed event, with empty ``content``)."""

    index: int = 0
    content: str
    model: str
    prompt: str = ""
    stop: bool = True
    stopped_eos: bool
    stopped_limit: bool
    stopped_word: bool = False
    stopping_word: str = ""
    tokens_predicted: int
    tokens_evaluated: int
    tokens_cached: int = 0
    truncated: bool = False
    timings: Timings
    assay_experiments: list[dict[str, str | int]] | None = Field(default=None, exclude_if=lambda v: v is None)
    """``[{name, variant, arm}]`` of the experiments this request is in (also in ``X-Assay-Experiments``)."""
