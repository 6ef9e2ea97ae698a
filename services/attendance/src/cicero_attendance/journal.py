"""The service's own copy of every event it projected, in application order: what a rebuild replays.

Writers take the journal's table lock for the rest of their transaction (``lock``), so positions are
allocated and committed in the same order and the projection tables saw the events in position order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
from cicero_contracts import REGISTRY, Event


@dataclass(frozen=True)
class JournalEntry:
    """One event as the projection applies it: identity, event time and the validated model."""

    event_id: UUID
    occurred_at: datetime
    event: Event


async def lock(conn: asyncpg.Connection) -> None:
    """Serialize projection writers (and the rebuild's final catch-up) on the journal table.

    SHARE ROW EXCLUSIVE conflicts with itself but not with plain reads, so the read API keeps answering.
    """
    await conn.execute("LOCK TABLE journal IN SHARE ROW EXCLUSIVE MODE")


async def append(conn: asyncpg.Connection, entries: list[JournalEntry]) -> None:
    """Record entries after the caller took ``lock`` in the same transaction."""
    if not entries:
        return
    await conn.execute(
        """INSERT INTO journal (event_id, event_type, schema_version, occurred_at, payload)
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::timestamptz[], $5::jsonb[])""",
        [e.event_id for e in entries],
        [e.event.event_type for e in entries],
        [e.event.schema_version for e in entries],
        [e.occurred_at for e in entries],
        [e.event.model_dump(mode="json") for e in entries],
    )


async def last_position(conn: asyncpg.Connection) -> int:
    value: int = await conn.fetchval("SELECT coalesce(max(position), 0) FROM journal")
    return value


async def read_after(conn: asyncpg.Connection, position: int, limit: int) -> tuple[list[JournalEntry], int]:
    """Entries after ``position`` in order, and the position of the last one read (or ``position``)."""
    rows = await conn.fetch(
        """SELECT position, event_id, event_type, schema_version, occurred_at, payload::text AS payload
           FROM journal WHERE position > $1 ORDER BY position LIMIT $2""",
        position, limit,
    )
    entries = [
        JournalEntry(row["event_id"], row["occurred_at"],
                     REGISTRY.parse_json(row["event_type"], row["schema_version"], row["payload"]))
        for row in rows
    ]
    return entries, (rows[-1]["position"] if rows else position)
