"""``GET /v1/traces/{id}``: one recent pipeline trace, for holders of the admin token.

``Authorization: Bearer <server.admin_token>``: 401 without or with a wrong token, 403 when no admin
token is configured, 404 for an id that is unknown or has left the trace buffer.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request

from assay.errors import AssayError, AuthError, Forbidden
from assay.server.deps import engine_of, settings_of

router = APIRouter(prefix="/v1", tags=["traces"])


class TraceNotFound(AssayError):
    status_code = 404


def _check_admin(request: Request) -> None:
    token = settings_of(request).server.admin_token
    if not token:
        raise Forbidden("reading traces needs an admin token; set ASSAY_SERVER__ADMIN_TOKEN (or server.admin_token "
                        "in assay.yaml) and send it as 'Authorization: Bearer <token>'")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise AuthError("missing admin credential: send 'Authorization: Bearer <admin token>'")
    if not secrets.compare_digest(given.strip().encode(), token.encode()):
        raise AuthError("wrong admin token")


@router.get("/traces/{trace_id}")
async def get_trace(trace_id: str, request: Request) -> dict[str, Any]:
    _check_admin(request)
    trace = engine_of(request).trace(trace_id)
    if trace is None:
        raise TraceNotFound(f"no trace '{trace_id}': unknown, or older than the last "
                            f"{settings_of(request).server.trace_buffer} requests")
    return trace.as_dict()
