"""One RapidAPI request budget shared by every ingest worker: N requests per second per platform, in Redis.

Each platform has one counter per second window, ``<prefix><platform>:<unix second>``. A Lua script reads
Redis's own clock (so workers on hosts with skewed clocks share the same windows), and either takes a slot
in the current window or answers how long until the next one — atomically, so two workers can never both
take the last slot. A worker that finds the window spent sleeps until the next window and asks again.

The budget is optional: a rate of 0 means unlimited and never touches Redis. When Redis cannot be reached
the budget fails open (logged): the platform's own 429 + Retry-After handling is the backstop.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# KEYS[1]: key prefix of the platform ("cicero:rapidapi:instagram"); ARGV[1]: limit; ARGV[2]: key TTL (s).
# Returns {1, second} when a slot was taken, {0, microseconds until the next window} when the window is spent.
_TAKE_SLOT = """
local now = redis.call('TIME')
local key = KEYS[1] .. ':' .. now[1]
local limit = tonumber(ARGV[1])
local used = tonumber(redis.call('GET', key) or '0')
if used < limit then
  if used == 0 then
    redis.call('SET', key, 1, 'EX', tonumber(ARGV[2]))
  else
    redis.call('INCR', key)
  end
  return {1, tonumber(now[1])}
end
return {0, 1000000 - tonumber(now[2])}
"""

KEY_TTL_S = 10
"""Windows are only ever read during their own second; the TTL just keeps Redis clean."""


class BudgetExhausted(RuntimeError):
    """No slot became free within ``max_wait_s``."""


class Budget(Protocol):
    async def acquire(self, platform: str) -> None: ...

    async def close(self) -> None: ...


class Unlimited:
    """No rate limit (``rapidapi_rate_per_s = 0``); nothing to connect to."""

    async def acquire(self, platform: str) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisBudget:
    """``rate_per_s`` requests per second per platform, shared through Redis by every process using ``prefix``."""

    def __init__(
        self,
        redis_url: str,
        rate_per_s: int,
        *,
        prefix: str = "cicero:rapidapi:",
        max_wait_s: float = 30.0,
        client: aioredis.Redis | None = None,
    ) -> None:
        if rate_per_s < 1:
            raise ValueError("a RedisBudget needs a rate of at least 1 request per second")
        self.rate_per_s = rate_per_s
        self.prefix = prefix
        self.max_wait_s = max_wait_s
        self._owns_client = client is None
        self._redis = client or aioredis.Redis.from_url(
            redis_url, socket_timeout=2.0, socket_connect_timeout=2.0, health_check_interval=30
        )
        self._script = self._redis.register_script(_TAKE_SLOT)
        self._warned_at = -float("inf")

    def window_prefix(self, platform: str) -> str:
        """Keys of ``platform``'s windows are this plus ``:<unix second>``."""
        return f"{self.prefix}{platform}"

    async def try_acquire(self, platform: str) -> float:
        """Take a slot now (→ 0.0) or say how many seconds until the next window (→ > 0)."""
        granted, value = await self._script(keys=[self.window_prefix(platform)],
                                            args=[self.rate_per_s, KEY_TTL_S])
        if int(granted) == 1:
            return 0.0
        return max(int(value), 1) / 1_000_000

    async def acquire(self, platform: str) -> None:
        deadline = time.monotonic() + self.max_wait_s
        while True:
            try:
                wait_s = await self.try_acquire(platform)
            except (RedisError, OSError) as exc:
                self._warn_unavailable(exc)
                return
            if wait_s == 0.0:
                return
            if time.monotonic() + wait_s > deadline:
                raise BudgetExhausted(
                    f"{platform}: no RapidAPI request slot within {self.max_wait_s}s at {self.rate_per_s}/s"
                )
            # a few ms past the boundary, spread so waiting workers do not all hit Redis at the same instant
            await asyncio.sleep(wait_s + random.uniform(0.001, 0.02))

    def _warn_unavailable(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= 60:
            self._warned_at = now
            log.warning("request budget unavailable, sending without it: %r", exc)

    async def close(self) -> None:
        if self._owns_client:
            await self._redis.aclose()


def make_budget(redis_url: str, rate_per_s: int, prefix: str, max_wait_s: float) -> Budget:
    if rate_per_s <= 0:
        return Unlimited()
    return RedisBudget(redis_url, rate_per_s, prefix=prefix, max_wait_s=max_wait_s)


__all__ = ["KEY_TTL_S", "Budget", "BudgetExhausted", "RedisBudget", "Unlimited", "make_budget"]
