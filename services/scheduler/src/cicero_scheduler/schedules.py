"""The schedule table of DOMAIN §2 and the pure logic of when a schedule is due.

Cron expressions are read in WIB because that is the clock the operators plan by; the instants they
produce are UTC like every other time in the system.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cicero_contracts.events.scheduler import TickPhase
from cicero_runtime.clock import WIB
from croniter import croniter


@dataclass(frozen=True)
class Schedule:
    name: str
    crons: tuple[str, ...]
    phase: TickPhase
    mandatory: bool = False
    grace: timedelta = timedelta(minutes=25)


SCHEDULES: dict[str, Schedule] = {
    s.name: s
    for s in (
        Schedule("post-fetch", ("5,30 6-16 * * *",), TickPhase.POST_FETCH),
        Schedule("mandatory-post-fetch", ("5 17 * * *",), TickPhase.POST_FETCH, mandatory=True),
        Schedule("engagement-only", ("30 17-21 * * *", "0 18-22 * * *"), TickPhase.ENGAGEMENT_ONLY),
        Schedule("engagement-recap", ("5 15,18,20 * * *",), TickPhase.ENGAGEMENT_RECAP),
        Schedule("reminders", ("5 17 * * *", "35 17 * * *"), TickPhase.REMINDER),
        Schedule("daily-report", ("5 22 * * *",), TickPhase.DAILY_REPORT),
    )
}


class UnknownSchedule(KeyError):
    def __str__(self) -> str:
        return f"unknown schedule {self.args[0]!r}; known: {', '.join(sorted(SCHEDULES))}"


def get_schedule(name: str) -> Schedule:
    try:
        return SCHEDULES[name]
    except KeyError:
        raise UnknownSchedule(name) from None


def tick_id(schedule: str, scheduled_for: datetime) -> str:
    """Deterministic: the same schedule and instant always give the same id, in any replica."""
    return f"{schedule}:{scheduled_for.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"


def due_times(schedule: Schedule, after: datetime, until: datetime) -> list[datetime]:
    """Every instant in (after, until] at which the schedule fires, in UTC and in order."""
    found: set[datetime] = set()
    for expression in schedule.crons:
        iterator = croniter(expression, after.astimezone(WIB))
        while True:
            nxt: datetime = iterator.get_next(datetime)
            if nxt > until:
                break
            found.add(nxt.astimezone(UTC))
    return sorted(found)


def within_grace(schedule: Schedule, scheduled_for: datetime, now: datetime) -> bool:
    """A tick missed during downtime still fires if it is not older than the grace window."""
    return now - scheduled_for <= schedule.grace


def next_fire_times(schedule: Schedule, now: datetime, count: int = 3) -> list[datetime]:
    """The next ``count`` instants after ``now`` (UTC); every schedule fires at least daily."""
    return due_times(schedule, now, now + timedelta(days=2))[:count]


def describe(schedule: Schedule, paused: bool, now: datetime, count: int = 3) -> str:
    """One line of ``cicero-scheduler list``: name, state, cron, next fire times in WIB."""
    upcoming = ", ".join(f"{t.astimezone(WIB):%Y-%m-%d %H:%M}" for t in next_fire_times(schedule, now, count))
    state = "paused" if paused else "running"
    flag = " mandatory" if schedule.mandatory else ""
    return (f"{schedule.name:<22} {state:<8} {schedule.phase.value}{flag} [{' | '.join(schedule.crons)}]"
            f"  next (WIB): {upcoming}")
