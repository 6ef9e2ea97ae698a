"""Task notifications' adapter: reads what the decision needs, requests its messages, keeps its state.

The rules live in ``task_decision.decide`` (pure). Here: the client from the directory copy, the client's
state (read in a savepoint so a failed read leaves the inbox transaction usable and becomes the
"state unreadable" marker), the messages through the ledger, and the counts and baseline. The slot is
marked notified only by the ledger's acceptance callback, when the gateway reports a list as sent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date

import asyncpg
from cicero_contracts.events.common import PostRef
from cicero_contracts.events.ingest import ClientFetchCompleted
from cicero_contracts.events.whatsapp import WhatsAppMessageRequested, WhatsAppSession
from cicero_runtime.consumer import HandlerContext
from cicero_runtime.logs import extra

from cicero_notifier.dispatch import Dispatch
from cicero_notifier.ledger import Ledger, Notification, request_messages
from cicero_notifier.slots import slot_key
from cicero_notifier.task_decision import (
    STATE_UNREADABLE,
    Client,
    Decision,
    Fetch,
    ListRequest,
    StateAsRead,
    StateWrite,
    TaskState,
    decide,
)

log = logging.getLogger(__name__)

LIST_PURPOSE = "task_list"

_LOCK_STATE = """SELECT last_notified_slot, baseline_date, baseline, last_fetched_at FROM client_state
                  WHERE client_id = $1 FOR UPDATE"""

StateReader = Callable[[asyncpg.Connection, str, date, str], Awaitable[TaskState]]
"""``(conn, client_id, wib_day, slot) → TaskState``; raising means the state cannot be read."""


async def read_task_state(conn: asyncpg.Connection, client_id: str, day: date, slot: str) -> TaskState:
    """The client's state, locked until the commit so two fetches of one client are decided one after the
    other (the second sees the first's baseline), plus the lists of this slot the ledger holds."""
    row = await conn.fetchrow(_LOCK_STATE, client_id)
    if row is None:  # the client's first fetch: create the row so there is one to lock
        await conn.execute("INSERT INTO client_state (client_id) VALUES ($1) ON CONFLICT (client_id) DO NOTHING",
                           client_id)
        row = await conn.fetchrow(_LOCK_STATE, client_id)
        if row is None:
            raise LookupError(f"client_state row of {client_id} vanished")
    lists = await conn.fetch(
        """SELECT chat_id, failed_at IS NOT NULL AND accepted_at IS NULL AS dead FROM notifications
           WHERE client_id = $1 AND wib_date = $2 AND purpose = $3 AND slot = $4""",
        client_id, day, LIST_PURPOSE, slot)
    return TaskState(
        last_notified_slot=row["last_notified_slot"],
        baseline_day=row["baseline_date"],
        baseline=tuple(PostRef.model_validate(ref) for ref in row["baseline"]),
        last_fetched_at=row["last_fetched_at"],
        list_requests=tuple(ListRequest(slot, r["chat_id"], r["dead"]) for r in lists),
    )


async def write_task_state(conn: asyncpg.Connection, client_id: str, state: StateWrite) -> None:
    await conn.execute(
        """INSERT INTO client_state (client_id, last_counts, baseline_date, baseline, last_fetched_at)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (client_id) DO UPDATE SET last_counts = $2, baseline_date = $3, baseline = $4,
             last_fetched_at = $5, updated_at = now()""",
        client_id, dict(state.counts), state.baseline_day, [ref.model_dump(mode="json") for ref in state.baseline],
        state.fetched_at,
    )


async def on_list_accepted(conn: asyncpg.Connection, row: asyncpg.Record) -> None:
    """The gateway accepted a scheduled list: its slot is notified (never rolled back to an older slot;
    slot keys sort in time order)."""
    if row["client_id"] is None or row["slot"] is None:
        return
    await conn.execute(
        """INSERT INTO client_state (client_id, last_notified_slot, last_notified_at) VALUES ($1, $2, $3)
           ON CONFLICT (client_id) DO UPDATE SET last_notified_slot = $2, last_notified_at = $3, updated_at = now()
           WHERE client_state.last_notified_slot IS NULL OR client_state.last_notified_slot < $2""",
        row["client_id"], row["slot"], row["accepted_at"])


async def _read_state(ctx: HandlerContext, read_state: StateReader, client_id: str, fetch: Fetch) -> StateAsRead:
    try:
        async with ctx.conn.transaction():  # a savepoint: a failed read must not abort the handler's transaction
            return await read_state(ctx.conn, client_id, fetch.day, slot_key(fetch.at))
    except Exception as exc:  # any failure means the state is unknown; DOMAIN §5 says what to do then
        log.warning("client state unreadable: sending changes only, writing no state",
                    extra=extra(client_id=client_id, error=repr(exc)[:300]))
        return STATE_UNREADABLE


def _notifications(client_id: str, fetch: Fetch, decision: Decision) -> list[Notification]:
    return [
        Notification(
            request=WhatsAppMessageRequested(
                idempotency_key=m.idempotency_key, session=WhatsAppSession.BROADCAST, chat_id=m.group, text=m.text,
                purpose=m.purpose, client_id=client_id, requested_at=fetch.at),
            wib_date=fetch.day, slot=m.slot)
        for m in decision.messages
    ]


def task_handler(read_state: StateReader = read_task_state
                 ) -> Callable[[ClientFetchCompleted, HandlerContext], Awaitable[None]]:
    async def on_client_fetch_completed(event: ClientFetchCompleted, ctx: HandlerContext) -> None:
        row = await ctx.conn.fetchrow("SELECT name, whatsapp_groups, active FROM clients WHERE client_id = $1",
                                      event.client_id)
        if row is None:
            # the directory event may still be on its way: a transient failure, retried with delay
            raise LookupError(f"client {event.client_id} not known to the notifier yet")
        client = Client(event.client_id, row["name"], tuple(row["whatsapp_groups"]), row["active"])
        fetch = Fetch.of(event)
        state = await _read_state(ctx, read_state, event.client_id, fetch) if client.active else TaskState()
        decision = decide(fetch, client, state)
        for group in decision.skipped_groups:
            log.warning("invalid WhatsApp group skipped", extra=extra(client_id=event.client_id, group=group))
        if decision.state is not None:
            await write_task_state(ctx.conn, event.client_id, decision.state)
        requested = await request_messages(ctx, f"notify:{event.client_id}",
                                           _notifications(event.client_id, fetch, decision))
        log.info("task notification decided", extra={
            "client_id": event.client_id, "slot": decision.slot, "outcome": decision.outcome.value,
            "added": len(decision.added), "removed": len(decision.removed), "messages": len(decision.messages),
            "requested": len(requested), "state_read": state is not STATE_UNREADABLE})

    return on_client_fetch_completed


def register_task_notifications(dispatch: Dispatch, ledger: Ledger, *,
                                read_state: StateReader = read_task_state) -> None:
    dispatch.on(ClientFetchCompleted, task_handler(read_state))
    ledger.on_accepted(LIST_PURPOSE, on_list_accepted)
