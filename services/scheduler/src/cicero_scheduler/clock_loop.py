"""The running scheduler: wake up, fire what is due, catch up what was missed within its grace window."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from cicero_runtime.clock import utc_now
from cicero_runtime.service import Service

from cicero_scheduler import repository
from cicero_scheduler.firing import fire, record_missed
from cicero_scheduler.schedules import SCHEDULES, due_times, within_grace

log = logging.getLogger(__name__)

LOOKBACK = timedelta(hours=6)
"""How far back a restart looks for ticks it never claimed (fired or missed)."""


async def run_due(service: Service, now: datetime) -> list[str]:
    """Fire (or record as missed) every unclaimed tick up to ``now``; returns the tick ids fired."""
    fired: list[str] = []
    async with service.pool.acquire() as conn:
        for schedule in SCHEDULES.values():
            last = await repository.last_claimed(conn, schedule.name, now)
            since = max(last, now - LOOKBACK) if last else now - schedule.grace
            for at in due_times(schedule, since, now):
                if within_grace(schedule, at, now):
                    result = await fire(conn, service.store, schedule, at, manual=False)
                    if result.fired:
                        fired.append(result.tick_id)
                else:
                    await record_missed(conn, schedule, at)
                    log.warning("tick missed beyond grace window",
                                extra={"schedule": schedule.name, "scheduled_for": at.isoformat()})
    return fired


async def clock_loop(service: Service, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await run_due(service, utc_now())
        except Exception:
            log.exception("scheduler pass failed; next pass retries")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=5.0)
