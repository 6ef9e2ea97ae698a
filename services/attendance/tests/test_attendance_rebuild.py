"""Rebuild by replaying the journal: identical tables, an atomic swap, and live writes during the rebuild."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest
from cicero_attendance.journal import JournalEntry
from cicero_attendance.main import main
from cicero_attendance.projector import PROJECTION_TABLES, Projector
from cicero_attendance.rebuild import RebuildError, rebuild
from cicero_attendance.synthetic import Shape, synthetic_stream
from cicero_runtime.service import Service

BIG = Shape(clients=100, personnel_per_client=60, days=16, posts_per_day=3, refreshes_per_post=20,
            usernames_per_refresh=12)
"""About 210,000 events: 101 clients × 2 platforms × 3 posts × 20 refreshes a day for 16 days, and the rest."""


async def snapshot(service: Service) -> dict[str, list[tuple[Any, ...]]]:
    return {table: [tuple(r) for r in await service.pool.fetch(f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4")]
            for table in PROJECTION_TABLES}


async def index_names(service: Service) -> list[tuple[str, str]]:
    rows = await service.pool.fetch(
        "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY 1, 2", service.schema)
    return [(r["tablename"], r["indexname"]) for r in rows]


async def feed_live(service: Service, entries: list[JournalEntry], batch: int = 100) -> None:
    """As the consumer applies events: micro-batches, each journaled, projected and published in one transaction."""
    projector = Projector()
    async with service.pool.acquire() as conn:
        for start in range(0, len(entries), batch):
            async with conn.transaction():
                await projector.apply_live(conn, service.store, entries[start:start + batch])


@pytest.mark.timeout(900)
async def test_a_rebuild_of_200000_events_gives_the_live_tables(attendance: Service, database_url: str) -> None:
    entries = list(synthetic_stream(BIG))
    assert len(entries) >= 200_000
    started = time.perf_counter()
    await feed_live(attendance, entries)
    fed = time.perf_counter() - started
    live = await snapshot(attendance)
    names = await index_names(attendance)
    assert len(live["attendance"]) > 10_000 and len(live["engagements"]) > 100_000

    seen: list[tuple[int, int]] = []
    started = time.perf_counter()
    report = await rebuild(database_url, attendance.schema, Projector(),
                           progress=lambda done, total: seen.append((done, total)))
    rebuilt = time.perf_counter() - started
    assert report.swapped and report.entries == len(entries)
    assert seen[-1] == (len(entries), len(entries))
    assert await snapshot(attendance) == live
    assert await index_names(attendance) == names  # later migrations still find the indexes by name
    print(f"\n{len(entries)} events: fed live in {fed:.1f}s, rebuilt in {rebuilt:.1f}s")


async def test_live_writes_during_a_rebuild_are_kept(attendance: Service, database_url: str) -> None:
    entries = list(synthetic_stream(Shape(days=4)))
    half, last = len(entries) // 2, len(entries) - 200
    await feed_live(attendance, entries[:half])
    progress = asyncio.Event()

    async def rebuilding() -> None:
        await rebuild(database_url, attendance.schema, Projector(), chunk_size=50,
                      progress=lambda done, total: progress.set())

    task = asyncio.create_task(rebuilding())
    await asyncio.wait_for(progress.wait(), 30)  # the rebuild is under way: the service keeps projecting
    await feed_live(attendance, entries[half:last], batch=20)
    await asyncio.wait_for(task, 60)
    await feed_live(attendance, entries[last:])  # the service's cached statements now find the new tables
    check = await rebuild(database_url, attendance.schema, Projector(), swap=False)
    assert check.entries == len(entries)
    assert check.differences == dict.fromkeys(PROJECTION_TABLES, 0)
    assert await attendance.pool.fetchval("SELECT count(*) FROM posts") == sum(
        1 for e in entries if e.event.event_type == "PostFetched")


async def test_two_rebuilds_at_once_are_refused(attendance: Service, database_url: str) -> None:
    await feed_live(attendance, list(itertools.islice(synthetic_stream(Shape()), 500)))
    results = await asyncio.gather(
        *(rebuild(database_url, attendance.schema, Projector(), chunk_size=10) for _ in range(2)),
        return_exceptions=True)
    refused = [r for r in results if isinstance(r, RebuildError)]
    assert len(refused) <= 1 and all("already running" in str(r) for r in refused)
    assert any(not isinstance(r, BaseException) and r.swapped for r in results)


@pytest.mark.parametrize("check", [True, False])
async def test_the_rebuild_command(attendance: Service, database_url: str, check: bool,
                                   monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                   restore_logging: None) -> None:
    await feed_live(attendance, list(synthetic_stream(Shape(days=1))))
    before = await snapshot(attendance)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CICERO_DB_SCHEMA", attendance.schema)
    code = await asyncio.to_thread(main, ["rebuild", *(["--check"] if check else []), "--chunk-size", "100"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert ("identical" in out) if check else ("the new tables are live" in out)
    assert "rebuild" in err  # the progress bar
    assert await snapshot(attendance) == before
