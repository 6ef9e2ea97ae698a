"""Attendance: projection throughput, rebuild time and directorate recap latency.

1. Projection: EngagementRefreshed events with 200 added usernames each, applied as the consumer applies
   them (micro-batches of 100: inbox claim, journal, engagements, attendance recompute, status events),
   beside raw asyncpg ``executemany`` upserting the same engagement rows in the same batches, measured in
   the same run. The ratio (projection usernames/s ÷ raw rows/s) is the figure to watch (target ≥ 0.25).
2. Rebuild: a journal of 1,000,000 events (a synthetic region: directory, posts, likes and comments in
   rounds, removals, handle fixes) replayed into fresh tables and swapped in (target < 5 minutes).
3. Recap: the directorate recap (load + build) for 30,000 personnel holding the directorate's role and
   20 task posts per platform in a day, the tables filled by the projection itself (target p95 < 300 ms).

Usage: ``python bench/attendance.py [--only projection|rebuild|recap] [--events N] [--rebuild-events N]
[--people N] [--runs R]``. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from cicero_attendance import journal
from cicero_attendance.journal import JournalEntry
from cicero_attendance.projector import Projector
from cicero_attendance.read_model import load_report
from cicero_attendance.rebuild import rebuild
from cicero_attendance.reports import ReportKind
from cicero_attendance.rules import COUNTED_KIND
from cicero_attendance.synthetic import DIRECTORATE, Shape, synthetic_stream
from cicero_contracts import Event
from cicero_contracts.events.common import Platform
from cicero_contracts.events.directory import ClientRegistered, ClientType, PersonnelRegistered
from cicero_contracts.events.ingest import EngagementRefreshed, PostFetched
from cicero_runtime import inbox
from cicero_runtime.db import create_pool
from cicero_runtime.event_store import EventStore
from cicero_runtime.testing.fixtures import create_service_schema, drop_schema, ensure_database, test_database_url

BATCH = 100
USERNAMES_PER_EVENT = 200
DAY = date(2026, 3, 10)
MORNING = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # 08:00 WIB
REBUILD_SHAPE = Shape(clients=120, personnel_per_client=80, days=80, posts_per_day=3, refreshes_per_post=17,
                      usernames_per_refresh=6)
"""Over 1,000,000 events (the bench takes the first million): 121 clients × 2 platforms × 3 posts × 17 refreshes
a day for 80 days, and the rest."""


def entry(event: Event, at: datetime = MORNING) -> JournalEntry:
    return JournalEntry(uuid.uuid4(), at, event)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Schema:
    """A fresh attendance schema (all migrations applied) and a pool on it, dropped afterwards."""

    def __init__(self) -> None:
        self.url = test_database_url()
        self.name = ""
        self.pool: asyncpg.Pool | None = None

    async def __aenter__(self) -> Schema:
        await ensure_database(self.url)
        self.name = await create_service_schema(self.url, "attendance")
        self.pool = await create_pool(self.url, self.name, max_size=4)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.pool is not None:
            await self.pool.close()
        await drop_schema(self.url, self.name)


async def bulk_project(conn: asyncpg.Connection, projector: Projector, entries: list[JournalEntry]) -> None:
    """Fill the tables as a rebuild does: base tables in chunks, attendance rows once at the end."""
    for start in range(0, len(entries), 5000):
        async with conn.transaction():
            await projector.project(conn, entries[start:start + 5000], attendance=False)
    await projector.recompute_all([conn])


# -- 1. projection throughput -----------------------------------------------------------------------
def engagement_events(events: int, clients: int, people_per_client: int) -> tuple[list[JournalEntry],
                                                                                  list[JournalEntry]]:
    """The directory and posts (setup), then ``events`` refreshes, each adding 200 usernames never seen on
    that post: about half are personnel of the post's client, the rest the public."""
    setup: list[JournalEntry] = []
    posts: list[tuple[str, str]] = []
    for c in range(clients):
        client_id = f"POLRES_{c:03d}"
        setup.append(entry(ClientRegistered(client_id=client_id, name=f"Polres {c}", client_type=ClientType.ORG)))
        for i in range(people_per_client):
            setup.append(entry(PersonnelRegistered(user_id=f"{c + 1:03d}{i:05d}", name=f"P {c}-{i}",
                                                   client_id=client_id, instagram=f"ig.{c}.{i}")))
        for k in range(10):
            post_id = f"{client_id}-{k}"
            posts.append((client_id, post_id))
            setup.append(entry(PostFetched(platform=Platform.INSTAGRAM, post_id=post_id, client_id=client_id,
                                           account_username="a", link=f"https://example.invalid/{post_id}",
                                           created_at=MORNING, like_count=0, comment_count=0)))
    refreshes: list[JournalEntry] = []
    offsets: dict[str, int] = {}
    for n in range(events):
        client_id, post_id = posts[n % len(posts)]
        start = offsets.get(post_id, 0)
        offsets[post_id] = start + USERNAMES_PER_EVENT
        c = int(client_id.rsplit("_", 1)[1])
        names = [f"ig.{c}.{i}" if i < people_per_client else f"warga.{post_id}.{i}"
                 for i in range(start, start + USERNAMES_PER_EVENT)]
        refreshes.append(entry(EngagementRefreshed(
            platform=Platform.INSTAGRAM, post_id=post_id, client_id=client_id, kind="likes", added_usernames=names,
            engaged_total=start + USERNAMES_PER_EVENT, like_count=start + USERNAMES_PER_EVENT, comment_count=0,
            refreshed_at=MORNING + timedelta(minutes=n)), MORNING + timedelta(minutes=n)))
    return setup, refreshes


async def bench_projection(events: int) -> dict[str, Any]:
    setup, refreshes = engagement_events(events, clients=20, people_per_client=400)
    projector = Projector()
    async with Schema() as db:
        assert db.pool is not None
        store = EventStore("attendance", db.name)
        async with db.pool.acquire() as conn:
            await bulk_project(conn, projector, setup)
            started = time.perf_counter()
            for start in range(0, len(refreshes), BATCH):
                batch = refreshes[start:start + BATCH]
                async with conn.transaction():
                    await inbox.claim_many(conn, "attendance", [(e.event_id, e.event.event_type) for e in batch])
                    await projector.apply_live(conn, store, batch)
            projection_s = time.perf_counter() - started
            status_events = await conn.fetchval("SELECT count(*) FROM events")
            await conn.execute("""CREATE TABLE raw_engagements (LIKE engagements INCLUDING ALL)""")
            started = time.perf_counter()
            for start in range(0, len(refreshes), BATCH):
                rows = [("instagram", e.event.post_id, "likes", name, e.occurred_at)  # type: ignore[attr-defined]
                        for e in refreshes[start:start + BATCH] for name in e.event.added_usernames]  # type: ignore[attr-defined]
                async with conn.transaction():
                    await conn.executemany(
                        """INSERT INTO raw_engagements (platform, post_id, kind, username, first_seen_at)
                           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""", rows)
            raw_s = time.perf_counter() - started
    usernames = events * USERNAMES_PER_EVENT
    result = {
        "projection_events_per_s": round(events / projection_s),
        "projection_usernames_per_s": round(usernames / projection_s),
        "raw_rows_per_s": round(usernames / raw_s), "projection_ratio": round(raw_s / projection_s, 3),
        "status_events": status_events,
    }
    print(f"projection: {events} EngagementRefreshed × {USERNAMES_PER_EVENT} usernames in {projection_s:.2f}s = "
          f"{result['projection_events_per_s']} events/s, {result['projection_usernames_per_s']} usernames/s "
          f"({status_events} AttendanceStatusChanged)")
    print(f"raw asyncpg executemany upsert of the same rows: {raw_s:.2f}s = {result['raw_rows_per_s']} rows/s")
    print(f"ratio: {result['projection_ratio']} (target >= 0.25)")
    return result


# -- 2. rebuild -------------------------------------------------------------------------------------
async def bench_rebuild(limit: int) -> dict[str, Any]:
    projector = Projector()
    async with Schema() as db:
        assert db.pool is not None
        started = time.perf_counter()
        stream = itertools.islice(synthetic_stream(REBUILD_SHAPE), limit)
        count = 0
        async with db.pool.acquire() as conn:
            while chunk := list(itertools.islice(stream, 20_000)):
                async with conn.transaction():
                    await journal.append(conn, chunk)
                count += len(chunk)
        print(f"rebuild: journal of {count} events written in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            if now - last[0] > 10:
                last[0] = now
                print(f"  {done}/{total}", file=sys.stderr)

        started = time.perf_counter()
        report = await rebuild(db.url, db.name, projector, progress=progress)
        seconds = time.perf_counter() - started
        async with db.pool.acquire() as conn:
            rows = {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in ("engagements", "attendance")}
    print(f"rebuild: {report.entries} events replayed and swapped in {seconds:.1f}s "
          f"({report.entries / seconds:.0f} events/s; {rows['engagements']} engagement rows, "
          f"{rows['attendance']} attendance rows) (target < 300 s)")
    return {"rebuild_events": report.entries, "rebuild_s": round(seconds, 1),
            "rebuild_events_per_s": round(report.entries / seconds)}


# -- 3. directorate recap -----------------------------------------------------------------------------
def directorate_day(people: int, posts: int, clients: int) -> list[JournalEntry]:
    """A directorate whose role ``people`` personnel over ``clients`` Polres hold, ``posts`` task posts per
    platform, each person engaging with a varying share of them (so every status occurs)."""
    entries = [entry(ClientRegistered(client_id=DIRECTORATE, name="Direktorat Binmas",
                                      client_type=ClientType.DIREKTORAT))]
    entries += [entry(ClientRegistered(client_id=f"POLRES_{c:03d}", name=f"Polres {c}", client_type=ClientType.ORG))
                for c in range(clients)]
    for i in range(people):
        entries.append(entry(PersonnelRegistered(
            user_id=f"{i + 1:08d}", name=f"Personel {i}", client_id=f"POLRES_{i % clients:03d}", roles=["ditbinmas"],
            title=("AKP", "IPDA", "BRIPKA", "BRIPDA")[i % 4], divisi=("BAG OPS", "SAT LANTAS", "POLSEK KOTA")[i % 3],
            instagram=None if i % 50 == 7 else f"ig.{i}", tiktok=f"tt.{i}", exempt=i % 97 == 3)))
    for platform in Platform:
        prefix = "ig" if platform is Platform.INSTAGRAM else "tt"
        for k in range(posts):
            post_id = f"{DIRECTORATE}-{prefix}{k}"
            entries.append(entry(PostFetched(platform=platform, post_id=post_id, client_id=DIRECTORATE,
                                             account_username="ditbinmas", link=f"https://example.invalid/{post_id}",
                                             created_at=MORNING + timedelta(minutes=k), like_count=0,
                                             comment_count=0)))
            engaged = [f"{prefix}.{i}" for i in range(people) if (i * 7 + k * 13) % 100 < 60]
            for start in range(0, len(engaged), 1000):
                entries.append(entry(EngagementRefreshed(
                    platform=platform, post_id=post_id, client_id=DIRECTORATE,
                    kind=COUNTED_KIND[platform],
                    added_usernames=engaged[start:start + 1000], engaged_total=len(engaged), like_count=len(engaged),
                    comment_count=0, refreshed_at=MORNING + timedelta(hours=2))))
    return entries


async def bench_recap(people: int, posts: int, clients: int, runs: int) -> dict[str, Any]:
    projector = Projector()
    async with Schema() as db:
        assert db.pool is not None
        async with db.pool.acquire() as conn:
            started = time.perf_counter()
            await bulk_project(conn, projector, directorate_day(people, posts, clients))
            await conn.execute("ANALYZE")
            rows = await conn.fetchval("SELECT count(*) FROM attendance WHERE scope_client_id = $1", DIRECTORATE)
            print(f"recap: {people} personnel, {posts} posts per platform projected in "
                  f"{time.perf_counter() - started:.1f}s ({rows} directorate attendance rows)", file=sys.stderr)
            at = MORNING + timedelta(hours=8)
            for _ in range(3):  # warm plans and buffers, as a running service has them
                await load_report(conn, ReportKind.DIRECTORATE, DIRECTORATE, DAY, at)
            timings: list[float] = []
            for _ in range(runs):
                started = time.perf_counter()
                await load_report(conn, ReportKind.DIRECTORATE, DIRECTORATE, DAY, at)
                timings.append((time.perf_counter() - started) * 1000)
    result = {"recap_p50_ms": round(statistics.median(timings), 1), "recap_p95_ms": round(percentile(timings, 0.95), 1),
              "recap_people": people, "recap_posts": posts}
    print(f"recap: directorate of {people} personnel, {posts} posts per platform: p50 {result['recap_p50_ms']} ms, "
          f"p95 {result['recap_p95_ms']} ms over {runs} runs (target p95 < 300 ms)")
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", choices=("projection", "rebuild", "recap"))
    parser.add_argument("--events", type=int, default=1000, help="EngagementRefreshed events to project")
    parser.add_argument("--rebuild-events", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=30_000)
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    result: dict[str, Any] = {"bench": "attendance"}
    if args.only in (None, "projection"):
        result |= await bench_projection(args.events)
    if args.only in (None, "recap"):
        result |= await bench_recap(args.people, args.posts, 40, args.runs)
    if args.only in (None, "rebuild"):
        result |= await bench_rebuild(args.rebuild_events)
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
