"""``GET /v1/traces/{id}``: one recent pipeline trace, for callers holding the ``admin`` scope.

The caller is the guard's ``request.state.principal``; any credential with ``admin`` may read traces: an
API key created with the ``admin`` scope, or ``Authorization: Bearer <server.admin_token>`` (the guard
turns the admin token into an admin principal). Without a credential the guard answers 401; with one
lacking ``admin``, 403. In ``--no-auth`` mode (``auth.mode: none``) the single local user holds every
scope, so traces are readable without any credential, like every other route in that mode.
404 for an id that is unknown or has left the trace buffer (``server.trace_buffer`` most recent requests).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from assay.errors import AssayError, AuthError, Forbidden
from assay.server.deps import engine_of, settings_of

router = APIRouter(prefix="/v1", tags=["traces"])

ADMIN_SCOPES = frozenset({"admin"})


class TraceNotFound(AssayError):
    status_code = 404


def _check_admin(request: Request) -> None:
    """``AuthError`` (401) without an authenticated caller, ``Forbidden`` (403) when it lacks ``admin``."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise AuthError("missing admin credential: send 'Authorization: Bearer <admin token or API key with "
                        "the admin scope>'")
    if not principal.has_any(ADMIN_SCOPES):
        held = ", ".join(sorted(principal.scopes)) or "none"
        raise Forbidden(f"reading traces needs the admin scope; this credential has {held}")


@router.get("/traces/{trace_id}")
async def get_trace(trace_id: str, request: Request) -> dict[str, Any]:
    _check_admin(request)
    trace = engine_of(request).trace(trace_id)
    if trace is None:
        raise TraceNotFound(f"no trace '{trace_id}': unknown, or older than the last "
                            f"{settings_of(request).server.trace_buffer} requests")
    return trace.as_dict()
