"""Event store: ordered positions under concurrent appends, optimistic concurrency, streams."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from cicero_contracts.events.scheduler import TickFired, TickPhase
from cicero_runtime.event_store import ConcurrencyError, EventStore, Metadata, StreamAppend

T0 = datetime(2026, 3, 10, 7, 5, tzinfo=UTC)


def tick(n: int) -> TickFired:
    at = T0 + timedelta(minutes=n)
    return TickFired(tick_id=f"test:{n}", schedule="test", phase=TickPhase.POST_FETCH, scheduled_for=at,
                     fired_at=at)


async def test_concurrent_writers_and_tailing_reader_see_every_event_once_in_order(
    pool: asyncpg.Pool, schema: str
) -> None:
    store = EventStore("test", schema)
    writers, per_writer = 8, 1250
    total = writers * per_writer
    done = asyncio.Event()
    seen: list[int] = []

    async def writer(w: int) -> None:
        rng = random.Random(w)
        written = 0
        while written < per_writer:
            batch = min(rng.randint(1, 4), per_writer - written)
            async with pool.acquire() as conn:
                await store.append(conn, f"writer-{w}-{rng.randint(0, 9)}",
                                   [tick(written + i) for i in range(batch)])
            written += batch

    async def reader() -> None:
        position = 0
        async with pool.acquire() as conn:
            while True:
                finished = done.is_set()
                batch = await store.read_after(conn, position, 1000)
                for event in batch:
                    seen.append(event.global_position)
                    position = event.global_position
                if finished and not batch:
                    return
                if not batch:
                    await asyncio.sleep(0.005)  # tail poll interval, not synchronisation

    reading = asyncio.create_task(reader())
    await asyncio.gather(*(writer(w) for w in range(writers)))
    done.set()
    await asyncio.wait_for(reading, 30)

    async with pool.acquire() as conn:
        committed = [r["global_position"] for r in
                     await conn.fetch("SELECT global_position FROM events ORDER BY global_position")]
        per_stream_ok = await conn.fetchval(
            """SELECT bool_and(ok) FROM (
                 SELECT stream_id, max(stream_version) = count(*) AS ok FROM events GROUP BY stream_id) s""")
    assert len(committed) == total
    assert len(seen) == total, "the tailing reader missed or repeated events"
    assert len(set(seen)) == total
    assert seen == committed, "the tailing reader saw events out of commit order"
    assert per_stream_ok, "stream versions have gaps"


async def test_second_append_at_same_version_is_a_concurrency_error(pool: asyncpg.Pool, schema: str) -> None:
    store = EventStore("test", schema)
    async with pool.acquire() as conn:
        await store.append(conn, "client-a", [tick(1)], expected_version=0)
        with pytest.raises(ConcurrencyError):
            await store.append(conn, "client-a", [tick(2)], expected_version=0)
        assert [e.stream_version for e in await store.read_stream(conn, "client-a")] == [1]


async def test_racing_appenders_one_wins(pool: asyncpg.Pool, schema: str) -> None:
    store = EventStore("test", schema)

    async def attempt(n: int) -> bool:
        async with pool.acquire() as conn:
            try:
                await store.append(conn, "race", [tick(n)], expected_version=0)
                return True
            except ConcurrencyError:
                return False

    results = await asyncio.gather(*(attempt(n) for n in range(6)))
    assert sorted(results) == [False] * 5 + [True]


async def test_failed_transaction_leaves_nothing(pool: asyncpg.Pool, schema: str) -> None:
    store = EventStore("test", schema)
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                await store.append(conn, "s", [tick(1), tick(2)])
                raise RuntimeError("handler failed after appending")
        assert await store.read_stream(conn, "s") == []


async def test_envelope_carries_metadata(pool: asyncpg.Pool, schema: str) -> None:
    store = EventStore("scheduler", schema)
    meta = Metadata(correlation_id="corr-1", causation_id="cause-1",
                    traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    async with pool.acquire() as conn:
        [recorded] = await store.append(conn, "tick:x", [tick(0)], metadata=meta, occurred_at=T0)
    envelope = recorded.envelope()
    assert envelope.producer == "scheduler"
    assert envelope.correlation_id == "corr-1" and envelope.causation_id == "cause-1"
    assert envelope.stream_version == 1 and envelope.occurred_at == T0
    assert envelope.payload["tick_id"] == "test:0"
    assert recorded.metadata["traceparent"].startswith("00-0af7")


async def test_append_streams_continues_each_stream_in_one_statement(pool: asyncpg.Pool, schema: str) -> None:
    store = EventStore("test", schema)
    async with pool.acquire() as conn:
        await store.append(conn, "a", [tick(1), tick(2)])
        recorded = await store.append_streams(conn, [
            StreamAppend("a", [tick(3)], Metadata(correlation_id="c-a")),
            StreamAppend("b", [tick(4), tick(5)], Metadata(correlation_id="c-b")),
            StreamAppend("empty", []),
        ])
        assert [(r.stream_id, r.stream_version) for r in recorded] == [("a", 3), ("b", 1), ("b", 2)]
        assert [r.metadata["correlation_id"] for r in recorded] == ["c-a", "c-b", "c-b"]
        assert [r.global_position for r in recorded] == sorted(r.global_position for r in recorded)
        assert await store.read_stream(conn, "empty") == []
        with pytest.raises(ValueError, match="each stream once"):
            await store.append_streams(conn, [StreamAppend("a", [tick(6)]), StreamAppend("a", [tick(7)])])
