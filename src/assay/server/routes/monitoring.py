"""``GET /monitoring/healthz`` (liveness, no checks) and ``GET /monitoring/ready`` (readiness).

Readiness: the engine has started and every configured model answers a one-token completion. A
model that answered once is not asked again (as GitLab's gateway does, once per process). The models
are probed at the same time, each within ``min(READY_BUDGET_S, its timeout_s)``, so a hung upstream
(one that accepts connections and never answers) makes the probe answer 503 naming it within that
bound, however many models are configured.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from assay.config import ModelConfig
from assay.errors import AssayError
from assay.pipeline.types import CompletionInput, RequestOverrides
from assay.server import calls
from assay.server.deps import engine_of, settings_of

router = APIRouter(prefix="/monitoring", tags=["monitoring"])

READY_BUDGET_S = 10.0


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    models: dict[str, str]
    """Model name → ``ok`` or the one-line reason it did not answer."""


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/ready", response_model=Readiness)
async def ready(request: Request) -> JSONResponse:
    state = request.app.state
    if not getattr(state, "started", False):
        return JSONResponse(Readiness(status="starting", models={}).model_dump(), status_code=503)
    answered: set[str] = state.ready_models
    configured = settings_of(request).models
    pending = [m for m in configured if m.name not in answered]
    results = await asyncio.gather(*(_probe(request, m) for m in pending))
    answered.update(m.name for m, result in zip(pending, results, strict=True) if result == "ok")
    probed = {m.name: result for m, result in zip(pending, results, strict=True)}
    models = {m.name: probed.get(m.name, "ok") for m in configured}
    ok = all(v == "ok" for v in models.values())
    return JSONResponse(Readiness(status="ok" if ok else "unavailable", models=models).model_dump(),
                        status_code=200 if ok else 503)


async def _probe(request: Request, model: ModelConfig) -> str:
    """``ok``, or the one-line reason ``model`` did not answer a one-token completion within the bound."""
    probe = CompletionInput(prefix="def hello", model=model.name, postprocess=False, raw_prompt="def hello",
                            overrides=RequestOverrides(max_tokens=1))
    try:
        await calls.complete(engine_of(request), probe, min(READY_BUDGET_S, model.timeout_s))
    except AssayError as exc:
        return exc.message
    return "ok"
