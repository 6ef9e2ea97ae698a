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


async def last_claimed(conn: asyncpg.Connection, schedule: str) -> datetime | None:
    value: datetime | None = await conn.fetchval(
        "SELECT max(scheduled_for) FROM ticks WHERE schedule = $1", schedule
    )
    return value
