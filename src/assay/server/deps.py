"""Request-scoped access to the app's engine and settings (stored on ``app.state`` by ``create_app``)."""

from __future__ import annotations

from fastapi import Request

from assay.config import Settings
from assay.pipeline.engine import Engine

TRACE_HEADER = "X-Assay-Trace-Id"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def engine_of(request: Request) -> Engine:
    return request.app.state.engine


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def budget_of(request: Request) -> float:
    return settings_of(request).server.request_timeout_s


def require_model(request: Request, name: str | None) -> None:
    """Raise ``ModelNotFound`` (404, listing the configured models) for a name that is not configured."""
    if name:
        settings_of(request).model(name)
