"""llama.cpp server-compatible ``POST /infill`` (llama.vim, llama.vscode).

Non-streaming answers llama.cpp's response shape; streaming sends ``data: {json}`` lines with
``stop: false`` and a last event carrying the full response with ``stop: true``. A request in an
experiment on the ``infill`` target gets its arm's model and an ``assay_experiments`` field in that
response; ``X-Assay-Trace-Id`` is its suggestion id.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from assay.experiments.assign import INFILL
from assay.pipeline.types import CompletionResult
from assay.server import calls
from assay.server.audit import report_usage
from assay.server.deps import SSE_HEADERS, TRACE_HEADER, budget_of, engine_of, require_model, settings_of
from assay.server.protocol.llamacpp import (
    InfillChunk,
    InfillRequest,
    InfillResponse,
    Timings,
    to_completion_input,
)
from assay.server.routes.events import apply_experiments, experiment_tags
from assay.types import FinishReason

router = APIRouter(tags=["llama.cpp"])


def _response(result: CompletionResult | None, model: str, elapsed_s: float,
              experiments: list[dict[str, str | int]] | None) -> InfillResponse:
    if result is None:
        return InfillResponse(content="", model=model, stopped_eos=False, stopped_limit=True, tokens_predicted=0,
                              tokens_evaluated=0, timings=Timings(prompt_n=0, prompt_ms=0.0, predicted_n=0,
                                                                  predicted_ms=0.0, predicted_per_second=0.0),
                              assay_experiments=experiments)
    choice = result.choices[0] if result.choices else None
    predicted = result.usage.completion_tokens
    ms = elapsed_s * 1000
    prompt_ms = sum(t.ms for t in result.trace.timings if t.stage not in ("decode", "postprocess"))
    decode_ms = sum(t.ms for t in result.trace.timings if t.stage == "decode") or ms
    return InfillResponse(
        content=choice.text if choice else "",
        model=result.model,
        prompt=result.trace.prompt,
        stopped_eos=choice is not None and choice.finish_reason is FinishReason.STOP,
        stopped_limit=choice is None or choice.finish_reason is not FinishReason.STOP,
        tokens_predicted=predicted,
        tokens_evaluated=result.usage.prompt_tokens,
        truncated=bool(result.trace.budget.get("prefix_truncated") or result.trace.budget.get("suffix_truncated")),
        timings=Timings(prompt_n=result.usage.prompt_tokens, prompt_ms=prompt_ms, predicted_n=predicted,
                        predicted_ms=decode_ms,
                        predicted_per_second=predicted * 1000 / decode_ms if decode_ms > 0 else 0.0),
        assay_experiments=experiments,
    )


@router.post("/infill", response_model=InfillResponse)
async def infill(body: InfillRequest, request: Request) -> Response:
    require_model(request, body.model)
    default_model = settings_of(request).model_for("code_completions").name
    start = time.perf_counter()
    if body.n_predict == 0:
        return Response(_response(None, body.model or default_model, 0.0, None).model_dump_json(),
                        media_type="application/json")
    inp = calls.with_trace_id(apply_experiments(request, to_completion_input(body), target=INFILL))
    model, tags = inp.model or default_model, experiment_tags(request) or None
    engine, budget = engine_of(request), budget_of(request)
    if not body.stream:
        result = await calls.complete(engine, inp, budget)
        report_usage(request, result)
        return Response(_response(result, model, time.perf_counter() - start, tags).model_dump_json(),
                        media_type="application/json", headers={TRACE_HEADER: result.trace.id})
    primed = await calls.prime(engine.stream_complete(inp), budget)

    async def events() -> AsyncIterator[str]:
        async for chunk in primed.chunks:
            if chunk.index == 0:
                yield f"data: {InfillChunk(content=chunk.text).model_dump_json()}\n\n"
        final: CompletionResult | None = primed.final
        report_usage(request, final)
        last = _response(final, model, time.perf_counter() - start, tags).model_copy(update={"content": ""})
        yield f"data: {last.model_dump_json()}\n\n"

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={**SSE_HEADERS, TRACE_HEADER: inp.trace_id or ""})
