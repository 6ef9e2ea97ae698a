"""The inbox: a consumer records each event id it processed in the same transaction as its own writes.

A redelivered message then finds its row and is skipped, so every consumer is idempotent (rule 3).
"""

from __future__ import annotations

from uuid import UUID

import asyncpg


async def claim(conn: asyncpg.Connection, consumer: str, event_id: UUID, event_type: str) -> bool:
    """True when this event is new for this consumer; must run inside the consumer's transaction."""
    if not conn.is_in_transaction():
        raise RuntimeError("inbox.claim must run inside the consumer's transaction")
    status: str = await conn.execute(
        """INSERT INTO inbox (consumer, event_id, event_type) VALUES ($1, $2, $3)
           ON CONFLICT (consumer, event_id) DO NOTHING""",
        consumer,
        event_id,
        event_type,
    )
    return status.endswith(" 1")


async def claim_many(conn: asyncpg.Connection, consumer: str, events: list[tuple[UUID, str]]) -> set[UUID]:
    """Claim a batch in one statement; returns the ids that are new (each at most once)."""
    if not conn.is_in_transaction():
        raise RuntimeError("inbox.claim_many must run inside the consumer's transaction")
    rows = await conn.fetch(
        """INSERT INTO inbox (consumer, event_id, event_type)
           SELECT $1, id, t FROM unnest($2::uuid[], $3::text[]) AS x(id, t)
           ON CONFLICT (consumer, event_id) DO NOTHING
           RETURNING event_id""",
        consumer,
        [event_id for event_id, _ in events],
        [event_type for _, event_type in events],
    )
    return {row["event_id"] for row in rows}
