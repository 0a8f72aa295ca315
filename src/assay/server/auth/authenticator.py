"""Turns request headers into a :class:`Principal`, trying in order: GitLab's bypass header (test mode
only), ``Authorization: Bearer`` with an assay API key, the server's admin token, or a GitLab
cloud-connector JWT. ``auth.mode: none`` makes every caller the local user.

GitLab's variables are honoured: ``AIGW_GITLAB_URL`` (else ``auth.gitlab_url``), ``AIGW_CUSTOMER_PORTAL_URL``
(a second OIDC issuer, as GitLab's CustomersDot),
``AIGW_AUTH__BYPASS_EXTERNAL_WITH_HEADER``, ``AIGW_SELF_SIGNED_JWT__SIGNING_KEY`` and
``AIGW_SELF_SIGNED_JWT__VALIDATION_KEY``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import Mapping

from assay.config import Settings
from assay.errors import AuthError
from assay.server.auth.authority import TokenAuthority
from assay.server.auth.gitlab import GLOBAL_USER_ID, looks_like_jwt, verify_gitlab_token
from assay.server.auth.jwks import JwksCache
from assay.server.auth.principal import ALL_SCOPES, Principal, local_user
from assay.store import Store
from assay.store.keys import KEY_PREFIX

log = logging.getLogger("assay.server.auth")

MISSING = "missing credential: send 'Authorization: Bearer <assay API key or GitLab token>'"


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


class Authenticator:
    def __init__(self, settings: Settings, store: Store | None, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        auth = settings.auth
        self.mode = auth.mode
        self.store = store
        self.admin_token = settings.server.admin_token
        self.audience = auth.audience
        self.bypass_with_header = auth.bypass_with_header or _truthy(env.get("AIGW_AUTH__BYPASS_EXTERNAL_WITH_HEADER"))
        urls = [env.get("AIGW_GITLAB_URL") or auth.gitlab_url, env.get("AIGW_CUSTOMER_PORTAL_URL")]
        self.issuers = [JwksCache(url, ttl_s=auth.jwks_cache_s, min_refresh_s=auth.jwks_refresh_min_interval_s)
                        for url in urls if url]
        self.authority = TokenAuthority(env.get("AIGW_SELF_SIGNED_JWT__SIGNING_KEY"),
                                        env.get("AIGW_SELF_SIGNED_JWT__VALIDATION_KEY"),
                                        ttl_s=auth.access_token_ttl_s)
        if self.mode == "keys":
            log.warning("authentication required on every route but /monitoring/*: create a key with "
                        "'assay keys create --user NAME --scopes complete_code' (or run 'assay serve --no-auth' "
                        "on a single-user machine)")
        if self.mode == "none":
            log.warning("AUTHENTICATION IS OFF (--no-auth / auth.mode: none): anyone who can reach this port "
                        "may use every endpoint; use it only on a single-user machine")
        if self.bypass_with_header:
            log.warning("AIGW_AUTH__BYPASS_EXTERNAL_WITH_HEADER is on: any request with 'Bypass-Auth: true' skips "
                        "authentication; this is GitLab's TEST mode, never use it in production")

    async def authenticate(self, headers: Mapping[str, str]) -> Principal:
        """The caller of a request with these (lower-cased) headers; ``AuthError`` (401) when unknown."""
        if self.mode == "none":
            return local_user()
        if self.bypass_with_header and headers.get("bypass-auth", "").lower() == "true":
            return Principal(user=headers.get(GLOBAL_USER_ID) or "bypass", kind="bypass",
                             scopes=frozenset(ALL_SCOPES), unrestricted=True)
        scheme, _, token = headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError(MISSING)
        if token.startswith(KEY_PREFIX):
            return await self._key(token)
        if self.admin_token and secrets.compare_digest(token.encode(), self.admin_token.encode()):
            return Principal(user="admin", kind="admin_token", scopes=frozenset(ALL_SCOPES))
        if looks_like_jwt(token):
            return await verify_gitlab_token(token, headers, self.authority, self.issuers, self.audience)
        raise AuthError("unknown credential: not an assay API key, the admin token or a GitLab JWT")

    async def _key(self, token: str) -> Principal:
        if self.store is None:
            raise AuthError("API keys are not enabled on this gateway")
        record = await asyncio.to_thread(self.store.keys.verify, token)
        return Principal(user=record.user, kind="key", scopes=frozenset(record.scopes), key_id=record.key_id,
                         requests_per_minute=record.requests_per_minute, tokens_per_day=record.tokens_per_day)
