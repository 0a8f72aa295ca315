"""Requests per minute and tokens per day, per user and per API key; in-process or shared via Redis."""

from assay.server.ratelimit.counters import Counter, MemoryCounter, RedisCounter
from assay.server.ratelimit.limiter import Limiter

__all__ = ["Counter", "Limiter", "MemoryCounter", "RedisCounter"]
