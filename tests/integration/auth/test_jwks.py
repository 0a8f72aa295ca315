"""The JWKS cache against a real local OIDC issuer: discovery, the 24 h cache, refetch on expiry, throttled
refetch on unknown key ids, and keeping known keys while the issuer is down."""

from __future__ import annotations

import pytest

from assay.server.auth.jwks import JwksCache, JwksUnavailable
from tests.integration.auth.oidc_issuer import oidc_issuer


async def test_keys_are_cached_and_refetched_when_the_cache_expires() -> None:
    with oidc_issuer() as issuer:
        cache = JwksCache(issuer.url)
        assert (await cache.key(issuer.current)).key_id == issuer.current
        assert await cache.key(issuer.current) is not None
        assert (cache.fetches, issuer.jwks_requests) == (1, 1)
        expiring = JwksCache(issuer.url, ttl_s=0, min_refresh_s=0)
        await expiring.key(issuer.current)
        await expiring.key(issuer.current)
        assert expiring.fetches == 2


async def test_unknown_kids_refetch_at_most_once_per_interval() -> None:
    with oidc_issuer() as issuer:
        cache, eager = JwksCache(issuer.url, min_refresh_s=3600), JwksCache(issuer.url, min_refresh_s=0)
        old = issuer.current
        await cache.key(old)
        await eager.key(old)
        new = issuer.rotate(keep_old=True)
        assert await cache.key(new) is None
        assert cache.fetches == 1
        assert (await eager.key(new)).key_id == new and eager.fetches == 2
        assert (await eager.key(old)).key_id == old and eager.fetches == 2


async def test_known_keys_survive_an_issuer_outage_and_no_keys_is_an_error() -> None:
    with oidc_issuer() as issuer:
        cache = JwksCache(issuer.url, ttl_s=0, min_refresh_s=0)
        kid = issuer.current
        await cache.key(kid)
        url = issuer.url
    assert (await cache.key(kid)).key_id == kid
    with pytest.raises(JwksUnavailable, match=url):
        await JwksCache(url).key(kid)
