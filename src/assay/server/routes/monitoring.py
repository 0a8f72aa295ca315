"""``GET /monitoring/healthz`` (liveness, no checks) and ``GET /monitoring/ready`` (readiness).

Readiness: the engine has started and every configured model answers a one-token completion. A
model that answered once is not asked again (as GitLab's gateway does, once per process).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

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
    models: dict[str, str] = {}
    for model in settings_of(request).models:
        if model.name not in answered:
            probe = CompletionInput(prefix="def hello", model=model.name, postprocess=False, raw_prompt="def hello",
                                    overrides=RequestOverrides(max_tokens=1))
            try:
                await calls.complete(engine_of(request), probe, min(READY_BUDGET_S, model.timeout_s))
                answered.add(model.name)
            except AssayError as exc:
                models[model.name] = exc.message
                continue
        models[model.name] = "ok"
    ok = all(v == "ok" for v in models.values())
    return JSONResponse(Readiness(status="ok" if ok else "unavailable", models=models).model_dump(),
                        status_code=200 if ok else 503)
