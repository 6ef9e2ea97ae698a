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
