"""The schedule table of DOMAIN §2 and the pure logic of when a schedule is due (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from cicero_contracts.events.scheduler import TickPhase
from cicero_runtime.clock import WIB
from cicero_scheduler.schedules import (
    SCHEDULES,
    Schedule,
    UnknownSchedule,
    due_times,
    get_schedule,
    tick_id,
    within_grace,
)

DAY = datetime(2026, 3, 10, tzinfo=WIB)  # midnight WIB = 2026-03-09T17:00Z


def wib(hh: int, mm: int, ss: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 3, day, hh, mm, ss, tzinfo=WIB)


def hhmm(instants: list[datetime]) -> list[str]:
    return [t.astimezone(WIB).strftime("%H:%M") for t in instants]


POST_FETCH_TIMES = [f"{h:02d}:{m:02d}" for h in range(6, 17) for m in (5, 30)]


@pytest.mark.parametrize(("name", "expected"), [
    ("post-fetch", POST_FETCH_TIMES),
    ("mandatory-post-fetch", ["17:05"]),
    ("engagement-only", ["17:30", "18:00", "18:30", "19:00", "19:30", "20:00", "20:30", "21:00", "21:30",
                         "22:00"]),
    ("engagement-recap", ["15:05", "18:05", "20:05"]),
    ("reminders", ["17:05", "17:35"]),
    ("daily-report", ["22:05"]),
])
def test_due_times_over_one_wib_day(name: str, expected: list[str]) -> None:
    times = due_times(SCHEDULES[name], DAY, DAY + timedelta(days=1))
    assert hhmm(times) == expected
    assert all(t.tzinfo is UTC for t in times), "instants are UTC"
    assert all(t.astimezone(WIB).date() == DAY.date() for t in times)
    assert times == sorted(set(times)), "ordered, no duplicates"


def test_post_fetch_fires_22_times_from_0605_to_1630_wib_as_utc_instants() -> None:
    times = due_times(SCHEDULES["post-fetch"], DAY, DAY + timedelta(days=1))
    assert len(times) == 22
    assert times[0] == datetime(2026, 3, 9, 23, 5, tzinfo=UTC)  # 06:05 WIB is the previous UTC day
    assert times[-1] == datetime(2026, 3, 10, 9, 30, tzinfo=UTC)  # 16:30 WIB
    assert str(times[0]) == "2026-03-09 23:05:00+00:00"


def test_engagement_only_is_the_union_of_its_two_crons() -> None:
    schedule = SCHEDULES["engagement-only"]
    window = (DAY, DAY + timedelta(days=1))
    halves = [set(due_times(Schedule("x", (cron,), TickPhase.ENGAGEMENT_ONLY), *window))
              for cron in schedule.crons]
    union = due_times(schedule, *window)
    assert set(union) == halves[0] | halves[1]
    assert len(union) == len(halves[0]) + len(halves[1]) == 10


def test_overlapping_crons_give_each_instant_once() -> None:
    schedule = Schedule("overlap", ("0,30 * * * *", "30 * * * *", "30 12 * * *"), TickPhase.ENGAGEMENT_ONLY)
    times = due_times(schedule, wib(12, 0), wib(13, 0))
    assert hhmm(times) == ["12:30", "13:00"]


@pytest.mark.parametrize(("after", "until", "expected"), [
    (wib(14, 5), wib(14, 30), ["14:30"]),                       # (after, until]: after is exclusive
    (wib(14, 4, 59), wib(14, 5), ["14:05"]),                    # until is inclusive
    (wib(14, 5) - timedelta(microseconds=1), wib(14, 5), ["14:05"]),
    (wib(14, 5) + timedelta(microseconds=500), wib(14, 29, 59), []),
    (wib(14, 5, 30), wib(15, 5), ["14:30", "15:05"]),
    (wib(14, 6), wib(14, 29), []),
    (wib(16, 30), wib(6, 5, day=11), ["06:05"]),               # overnight: nothing until the next morning
    (wib(16, 31), wib(6, 4, day=11), []),
    (wib(14, 10), wib(14, 10), []),
])
def test_due_times_window(after: datetime, until: datetime, expected: list[str]) -> None:
    assert hhmm(due_times(SCHEDULES["post-fetch"], after, until)) == expected


@pytest.mark.parametrize("zone", [UTC, WIB, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9))])
def test_due_times_do_not_depend_on_the_zone_of_the_bounds(zone: timezone) -> None:
    after, until = wib(5, 0), wib(18, 0)
    assert (due_times(SCHEDULES["post-fetch"], after.astimezone(zone), until.astimezone(zone))
            == due_times(SCHEDULES["post-fetch"], after, until))


@pytest.mark.parametrize(("schedule", "at", "expected"), [
    ("post-fetch", wib(14, 5), "post-fetch:2026-03-10T07:05:00Z"),
    ("post-fetch", datetime(2026, 3, 10, 7, 5, tzinfo=UTC), "post-fetch:2026-03-10T07:05:00Z"),
    ("post-fetch", datetime(2026, 3, 10, 2, 5, tzinfo=timezone(timedelta(hours=-5))),
     "post-fetch:2026-03-10T07:05:00Z"),
    ("post-fetch", wib(6, 5), "post-fetch:2026-03-09T23:05:00Z"),
    ("daily-report", wib(22, 5), "daily-report:2026-03-10T15:05:00Z"),
    ("reminders", wib(17, 35, 12), "reminders:2026-03-10T10:35:12Z"),
    ("post-fetch", wib(14, 5) + timedelta(microseconds=250_000), "post-fetch:2026-03-10T07:05:00Z"),
])
def test_tick_id_is_schedule_and_utc_instant(schedule: str, at: datetime, expected: str) -> None:
    assert tick_id(schedule, at) == expected
    assert tick_id(schedule, at) == tick_id(schedule, at.astimezone(WIB)) == tick_id(schedule, at.astimezone(UTC))


def test_tick_id_differs_by_schedule_and_instant() -> None:
    ids = {tick_id(name, at) for name in SCHEDULES for at in (wib(17, 5), wib(17, 35))}
    assert len(ids) == 2 * len(SCHEDULES)


@pytest.mark.parametrize(("age", "expected"), [
    (timedelta(0), True),
    (timedelta(minutes=10), True),
    (timedelta(minutes=25), True),                     # the grace window is inclusive
    (timedelta(minutes=25, microseconds=1), False),
    (timedelta(minutes=26), False),
    (timedelta(hours=5), False),
    (-timedelta(minutes=1), True),                     # not yet due is never "too old"
])
def test_within_grace(age: timedelta, expected: bool) -> None:
    scheduled = wib(14, 5)
    assert within_grace(SCHEDULES["post-fetch"], scheduled, scheduled + age) is expected


def test_within_grace_uses_the_schedule_s_own_window() -> None:
    short = Schedule("short", ("* * * * *",), TickPhase.POST_FETCH, grace=timedelta(minutes=2))
    assert within_grace(short, wib(14, 5), wib(14, 7))
    assert not within_grace(short, wib(14, 5), wib(14, 7, 1))


@pytest.mark.parametrize(("name", "phase", "mandatory"), [
    ("post-fetch", TickPhase.POST_FETCH, False),
    ("mandatory-post-fetch", TickPhase.POST_FETCH, True),
    ("engagement-only", TickPhase.ENGAGEMENT_ONLY, False),
    ("engagement-recap", TickPhase.ENGAGEMENT_RECAP, False),
    ("reminders", TickPhase.REMINDER, False),
    ("daily-report", TickPhase.DAILY_REPORT, False),
])
def test_schedule_table(name: str, phase: TickPhase, mandatory: bool) -> None:
    schedule = get_schedule(name)
    assert (schedule.name, schedule.phase, schedule.mandatory) == (name, phase, mandatory)
    assert schedule.grace == timedelta(minutes=25)


def test_unknown_schedule_names_the_known_ones() -> None:
    with pytest.raises(UnknownSchedule) as caught:
        get_schedule("post-fetc")
    message = str(caught.value)
    assert "'post-fetc'" in message
    assert all(name in message for name in SCHEDULES)


def test_next_fire_times_are_after_now_in_order() -> None:
    from cicero_scheduler.schedules import SCHEDULES, describe, next_fire_times

    now = datetime(2026, 3, 10, 9, 50, tzinfo=UTC)  # 16:50 WIB
    upcoming = next_fire_times(SCHEDULES["post-fetch"], now, 3)
    assert [t.astimezone(WIB).strftime("%d %H:%M") for t in upcoming] == ["11 06:05", "11 06:30", "11 07:05"]
    assert next_fire_times(SCHEDULES["mandatory-post-fetch"], now, 1)[0].astimezone(WIB).hour == 17
    line = describe(SCHEDULES["engagement-only"], True, now, 2)
    assert line.startswith("engagement-only") and "paused" in line and "2026-03-10 17:30, 2026-03-10 18:00" in line
