"""The notifier's ledger of requested WhatsApp messages, and what happens when the gateway reports on them.

Rule 3 keeps sends exactly-once at the gateway (idempotency keys); the ledger lets the notifier's own
state follow the gateway: a feature's state ("slot notified", "reminder stage sent") is written by its
acceptance callback when WhatsAppMessageSent arrives, never at request time (docs/domain.md §5).
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
    """One ledger row: a message to request, with what the feature needs to know again when it is accepted.

    Several rows may share one request (one WhatsApp message serving several people): each row then has its
    own ``key`` and the gateway's reports on the shared message reach every row.
    """

    request: WhatsAppMessageRequested
    user_id: str | None = None
    wib_date: date | None = None
    slot: str | None = None
    stage: str | None = None
    key: str | None = None
    """The row's own key when it differs from the message's (``request.idempotency_key``)."""

    @property
    def ledger_key(self) -> str:
        return self.key or self.request.idempotency_key

    @property
    def message_key(self) -> str | None:
        """The shared message's key, stored only when the row has a key of its own."""
        return self.request.idempotency_key if self.ledger_key != self.request.idempotency_key else None


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
        """Every row the message served is accepted (one per person for a shared message)."""
        rows = await ctx.conn.fetch(
            """UPDATE notifications SET accepted_at = $2
               WHERE (idempotency_key = $1 OR message_key = $1) AND accepted_at IS NULL
               RETURNING *""", event.idempotency_key, event.sent_at)
        for row in rows:
            for callback in self._on_accepted.get(row["purpose"], []):
                await callback(ctx.conn, row)

    async def _failed(self, event: WhatsAppMessageFailed, ctx: HandlerContext) -> None:
        if not event.final:
            return
        rows = await ctx.conn.fetch(
            """UPDATE notifications SET failed_at = $2, failure = $3
               WHERE (idempotency_key = $1 OR message_key = $1) AND failed_at IS NULL AND accepted_at IS NULL
               RETURNING *""",
            event.idempotency_key, event.failed_at, event.reason[:500])
        if rows:
            log.warning("whatsapp message dead-lettered", extra={"purpose": rows[0]["purpose"],
                                                                 "client_id": rows[0]["client_id"]})
        for row in rows:
            for callback in self._on_dead.get(row["purpose"], []):
                await callback(ctx.conn, row)


async def request_messages(ctx: HandlerContext, stream_id: str, notifications: list[Notification]) -> list[str]:
    """Record the rows and request the messages not requested before; returns the message keys requested now.

    A row already in the ledger is not recorded again, and a message none of whose rows is new is not
    requested again (the gateway would ignore it anyway), so replays and repeated decisions within a slot add
    nothing to the bus. Callers with a large run call this per chunk, so no call holds the whole run.
    """
    if not notifications:
        return []
    fresh: set[str] = {r["idempotency_key"] for r in await ctx.conn.fetch(
        """INSERT INTO notifications (idempotency_key, message_key, purpose, client_id, user_id, chat_id, wib_date,
                                      slot, stage, requested_at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::date[],
                                $8::text[], $9::text[], $10::timestamptz[])
           ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key""",
        [n.ledger_key for n in notifications], [n.message_key for n in notifications],
        [n.request.purpose for n in notifications], [n.request.client_id for n in notifications],
        [n.user_id for n in notifications], [n.request.chat_id for n in notifications],
        [n.wib_date for n in notifications], [n.slot for n in notifications], [n.stage for n in notifications],
        [n.request.requested_at for n in notifications],
    )}
    requests: dict[str, WhatsAppMessageRequested] = {}
    for n in notifications:
        if n.ledger_key in fresh:
            requests.setdefault(n.request.idempotency_key, n.request)
    events: list[Event] = list(requests.values())
    if events:
        await ctx.append(stream_id, events)
    return list(requests)
