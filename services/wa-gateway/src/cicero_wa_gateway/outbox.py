"""The durable outbox: requests recorded by idempotency key before any send is attempted (rule 3).

Rows move ``pending`` → ``processing`` (claimed: the attempt is counted) → ``sent`` | ``pending`` (retry
later) | ``dead_letter``. Claims are per session and skip rows other replicas hold, so replicas share the
work without blocking each other.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
from cicero_contracts.events.whatsapp import WhatsAppMessageRequested
from cicero_runtime.consumer import BatchContext, BatchItem

NOTIFY_CHANNEL_PREFIX = "wa_outbox_"
CANDIDATES_PER_CLAIM = 4
"""A claim looks at this many due rows per row it may take, to find rows of distinct chats."""
RECLAIM_BATCH = 100


async def on_requests(items: list[BatchItem], ctx: BatchContext) -> None:
    """Accept a micro-batch of requests in one statement; a duplicate idempotency key is accepted and ignored
    (the first request of a key wins, also inside one batch)."""
    first: dict[str, tuple[object, ...]] = {}  # one outbox row a key, in request order
    for item in items:
        event = item.event
        if isinstance(event, WhatsAppMessageRequested) and event.idempotency_key not in first:
            first[event.idempotency_key] = (
                event.idempotency_key, event.session.value, event.chat_id, event.text, event.purpose,
                event.client_id, item.metadata.traceparent, item.metadata.correlation_id, item.envelope.event_id)
    if not first:
        return
    inserted = await ctx.conn.fetch(
        """INSERT INTO wa_outbox (idempotency_key, session, chat_id, body, purpose, client_id, traceparent,
                                  correlation_id, request_event_id)
           SELECT k, s, c, b, p, cl, t, co, r
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                       $8::text[], $9::uuid[]) WITH ORDINALITY AS x(k, s, c, b, p, cl, t, co, r, n)
           ORDER BY n
           ON CONFLICT (idempotency_key) DO NOTHING
           RETURNING session""",
        *(list(column) for column in zip(*first.values(), strict=True)),
    )
    if sessions := sorted({r["session"] for r in inserted}):  # the payload names the session: its loop wakes
        await ctx.conn.execute("SELECT pg_notify($1, s) FROM unnest($2::text[]) AS s",
                               NOTIFY_CHANNEL_PREFIX + ctx.store.schema, sessions)


async def claim_due(conn: asyncpg.Connection, session: str, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Claim up to ``limit`` due rows of one session, at most one per chat, oldest first; counts the attempt.

    One per chat: the rows of one pass are sent concurrently, and two messages to the same chat must not
    race each other (their order is the order they were requested in).
    """
    rows: list[asyncpg.Record] = await conn.fetch(
        """WITH due AS (
               SELECT idempotency_key, chat_id, next_attempt_at, seq FROM wa_outbox
               WHERE session = $1 AND status = 'pending' AND next_attempt_at <= $2
               ORDER BY next_attempt_at, seq
               LIMIT $4 FOR UPDATE SKIP LOCKED),
           first_per_chat AS (
               SELECT DISTINCT ON (chat_id) idempotency_key, next_attempt_at, seq FROM due ORDER BY chat_id, seq),
           chosen AS (
               SELECT idempotency_key FROM first_per_chat ORDER BY next_attempt_at, seq LIMIT $3)
           UPDATE wa_outbox o SET status = 'processing', attempts = o.attempts + 1, updated_at = $2
           FROM chosen WHERE o.idempotency_key = chosen.idempotency_key
           RETURNING o.*""",
        session, now, limit, limit * CANDIDATES_PER_CLAIM,
    )
    return sorted(rows, key=lambda r: r["seq"])


async def reclaim_stale(conn: asyncpg.Connection, session: str, now: datetime, stale_before: datetime,
                        max_attempts: int, timeout_s: float) -> list[asyncpg.Record]:
    """Rows left ``processing`` since before ``stale_before`` (their worker died mid-send).

    The abandoned attempt stays counted: under the limit the row is due again at once, at the limit it
    goes to the dead letters. The reason is in ``last_error`` of the returned (updated) rows.
    """
    rows: list[asyncpg.Record] = await conn.fetch(
        """UPDATE wa_outbox o
           SET status = CASE WHEN o.attempts >= $4 THEN 'dead_letter' ELSE 'pending' END,
               next_attempt_at = $2, updated_at = $2,
               last_error = format('no result within %s s of attempt %s (its worker stopped); %s', $5::text,
                                   o.attempts, CASE WHEN o.attempts >= $4 THEN 'no attempts left'
                                                    ELSE 'sending again' END)
           WHERE o.idempotency_key IN (
               SELECT idempotency_key FROM wa_outbox
               WHERE session = $1 AND status = 'processing' AND updated_at < $3
               ORDER BY updated_at LIMIT $6 FOR UPDATE SKIP LOCKED)
           RETURNING o.*""",
        session, now, stale_before, max_attempts, f"{timeout_s:g}", RECLAIM_BATCH,
    )
    return rows


async def mark_sent(conn: asyncpg.Connection, now: datetime, keys: list[str], provider_ids: list[str],
                    attempts: list[int]) -> set[str]:
    """Rows the provider accepted → ``sent``; returns the keys still ours (claimed at that attempt).

    A row is no longer ours when it was reclaimed after the processing timeout: nothing is written for it.
    """
    if not keys:
        return set()
    rows = await conn.fetch(
        """UPDATE wa_outbox o SET status = 'sent', provider_message_id = nullif(u.provider_id, ''),
                                  last_error = NULL, updated_at = $1
           FROM unnest($2::text[], $3::text[], $4::int[]) AS u(key, provider_id, attempts)
           WHERE o.idempotency_key = u.key AND o.status = 'processing' AND o.attempts = u.attempts
           RETURNING o.idempotency_key""",
        now, keys, provider_ids, attempts)
    return {r["idempotency_key"] for r in rows}


async def mark_failed(conn: asyncpg.Connection, now: datetime, keys: list[str], statuses: list[str],
                      next_attempts_at: list[datetime], reasons: list[str], attempts: list[int]) -> set[str]:
    """Failed attempts → ``pending`` (retry at ``next_attempts_at``) or ``dead_letter``; returns the keys
    still ours, as :func:`mark_sent`."""
    if not keys:
        return set()
    rows = await conn.fetch(
        """UPDATE wa_outbox o SET status = u.status, next_attempt_at = u.next_at, last_error = u.reason,
                                  updated_at = $1
           FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::int[])
                AS u(key, status, next_at, reason, attempts)
           WHERE o.idempotency_key = u.key AND o.status = 'processing' AND o.attempts = u.attempts
           RETURNING o.idempotency_key""",
        now, keys, statuses, next_attempts_at, reasons, attempts)
    return {r["idempotency_key"] for r in rows}
