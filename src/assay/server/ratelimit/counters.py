"""Expiring integer counters: in this process (:class:`MemoryCounter`) or in Redis (:class:`RedisCounter`),
which several gateway replicas share."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from assay.errors import ProviderError


class Counter(Protocol):
    async def incr(self, key: str, amount: int, ttl_s: int) -> int:
        """Add ``amount`` to ``key`` (created with a ``ttl_s`` expiry) and return the new value."""
        ...

    async def get(self, key: str) -> int: ...

    async def close(self) -> None: ...


class MemoryCounter:
    def __init__(self) -> None:
        self._values: dict[str, tuple[int, float]] = {}
        self._lock = asyncio.Lock()

    def _live(self, key: str, now: float) -> int:
        value, expires = self._values.get(key, (0, 0.0))
        return value if expires > now else 0

    async def incr(self, key: str, amount: int, ttl_s: int) -> int:
        async with self._lock:
            now = time.monotonic()
            value = self._live(key, now)
            expires = self._values[key][1] if value else now + ttl_s
            self._values[key] = (value + amount, expires)
            if len(self._values) > 100_000:
                self._values = {k: v for k, v in self._values.items() if v[1] > now}
            return value + amount

    async def get(self, key: str) -> int:
        return self._live(key, time.monotonic())

    async def close(self) -> None:
        return None


class RedisCounter:
    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self.url = url
        self._redis = redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)

    def _unavailable(self, exc: Exception) -> ProviderError:
        return ProviderError(f"rate-limit store {self.url} is unavailable: {type(exc).__name__}: {exc}")

    async def incr(self, key: str, amount: int, ttl_s: int) -> int:
        from redis.exceptions import RedisError

        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incrby(key, amount)
                pipe.expire(key, ttl_s, nx=True)
                value, _ = await pipe.execute()
        except RedisError as exc:
            raise self._unavailable(exc) from None
        return int(value)

    async def get(self, key: str) -> int:
        from redis.exceptions import RedisError

        try:
            value = await self._redis.get(key)
        except RedisError as exc:
            raise self._unavailable(exc) from None
        return int(value or 0)

    async def close(self) -> None:
        await self._redis.aclose()
