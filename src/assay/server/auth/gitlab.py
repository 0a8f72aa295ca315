"""GitLab cloud-connector JWTs (contract §7): signature (the gateway's own keys first, then the instance
JWKS), audience, then header ↔ claim equality. Failures are ``AuthError`` (401, ``{"error": ...}``)
with GitLab's messages, e.g. ``Header mismatch 'X-Gitlab-Instance-Id'``."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import jwt

from assay.errors import AuthError
from assay.server.auth.authority import GATEWAY_ISSUER, TokenAuthority
from assay.server.auth.jwks import JwksCache, JwksUnavailable
from assay.server.auth.principal import Principal

log = logging.getLogger("assay.server.auth")

REALM = "x-gitlab-realm"
INSTANCE_ID = "x-gitlab-instance-id"
GLOBAL_USER_ID = "x-gitlab-global-user-id"
AUTH_TYPE = "x-gitlab-authentication-type"
SEAT_COUNT = "x-gitlab-duo-seat-count"

_HEADER_NAMES = {REALM: "X-Gitlab-Realm", INSTANCE_ID: "X-Gitlab-Instance-Id",
                 GLOBAL_USER_ID: "X-Gitlab-Global-User-Id"}

FORBIDDEN_BY_PROVIDER = "Forbidden by auth provider"


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


async def _issuer_key(kid: str | None, issuers: Sequence[JwksCache]) -> jwt.PyJWK | None:
    for jwks in issuers:
        try:
            key = await jwks.key(kid)
        except JwksUnavailable as exc:
            log.warning("%s", exc)
            continue
        if key is not None:
            return key
    return None


async def _claims(token: str, authority: TokenAuthority, issuers: Sequence[JwksCache], audience: str) -> dict[str, Any]:
    try:
        own = authority.decode(token)
        if own is not None:
            return own
        key = await _issuer_key(jwt.get_unverified_header(token).get("kid"), issuers)
        if key is None:
            raise AuthError(FORBIDDEN_BY_PROVIDER)
        return jwt.decode(token, key, algorithms=["RS256"], audience=audience,
                          options={"require": ["exp", "aud"]})
    except jwt.InvalidTokenError as exc:
        log.info("JWT refused: %s", exc)
        raise AuthError(FORBIDDEN_BY_PROVIDER) from None


def _check_headers(headers: Mapping[str, str], claims: dict[str, Any], self_issued: bool) -> None:
    if headers.get(AUTH_TYPE, "").lower() != "oidc":
        raise AuthError("Header mismatch 'X-Gitlab-Authentication-Type': expected 'oidc'")
    pairs = [(REALM, claims.get("gitlab_realm")), (INSTANCE_ID, claims.get("gitlab_instance_id"))]
    if self_issued:
        pairs.append((GLOBAL_USER_ID, claims.get("sub")))
    for header, claim in pairs:
        given = headers.get(header)
        if claim is not None and str(claim) != (given or ""):
            raise AuthError(f"Header mismatch '{_HEADER_NAMES[header]}'")
    seats, claimed = headers.get(SEAT_COUNT), claims.get("duo_seat_count")
    if seats is not None and claimed is not None and str(claimed) != seats:
        log.info("X-Gitlab-Duo-Seat-Count %s differs from the token's duo_seat_count %s (logged only)",
                 seats, claimed)


async def verify_gitlab_token(token: str, headers: Mapping[str, str], authority: TokenAuthority,
                              issuers: Sequence[JwksCache], audience: str) -> Principal:
    """The principal of a valid cloud-connector JWT sent with matching ``X-Gitlab-*`` headers; ``issuers``
    are the OIDC key sets tried after the gateway's own keys (GitLab instance, then CustomersDot)."""
    claims = await _claims(token, authority, issuers, audience)
    self_issued = claims.get("iss") == GATEWAY_ISSUER
    _check_headers(headers, claims, self_issued)
    scopes = claims.get("scopes") or []
    user = str(claims.get("sub")) if self_issued else headers.get(GLOBAL_USER_ID) or str(claims.get("sub", ""))
    return Principal(user=user or "gitlab", kind="self_signed" if self_issued else "gitlab",
                     scopes=frozenset(str(s) for s in scopes), issuer=str(claims.get("iss", "")))
