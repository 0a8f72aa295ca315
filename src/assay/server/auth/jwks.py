"""The key set of a GitLab instance (its OIDC issuer): ``{url}/.well-known/openid-configuration`` →
``jwks_uri`` → the keys. Cached for ``ttl_s`` (24 h); a token with an unknown ``kid`` refetches, at
most once per ``min_refresh_s`` (failed fetches too, so an unreachable issuer is not hammered), so key
rotation on the instance is picked up without a restart. Keys fetched before stay in use while a refresh
fails."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
import jwt

log = logging.getLogger("assay.server.auth")

DISCOVERY_PATH = "/.well-known/openid-configuration"
HTTP_TIMEOUT_S = 10.0


class JwksUnavailable(Exception):
    pass


class JwksCache:
    def __init__(self, issuer_url: str, *, ttl_s: float = 86_400.0, min_refresh_s: float = 30.0) -> None:
        self.issuer_url = issuer_url.rstrip("/")
        self.ttl_s = ttl_s
        self.min_refresh_s = min_refresh_s
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0
        """How many times the key set was fetched (for tests and logs)."""

    async def _fetch(self) -> None:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as client:
            try:
                discovery = (await client.get(self.issuer_url + DISCOVERY_PATH)).raise_for_status().json()
                jwks_uri = discovery["jwks_uri"]
                data = (await client.get(jwks_uri)).raise_for_status().json()
                keyset = jwt.PyJWKSet.from_dict(data)
            except (httpx.HTTPError, ValueError, KeyError, jwt.PyJWKSetError) as exc:
                raise JwksUnavailable(f"cannot read the JWKS of {self.issuer_url}: {type(exc).__name__}: {exc}") from None
        self._keys = {k.key_id: k for k in keyset.keys if k.key_id}
        self._fetched_at = time.monotonic()
        self.fetches += 1
        log.info("fetched %d signing keys from %s", len(self._keys), jwks_uri)

    async def key(self, kid: str | None) -> jwt.PyJWK | None:
        """The key with id ``kid`` (the only key when the token names none and the set has one)."""
        async with self._lock:
            now = time.monotonic()
            stale = self._fetched_at is None or now - self._fetched_at > self.ttl_s
            unknown = kid is not None and kid not in self._keys
            may_try = self._attempted_at is None or now - self._attempted_at >= self.min_refresh_s
            if (stale or unknown) and may_try:
                self._attempted_at = now
                try:
                    await self._fetch()
                except JwksUnavailable as exc:
                    if not self._keys:
                        raise
                    log.warning("%s; keeping the %d keys fetched before", exc, len(self._keys))
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)
