"""The notifier's ledger of requested WhatsApp messages, and what happens when the gateway reports on them.

Rule 3 keeps sends exactly-once at the gateway (idempotency keys); the ledger lets the notifier's own
state follow the gateway: a feature's state ("slot notified", "reminder stage sent") is written by its
acceptance callback when WhatsAppMessageSent arrives, never at request time (DOMAIN §5).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

import asyncpg
from cicero_contracts import Event
from cicero_contracts.events.whatsapp import (
    IDEMPOTENCY_KEY_MAX_LENGTH,
    WhatsAppMessageFailed,
    WhatsAppMessageRequested,
    WhatsAppMessageSent,
)
from cicero_runtime.consumer import HandlerContext

from cicero_notifier.dispatch import Dispatch

log = logging.getLogger(__name__)


def bounded_key(key: str) -> str:
    """An idempotency key within the contract's length: a key built from outside input (a provider's message
    id, a request id) may be longer; it keeps its readable start and ends in a digest of the whole, so two
    long keys stay distinct."""
    if len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[:IDEMPOTENCY_KEY_MAX_LENGTH - len(digest) - 1]}:{digest}"


@dataclass(frozen=True)
class Notification:
    """One message to request, with what the feature needs to know again when it is accepted."""

    request: WhatsAppMessageRequested
    user_id: str | None = None
    wib_date: date | None = None
    slot: str | None = None
    stage: str | None = None


Callback = Callable[[asyncpg.Connection, asyncpg.Record], Awaitable[None]]
"""Runs in the transaction that records the gateway's report; gets the ledger row."""


class Ledger:
    def __init__(self) -> None:
        self._on_accepted: dict[str, list[Callback]] = {}
        self._on_dead: dict[str, list[Callback]] = {}

    def on_accepted(self, purpose: str, callback: Callback) -> None:
        self._on_accepted.setdefault(purpose, []).append(callback)

    def on_dead_letter(self, purpose: str, callback: Callback) -> None:
        self._on_dead.setdefault(purpose, []).append(callback)

    def register(self, dispatch: Dispatch) -> None:
        dispatch.on(WhatsAppMessageSent, self._sent)
        dispatch.on(WhatsAppMessageFailed, self._failed)

    async def _sent(self, event: WhatsAppMessageSent, ctx: HandlerContext) -> None:
        row = await ctx.conn.fetchrow(
            """UPDATE notifications SET accepted_at = $2 WHERE idempotency_key = $1 AND accepted_at IS NULL
               RETURNING *""", event.idempotency_key, event.sent_at)
        if row is not None:
            for callback in self._on_accepted.get(row["purpose"], []):
                await callback(ctx.conn, row)

    async def _failed(self, event: WhatsAppMessageFailed, ctx: HandlerContext) -> None:
        if not event.final:
            return
        row = await ctx.conn.fetchrow(
            """UPDATE notifications SET failed_at = $2, failure = $3
               WHERE idempotency_key = $1 AND failed_at IS NULL AND accepted_at IS NULL RETURNING *""",
            event.idempotency_key, event.failed_at, event.reason[:500])
        if row is not None:
            log.warning("whatsapp message dead-lettered", extra={"purpose": row["purpose"],
                                                                 "client_id": row["client_id"]})
            for callback in self._on_dead.get(row["purpose"], []):
                await callback(ctx.conn, row)


async def request_messages(ctx: HandlerContext, stream_id: str, notifications: list[Notification]) -> list[str]:
    """Record and request the messages not requested before; returns the keys requested now.

    A key already in the ledger is not requested again (the gateway would ignore it anyway), so replays and
    repeated decisions within a slot add nothing to the bus.
    """
    if not notifications:
        return []
    keys = [n.request.idempotency_key for n in notifications]
    fresh: set[str] = {r["idempotency_key"] for r in await ctx.conn.fetch(
        """INSERT INTO notifications (idempotency_key, purpose, client_id, user_id, chat_id, wib_date, slot, stage,
                                      requested_at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::date[], $7::text[],
                                $8::text[], $9::timestamptz[])
           ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key""",
        keys, [n.request.purpose for n in notifications], [n.request.client_id for n in notifications],
        [n.user_id for n in notifications], [n.request.chat_id for n in notifications],
        [n.wib_date for n in notifications], [n.slot for n in notifications], [n.stage for n in notifications],
        [n.request.requested_at for n in notifications],
    )}
    events: list[Event] = [n.request for n in notifications if n.request.idempotency_key in fresh]
    if events:
        await ctx.append(stream_id, events)
    return [k for k in keys if k in fresh]
