"""``POST /v1/code/user_access_token``: a 1-hour direct-access token for an IDE (contract §7.4).

The caller needs ``complete_code`` and must not itself hold a gateway-issued token (the guard checks
both); ``X-Gitlab-Global-User-Id`` names the user (an assay API key's user when absent), and the realm
and instance id headers are copied into the token so the IDE's later requests must repeat them.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from assay.errors import RequestInvalid
from assay.server.auth.gitlab import GLOBAL_USER_ID, INSTANCE_ID, REALM, SEAT_COUNT
from assay.server.auth.guard import Guard
from assay.server.auth.principal import Principal

router = APIRouter(prefix="/v1/code", tags=["auth"])


class UserAccessToken(BaseModel):
    token: str
    expires_at: int


@router.post("/user_access_token", response_model=UserAccessToken)
async def user_access_token(request: Request) -> UserAccessToken:
    guard: Guard = request.app.state.guard
    principal: Principal = request.state.principal
    user = request.headers.get(GLOBAL_USER_ID) or (principal.user if principal.kind == "key" else None)
    if not user:
        raise RequestInvalid("Missing X-Gitlab-Global-User-Id header")
    seats = request.headers.get(SEAT_COUNT)
    minted = guard.authenticator.authority.mint(
        user, realm=request.headers.get(REALM), instance_id=request.headers.get(INSTANCE_ID),
        scopes=["complete_code"], seat_count=int(seats) if seats and seats.isdigit() else None)
    return UserAccessToken(token=minted.token, expires_at=minted.expires_at)
