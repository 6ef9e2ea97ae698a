"""The durable outbox: requests recorded by idempotency key before any send is attempted (rule 3)."""

from __future__ import annotations

from datetime import datetime

import asyncpg
from cicero_contracts.events.whatsapp import WhatsAppMessageRequested
from cicero_runtime.consumer import HandlerContext

NOTIFY_CHANNEL_PREFIX = "wa_outbox_"


async def on_message_requested(event: WhatsAppMessageRequested, ctx: HandlerContext) -> None:
    """Accept the request; a duplicate idempotency key is accepted and ignored."""
    metadata = ctx.metadata()
    inserted: str = await ctx.conn.execute(
        """INSERT INTO wa_outbox (idempotency_key, session, chat_id, body, purpose, client_id, traceparent,
                                  correlation_id, request_event_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (idempotency_key) DO NOTHING""",
        event.idempotency_key, event.session.value, event.chat_id, event.text, event.purpose, event.client_id,
        metadata.traceparent, metadata.correlation_id, ctx.envelope.event_id,
    )
    if inserted.endswith(" 1"):
        await ctx.conn.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL_PREFIX + ctx.store.schema)


async def claim_due(conn: asyncpg.Connection, now: datetime, stale_before: datetime, limit: int
                    ) -> list[asyncpg.Record]:
    """Claim due rows (and reclaim stale ``processing`` ones) without blocking other gateway replicas."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """UPDATE wa_outbox SET status = 'processing', attempts = attempts + 1, updated_at = $1
           WHERE idempotency_key IN (
               SELECT idempotency_key FROM wa_outbox
               WHERE (status = 'pending' AND next_attempt_at <= $1)
                  OR (status = 'processing' AND updated_at < $2)
               ORDER BY next_attempt_at FOR UPDATE SKIP LOCKED LIMIT $3)
           RETURNING *""",
        now, stale_before, limit,
    )
    return rows
