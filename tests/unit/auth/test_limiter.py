"""The limiter's arithmetic on the in-process counter: fixed minute windows, UTC-day token quotas,
per-user and per-key buckets, per-key overrides, and Retry-After until the window ends."""

from __future__ import annotations

import pytest

from assay.config import LimitsConfig
from assay.errors import RateLimited
from assay.server.auth.principal import Principal, local_user
from assay.server.ratelimit import Limiter, MemoryCounter

T0 = 1_800_000_000.0 - 1_800_000_000.0 % 86_400 + 3600


def _p(user: str = "ann", key: str | None = "k1", rpm: int | None = None, tpd: int | None = None) -> Principal:
    return Principal(user=user, kind="key", scopes=frozenset({"complete_code"}), key_id=key,
                     requests_per_minute=rpm, tokens_per_day=tpd)


async def test_requests_per_minute_with_retry_after_to_the_window_end() -> None:
    limiter = Limiter(LimitsConfig(requests_per_minute=2, tokens_per_day=None), MemoryCounter())
    await limiter.admit(_p(), now=T0 + 10)
    await limiter.admit(_p(), now=T0 + 20)
    with pytest.raises(RateLimited) as info:
        await limiter.admit(_p(), now=T0 + 45)
    assert info.value.retry_after_s == pytest.approx(15)
    await limiter.admit(_p(), now=T0 + 61)


async def test_user_bucket_spans_keys_and_override_replaces_the_key_default() -> None:
    limiter = Limiter(LimitsConfig(requests_per_minute=2, tokens_per_day=None), MemoryCounter())
    await limiter.admit(_p(key="k1"), now=T0)
    await limiter.admit(_p(key="k2"), now=T0)
    with pytest.raises(RateLimited, match="user:ann"):
        await limiter.admit(_p(key="k3"), now=T0)
    await limiter.admit(_p(user="bob", key="k4", rpm=5), now=T0)
    for _ in range(4):
        await limiter.admit(_p(user="bob", key="k4", rpm=5), now=T0)
    with pytest.raises(RateLimited, match="5 requests per minute"):
        await limiter.admit(_p(user="bob", key="k4", rpm=5), now=T0)


async def test_tokens_per_day_until_utc_midnight() -> None:
    limiter = Limiter(LimitsConfig(requests_per_minute=None, tokens_per_day=100), MemoryCounter())
    await limiter.admit(_p(), now=T0)
    await limiter.charge(_p(), 60, now=T0)
    await limiter.admit(_p(), now=T0)
    await limiter.charge(_p(), 40, now=T0)
    with pytest.raises(RateLimited, match="100 of 100 tokens") as info:
        await limiter.admit(_p(), now=T0)
    assert info.value.retry_after_s == pytest.approx(86_400 - 3600)
    await limiter.admit(_p(), now=T0 + 86_400)
    await limiter.admit(_p(tpd=1000), now=T0)


async def test_unrestricted_callers_are_not_counted() -> None:
    limiter = Limiter(LimitsConfig(requests_per_minute=1, tokens_per_day=1), MemoryCounter())
    for _ in range(3):
        await limiter.admit(local_user(), now=T0)
        await limiter.charge(local_user(), 10, now=T0)
