"""The limits: fixed one-minute windows for requests, UTC days for tokens, each counted per user and per
API key. A key's own limits replace the defaults for the key's bucket and, when higher, for its user's.
Exceeding a limit raises ``RateLimited`` (429) with ``Retry-After`` = seconds until the window ends."""

from __future__ import annotations

import time

from assay.config import LimitsConfig
from assay.errors import RateLimited
from assay.server.auth.principal import Principal
from assay.server.ratelimit.counters import Counter

MINUTE, DAY = 60, 86_400


def _pick(default: int | None, override: int | None, *, user_bucket: bool) -> int | None:
    if override is None:
        return default
    if user_bucket and default is not None:
        return max(default, override)
    return override


class Limiter:
    def __init__(self, limits: LimitsConfig, counter: Counter) -> None:
        self.limits = limits
        self.counter = counter

    def _buckets(self, p: Principal) -> list[tuple[str, int | None, int | None]]:
        """``(bucket, requests per minute, tokens per day)`` for each bucket ``p`` counts against."""
        rpm, tpd = self.limits.requests_per_minute, self.limits.tokens_per_day
        out = [(f"user:{p.user}", _pick(rpm, p.requests_per_minute, user_bucket=True),
                _pick(tpd, p.tokens_per_day, user_bucket=True))]
        if p.key_id:
            out.append((f"key:{p.key_id}", _pick(rpm, p.requests_per_minute, user_bucket=False),
                        _pick(tpd, p.tokens_per_day, user_bucket=False)))
        return out

    async def admit(self, p: Principal, now: float | None = None) -> None:
        """Count one request; raise ``RateLimited`` when it exceeds a limit."""
        if p.unrestricted:
            return
        now = time.time() if now is None else now
        minute, day = int(now // MINUTE), int(now // DAY)
        for bucket, rpm, tpd in self._buckets(p):
            if tpd is not None:
                used = await self.counter.get(f"assay:tpd:{bucket}:{day}")
                if used >= tpd:
                    raise RateLimited(f"token quota exceeded for {bucket}: {used} of {tpd} tokens per day used",
                                      retry_after_s=DAY - now % DAY)
            if rpm is not None:
                count = await self.counter.incr(f"assay:rpm:{bucket}:{minute}", 1, MINUTE + 5)
                if count > rpm:
                    raise RateLimited(f"rate limit exceeded for {bucket}: {rpm} requests per minute",
                                      retry_after_s=MINUTE - now % MINUTE)

    async def charge(self, p: Principal, tokens: int, now: float | None = None) -> None:
        """Add the tokens a finished request used to the day's quota."""
        if p.unrestricted or tokens <= 0:
            return
        day = int((time.time() if now is None else now) // DAY)
        for bucket, _, tpd in self._buckets(p):
            if tpd is not None:
                await self.counter.incr(f"assay:tpd:{bucket}:{day}", tokens, DAY + 60)

    async def close(self) -> None:
        await self.counter.close()
