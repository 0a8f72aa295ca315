"""Every error the server answers with is shaped here, in one place.

- ``AssayError`` → its ``status_code`` with ``{"detail": message}`` (401: ``{"error": message}``, as
  GitLab's gateway does); on OpenAI routes OpenAI's ``{"error": {message, type, param, code}}`` so the
  SDK raises its typed errors.
- Request validation and malformed JSON → 422 naming the field (``loc`` + ``msg``).
- Anything unexpected → 500 with a one-line message; the traceback goes to the server log only
  (answered by ``middleware.CatchAllMiddleware``, so the connection stays usable).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assay.errors import AssayError, AuthError, RateLimited, RequestInvalid
from assay.server.protocol.openai import ErrorBody, ErrorDetail

log = logging.getLogger("assay.server")

OPENAI_PREFIXES = ("/v1/completions", "/v1/chat/completions", "/v1/models")

_OPENAI_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error",
                 429: "rate_limit_error"}


def is_openai_path(path: str) -> bool:
    return path.startswith(OPENAI_PREFIXES)


def error_response(path: str, status: int, message: str, *, param: str | None = None,
                   detail: Any = None, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The error body for ``path``: OpenAI's shape on OpenAI routes, GitLab's elsewhere."""
    if is_openai_path(path):
        kind = _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
        body: Any = ErrorBody(error=ErrorDetail(message=message, type=kind, param=param,
                                                code=str(status))).model_dump()
    elif status == 401:
        body = {"error": message}
    else:
        body = {"detail": message if detail is None else detail}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def _loc(loc: Sequence[Any]) -> str:
    return ".".join(str(p) for p in loc)


def _validation_message(err: Mapping[str, Any]) -> str:
    if err.get("type") == "json_invalid":
        reason = (err.get("ctx") or {}).get("error", "")
        return f"body: malformed JSON{': ' + str(reason) if reason else ''}"
    return f"{_loc(err['loc'])}: {err['msg']}"


async def _assay_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AssayError)
    if exc.status_code >= 500:
        log.warning("%s %s -> %d: %s", request.method, request.url.path, exc.status_code, exc.message)
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited) and exc.retry_after_s is not None:
        headers["Retry-After"] = str(max(1, round(exc.retry_after_s)))
    if isinstance(exc, AuthError) and exc.status_code == 401:
        headers["WWW-Authenticate"] = "Bearer"
    field = exc.field if isinstance(exc, RequestInvalid) else None
    return error_response(request.url.path, exc.status_code, exc.message, param=field, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"type": e.get("type"), "loc": list(e.get("loc", ())), "msg": _validation_message(e)
               if e.get("type") == "json_invalid" else e.get("msg")} for e in exc.errors()]
    first = exc.errors()[0] if exc.errors() else {"loc": ("body",), "msg": "invalid request"}
    message = _validation_message(first)
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more)"
    param = _loc(first["loc"][1:]) if len(first["loc"]) > 1 else None
    return error_response(request.url.path, 422, message, param=param, detail=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(request.url.path, exc.status_code, str(exc.detail), headers=exc.headers)


def unexpected_error_response(method: str, path: str, exc: BaseException) -> JSONResponse:
    """500 for an exception nothing else handled: logged with its traceback, answered in one line."""
    log.error("%s %s failed", method, path, exc_info=exc)
    return error_response(path, 500, f"internal server error ({type(exc).__name__}); see the assay server log")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AssayError, _assay_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
