"""The scheduler's tables: claimed ticks and per-schedule pause switches."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def claim_tick(
    conn: asyncpg.Connection, tick_id: str, schedule: str, scheduled_for: datetime, status: str, manual: bool
) -> bool:
    """The unique insert that makes a tick fire once across replicas; False if already claimed."""
    result: str = await conn.execute(
        """INSERT INTO ticks (tick_id, schedule, scheduled_for, status, manual) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (tick_id) DO NOTHING""",
        tick_id, schedule, scheduled_for, status, manual,
    )
    return result.endswith(" 1")


async def is_paused(conn: asyncpg.Connection, schedule: str) -> bool:
    return bool(await conn.fetchval("SELECT paused FROM schedule_state WHERE schedule = $1", schedule))


async def set_paused(conn: asyncpg.Connection, schedule: str, paused: bool) -> None:
    await conn.execute(
        """INSERT INTO schedule_state (schedule, paused) VALUES ($1, $2)
           ON CONFLICT (schedule) DO UPDATE SET paused = $2, updated_at = now()""",
        schedule, paused,
    )


async def last_claimed(conn: asyncpg.Connection, schedule: str, until: datetime) -> datetime | None:
    """The clock's own progress: the latest automatic claim (fired or missed) not after ``until``.

    Manual fires are left out: an operator firing a schedule for a later instant (a demo, a test run)
    must not make the clock skip every tick up to that instant.
    """
    value: datetime | None = await conn.fetchval(
        "SELECT max(scheduled_for) FROM ticks WHERE schedule = $1 AND NOT manual AND scheduled_for <= $2",
        schedule, until,
    )
    return value


async def tick_status(conn: asyncpg.Connection, tick_id: str) -> str | None:
    value: str | None = await conn.fetchval("SELECT status FROM ticks WHERE tick_id = $1", tick_id)
    return value


async def paused_schedules(conn: asyncpg.Connection) -> set[str]:
    return {r["schedule"] for r in await conn.fetch("SELECT schedule FROM schedule_state WHERE paused")}
