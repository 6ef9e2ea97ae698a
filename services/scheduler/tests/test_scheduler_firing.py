"""Firing ticks against the real database: claimed once, pause honoured, missed ticks caught up or recorded."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from cicero_contracts.events.scheduler import TickFired, TickPhase
from cicero_runtime.clock import WIB
from cicero_runtime.db import connect
from cicero_runtime.event_store import RecordedEvent
from cicero_runtime.service import Service
from cicero_scheduler import repository
from cicero_scheduler.clock_loop import LOOKBACK, run_due
from cicero_scheduler.firing import fire, record_missed
from cicero_scheduler.schedules import SCHEDULES, due_times, tick_id

RecordedReader = Callable[[], Awaitable[list[RecordedEvent]]]
POST_FETCH = SCHEDULES["post-fetch"]


def wib(hh: int, mm: int, day: int = 10) -> datetime:
    return datetime(2026, 3, day, hh, mm, tzinfo=WIB)


async def ticks(service: Service) -> dict[str, tuple[str, bool]]:
    rows = await service.pool.fetch("SELECT tick_id, status, manual FROM ticks")
    return {r["tick_id"]: (r["status"], r["manual"]) for r in rows}


async def test_fire_claims_a_tick_once(scheduler: Service, recorded: RecordedReader) -> None:
    async with scheduler.pool.acquire() as conn:
        first = await fire(conn, scheduler.store, POST_FETCH, wib(14, 5), manual=True)
        second = await fire(conn, scheduler.store, POST_FETCH, wib(14, 5), manual=True)
        automatic = await fire(conn, scheduler.store, POST_FETCH, wib(14, 5).astimezone(UTC), manual=False)

    assert (first.fired, first.reason, first.tick_id) == (True, "fired", "post-fetch:2026-03-10T07:05:00Z")
    assert (second.fired, second.reason, second.recorded) == (False, "already fired", None)
    assert (automatic.fired, automatic.reason) == (False, "already fired")
    events = await recorded()
    assert len(events) == 1
    [event] = events
    assert first.recorded is not None and first.recorded.event_id == event.event_id
    assert event.event_type == "TickFired" and event.stream_id == "schedule:post-fetch"
    tick = TickFired.model_validate(event.payload)
    assert tick.tick_id == "post-fetch:2026-03-10T07:05:00Z"
    assert (tick.schedule, tick.phase, tick.mandatory, tick.manual) == ("post-fetch", TickPhase.POST_FETCH,
                                                                         False, True)
    assert tick.scheduled_for == datetime(2026, 3, 10, 7, 5, tzinfo=UTC)
    assert event.payload["scheduled_for"] == "2026-03-10T07:05:00Z"
    assert event.metadata["correlation_id"] == tick.tick_id
    assert event.metadata["producer"] == "scheduler"
    assert await ticks(scheduler) == {tick.tick_id: ("fired", True)}


EVERY_SCHEDULE = [
    ("post-fetch", wib(6, 5), TickPhase.POST_FETCH, False),
    ("mandatory-post-fetch", wib(17, 5), TickPhase.POST_FETCH, True),
    ("engagement-only", wib(18, 0), TickPhase.ENGAGEMENT_ONLY, False),
    ("engagement-recap", wib(15, 5), TickPhase.ENGAGEMENT_RECAP, False),
    ("reminders", wib(17, 35), TickPhase.REMINDER, False),
    ("daily-report", wib(22, 5), TickPhase.DAILY_REPORT, False),
]


async def test_every_schedule_fires_a_tick_matching_the_contract(
    scheduler: Service, recorded: RecordedReader
) -> None:
    async with scheduler.pool.acquire() as conn:
        for name, at, _, _ in EVERY_SCHEDULE:
            assert (await fire(conn, scheduler.store, SCHEDULES[name], at, manual=False)).fired
    events = await recorded()  # each one checked against the committed schema
    assert [(e.stream_id, e.payload["tick_id"], e.payload["phase"], e.payload["mandatory"], e.payload["manual"])
            for e in events] == [(f"schedule:{name}", tick_id(name, at), phase.value, mandatory, False)
                                 for name, at, phase, mandatory in EVERY_SCHEDULE]


async def test_paused_schedule_skips_automatic_fires_but_not_manual_ones(
    scheduler: Service, recorded: RecordedReader
) -> None:
    async with scheduler.pool.acquire() as conn:
        await repository.set_paused(conn, "post-fetch", True)
        skipped = await fire(conn, scheduler.store, POST_FETCH, wib(14, 5), manual=False)
        other = await fire(conn, scheduler.store, SCHEDULES["engagement-recap"], wib(15, 5), manual=False)
        assert (skipped.fired, skipped.reason) == (False, "paused")
        assert await ticks(scheduler) == {other.tick_id: ("fired", False)}, "a paused tick is not claimed"

        manual = await fire(conn, scheduler.store, POST_FETCH, wib(14, 5), manual=True)
        assert (manual.fired, manual.reason) == (True, "fired")

        await repository.set_paused(conn, "post-fetch", False)
        resumed = await fire(conn, scheduler.store, POST_FETCH, wib(14, 30), manual=False)
        assert resumed.fired
    assert [e.payload["tick_id"] for e in await recorded()] == [
        "engagement-recap:2026-03-10T08:05:00Z", "post-fetch:2026-03-10T07:05:00Z",
        "post-fetch:2026-03-10T07:30:00Z",
    ]


async def test_run_due_fires_nothing_for_a_paused_schedule(scheduler: Service, recorded: RecordedReader) -> None:
    async with scheduler.pool.acquire() as conn:
        await repository.set_paused(conn, "post-fetch", True)
    assert await run_due(scheduler, wib(14, 10)) == []
    assert await recorded() == []
    async with scheduler.pool.acquire() as conn:
        await repository.set_paused(conn, "post-fetch", False)
    assert await run_due(scheduler, wib(14, 10)) == ["post-fetch:2026-03-10T07:05:00Z"]


def instant(tid: str) -> datetime:
    return datetime.fromisoformat(tid.split(":", 1)[1])


async def claim_auto(service: Service, at: datetime) -> None:
    async with service.pool.acquire() as conn:
        assert await repository.claim_tick(conn, tick_id("post-fetch", at), "post-fetch", at, "fired", False)


@pytest.mark.parametrize(("last", "now", "fired", "missed"), [
    # last claim 40 minutes ago: the tick due since is 15 (or 5) minutes old, inside the grace window
    (wib(13, 5), wib(13, 45), ["13:30"], []),
    (wib(13, 30), wib(14, 10), ["14:05"], []),
    # longer downtime: ticks older than 25 minutes are recorded missed, the recent one fires
    (wib(13, 5), wib(14, 10), ["14:05"], ["13:30"]),
    (wib(12, 5), wib(13, 45), ["13:30"], ["12:30", "13:05"]),
    # down overnight: only this morning's first tick is due
    (wib(16, 30, day=9), wib(6, 20), ["06:05"], []),
    # down for days: only the last LOOKBACK (6 h) is looked at, the rest is neither fired nor recorded
    (wib(16, 30, day=8), wib(14, 10), ["14:05"],
     ["08:30", "09:05", "09:30", "10:05", "10:30", "11:05", "11:30", "12:05", "12:30", "13:05", "13:30"]),
])
async def test_run_due_catches_up_within_grace_and_records_older_ticks_as_missed(
    scheduler: Service, recorded: RecordedReader, last: datetime, now: datetime, fired: list[str],
    missed: list[str],
) -> None:
    await claim_auto(scheduler, last)

    result = await run_due(scheduler, now)

    def ids(times: list[str]) -> list[str]:
        return [tick_id("post-fetch", now.replace(hour=int(t[:2]), minute=int(t[3:]))) for t in times]

    assert result == ids(fired)
    assert [e.payload["tick_id"] for e in await recorded()] == ids(fired)
    claimed = await ticks(scheduler)
    assert {t for t, (status, _) in claimed.items() if status == "missed"} == set(ids(missed))
    assert len(claimed) == 1 + len(fired) + len(missed)
    assert all(instant(t) >= now - LOOKBACK for t in claimed if t != tick_id("post-fetch", last))

    # the next pass (and any later one) never fires a missed tick, nor fires anything twice
    assert await run_due(scheduler, now + timedelta(seconds=5)) == []
    assert await run_due(scheduler, now + timedelta(minutes=1)) == []
    assert len(await recorded()) == len(fired)
    for t in ids(missed):
        at = instant(t)
        async with scheduler.pool.acquire() as conn:
            again = await fire(conn, scheduler.store, POST_FETCH, at, manual=False)
        assert (again.fired, again.reason) == (False, "already missed")


async def test_first_start_looks_back_only_over_the_grace_window(
    scheduler: Service, recorded: RecordedReader
) -> None:
    assert await run_due(scheduler, wib(14, 10)) == ["post-fetch:2026-03-10T07:05:00Z"]
    assert await ticks(scheduler) == {"post-fetch:2026-03-10T07:05:00Z": ("fired", False)}
    assert len(await recorded()) == 1


async def test_run_due_fires_every_schedule_due_at_the_same_instant(
    scheduler: Service, recorded: RecordedReader
) -> None:
    fired = await run_due(scheduler, wib(17, 6))
    assert sorted(fired) == ["mandatory-post-fetch:2026-03-10T10:05:00Z", "reminders:2026-03-10T10:05:00Z"]
    assert {e.payload["schedule"] for e in await recorded()} == {"mandatory-post-fetch", "reminders"}


async def test_a_manual_fire_for_a_later_instant_does_not_stall_the_clock(
    scheduler: Service, recorded: RecordedReader
) -> None:
    await claim_auto(scheduler, wib(13, 30))
    async with scheduler.pool.acquire() as conn:
        demo = await fire(conn, scheduler.store, POST_FETCH, wib(9, 5, day=12), manual=True)
        backfill = await fire(conn, scheduler.store, POST_FETCH, wib(14, 30), manual=True)
    assert demo.fired and backfill.fired

    assert await run_due(scheduler, wib(14, 10)) == ["post-fetch:2026-03-10T07:05:00Z"]
    # 14:30 was already fired by hand: the clock reaches it and does not fire it again
    assert await run_due(scheduler, wib(14, 31)) == []
    assert await run_due(scheduler, wib(15, 6)) == ["post-fetch:2026-03-10T08:05:00Z",
                                                    "engagement-recap:2026-03-10T08:05:00Z"]
    assert len(await recorded()) == 5


async def test_two_replicas_firing_the_same_tick_at_once_fire_it_once(
    scheduler: Service, recorded: RecordedReader
) -> None:
    async def fire_from_own_connection() -> bool:
        conn = await connect(scheduler.settings.database_url, scheduler.schema)
        try:
            result = await fire(conn, scheduler.store, POST_FETCH, wib(14, 5), manual=False)
            return result.fired
        finally:
            await conn.close()

    outcomes = await asyncio.gather(*(fire_from_own_connection() for _ in range(4)))
    assert sorted(outcomes) == [False, False, False, True]
    assert not any(await asyncio.gather(*(fire_from_own_connection() for _ in range(4))))
    assert len(await recorded()) == 1
    assert len(await ticks(scheduler)) == 1


async def test_two_replicas_catching_up_together_fire_each_tick_once(
    scheduler: Service, recorded: RecordedReader
) -> None:
    await claim_auto(scheduler, wib(12, 5))
    now = wib(13, 45)
    results = await asyncio.gather(run_due(scheduler, now), run_due(scheduler, now), run_due(scheduler, now))
    assert sorted(t for r in results for t in r) == ["post-fetch:2026-03-10T06:30:00Z"]
    assert [e.payload["tick_id"] for e in await recorded()] == ["post-fetch:2026-03-10T06:30:00Z"]


async def test_record_missed_is_a_claim(scheduler: Service, recorded: RecordedReader) -> None:
    async with scheduler.pool.acquire() as conn:
        assert await record_missed(conn, POST_FETCH, wib(9, 5))
        assert not await record_missed(conn, POST_FETCH, wib(9, 5))
        result = await fire(conn, scheduler.store, POST_FETCH, wib(9, 5), manual=True)
    assert (result.fired, result.reason) == (False, "already missed")
    assert await recorded() == []


def test_catch_up_times_come_from_due_times() -> None:
    # guard for the parametrised catch-up cases above: the windows contain the ticks they claim
    assert [t.astimezone(WIB).strftime("%H:%M") for t in due_times(POST_FETCH, wib(12, 5), wib(13, 45))] == [
        "12:30", "13:05", "13:30"]
