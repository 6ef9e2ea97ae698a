"""The request budget shared by every ingest worker, against the real local Redis (a fresh key prefix per test).

Windows are Redis's own seconds: each granted request increments ``<prefix><platform>:<unix second>``, so the
keys are the record of how many requests each window let through.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from cicero_ingest.budget import BudgetExhausted, RedisBudget, Unlimited, make_budget
from cicero_ingest.rapidapi import PlatformError, RapidApiClient
from cicero_ingest.settings import IngestSettings
from cicero_rapidapi_sim.server import RunningSimulator

Settings = Callable[..., IngestSettings]


@pytest_asyncio.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest_asyncio.fixture
async def prefix(redis_client: aioredis.Redis) -> AsyncIterator[str]:
    value = f"test:budget:{uuid.uuid4().hex}:"
    yield value
    keys = [key async for key in redis_client.scan_iter(match=f"{value}*")]
    if keys:
        await redis_client.delete(*keys)


async def windows(redis_client: aioredis.Redis, prefix: str, platform: str) -> dict[int, int]:
    """Granted requests per second window of ``platform``."""
    found: dict[int, int] = {}
    async for key in redis_client.scan_iter(match=f"{prefix}{platform}:*"):
        value = await redis_client.get(key)
        found[int(key.decode().rsplit(":", 1)[1])] = int(value or 0)
    return found


async def redis_second(redis_client: aioredis.Redis) -> int:
    seconds, _ = await redis_client.time()
    return int(seconds)


async def test_two_clients_share_5_per_second(sim: RunningSimulator, settings_for: Settings, redis_url: str,
                                              redis_client: aioredis.Redis, prefix: str) -> None:
    shared: dict[str, Any] = {"rapidapi_rate_per_s": 5, "budget_key_prefix": prefix, "redis_url": redis_url}
    first, second = RapidApiClient(settings_for(sim, **shared)), RapidApiClient(settings_for(sim, **shared))
    try:
        started = time.monotonic()
        results = await asyncio.gather(*(client.tiktok_sec_uid("polres_demo_tt")
                                         for client in (first, second) for _ in range(6)))
        elapsed = time.monotonic() - started
    finally:
        await first.close()
        await second.close()
    assert results == ["MS4wLjABAAAAdemo"] * 12
    assert sim.requests_to("/api/user/info") == 12
    granted = await windows(redis_client, prefix, "tiktok")
    assert sum(granted.values()) == 12
    assert max(granted.values()) <= 5
    # 12 requests at 5 a window need at least three windows, i.e. two full windows passed between them
    assert len(granted) >= 3 and max(granted) - min(granted) >= 2
    assert elapsed > 1.0
    assert await windows(redis_client, prefix, "instagram") == {}  # the other platform's budget is untouched


async def test_a_spent_window_makes_the_client_wait_for_the_next(
    sim: RunningSimulator, settings_for: Settings, redis_url: str, redis_client: aioredis.Redis, prefix: str
) -> None:
    now = await redis_second(redis_client)
    await redis_client.set(f"{prefix}instagram:{now}", 2, ex=10)  # another worker spent this second
    client = RapidApiClient(settings_for(sim, rapidapi_rate_per_s=2, budget_key_prefix=prefix, redis_url=redis_url))
    try:
        posts = await client.instagram_posts("polres_demo", date(2026, 3, 10))
    finally:
        await client.close()
    assert len(posts) == 4
    granted = await windows(redis_client, prefix, "instagram")
    assert granted[now] == 2  # not taken past the limit
    assert sum(granted.values()) == 3 and max(granted) > now


async def test_the_limit_holds_under_concurrent_takers(redis_url: str, redis_client: aioredis.Redis,
                                                       prefix: str) -> None:
    budget = RedisBudget(redis_url, 3, prefix=prefix)
    try:
        waits = await asyncio.gather(*(budget.try_acquire("tiktok") for _ in range(40)))
    finally:
        await budget.close()
    granted = await windows(redis_client, prefix, "tiktok")
    assert sum(granted.values()) == waits.count(0.0) >= 3
    assert all(count <= 3 for count in granted.values())
    assert all(0 < wait <= 1.0 for wait in waits if wait)
    assert len([w for w in waits if w]) == 40 - sum(granted.values())


async def test_a_budget_that_cannot_free_a_slot_in_time_raises(redis_url: str, redis_client: aioredis.Redis,
                                                               prefix: str) -> None:
    now = await redis_second(redis_client)
    for second in range(now, now + 3):
        await redis_client.set(f"{prefix}tiktok:{second}", 1, ex=10)
    budget = RedisBudget(redis_url, 1, prefix=prefix, max_wait_s=0.001)
    try:
        with pytest.raises(BudgetExhausted, match="no RapidAPI request slot"):
            await budget.acquire("tiktok")
    finally:
        await budget.close()


async def test_a_client_out_of_budget_fails_with_a_platform_error_and_sends_nothing(
    sim: RunningSimulator, settings_for: Settings, redis_url: str, redis_client: aioredis.Redis, prefix: str
) -> None:
    now = await redis_second(redis_client)
    for second in range(now, now + 3):
        await redis_client.set(f"{prefix}instagram:{second}", 1, ex=10)
    client = RapidApiClient(settings_for(sim, rapidapi_rate_per_s=1, budget_key_prefix=prefix, redis_url=redis_url,
                                         budget_max_wait_s=0.001))
    try:
        with pytest.raises(PlatformError, match="no RapidAPI request slot"):
            await client.instagram_likers("C9demo0815a")
    finally:
        await client.close()
    assert sim.state.faults.total() == 0


async def test_rate_zero_is_unlimited_and_never_touches_redis(
    sim: RunningSimulator, settings_for: Settings, redis_client: aioredis.Redis, prefix: str
) -> None:
    assert isinstance(make_budget("redis://127.0.0.1:1/0", 0, prefix, 1.0), Unlimited)
    client = RapidApiClient(settings_for(sim, budget_key_prefix=prefix, redis_url="redis://127.0.0.1:1/0"))
    try:
        results = await asyncio.gather(*(client.tiktok_sec_uid("polres_demo_tt") for _ in range(12)))
    finally:
        await client.close()
    assert len(results) == 12
    assert await windows(redis_client, prefix, "tiktok") == {}


async def test_unreachable_redis_fails_open(sim: RunningSimulator, settings_for: Settings) -> None:
    client = RapidApiClient(settings_for(sim, rapidapi_rate_per_s=1, redis_url="redis://127.0.0.1:1/0"))
    try:
        results = await asyncio.gather(*(client.tiktok_sec_uid("polres_demo_tt") for _ in range(3)))
    finally:
        await client.close()
    assert results == ["MS4wLjABAAAAdemo"] * 3


def test_a_redis_budget_needs_a_positive_rate() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RedisBudget("redis://127.0.0.1:6379/0", 0)
