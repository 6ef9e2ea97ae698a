"""Turn each ClientFetchCompleted into WhatsApp requests to the client's groups (DOMAIN §5)."""

from __future__ import annotations

import hashlib
import logging

from cicero_contracts import Event
from cicero_contracts.events.ingest import ClientFetchCompleted
from cicero_contracts.events.whatsapp import WhatsAppMessageRequested, WhatsAppSession
from cicero_runtime.consumer import HandlerContext

from cicero_notifier.slots import is_slot_due, slot_key
from cicero_notifier.task_list import render_change, render_task_list

log = logging.getLogger(__name__)


def idempotency_key(client_id: str, group: str, slot: str | None, text: str) -> str:
    """Per slot for scheduled lists, per content for change messages: no message goes out twice."""
    if slot is not None:
        return f"task:{client_id}:{group}:{slot}"
    return f"change:{client_id}:{group}:{hashlib.sha256(text.encode()).hexdigest()[:24]}"


async def on_client_fetch_completed(event: ClientFetchCompleted, ctx: HandlerContext) -> None:
    client = await ctx.conn.fetchrow("SELECT * FROM clients WHERE client_id = $1", event.client_id)
    if client is None:
        # the directory event may still be on its way: a transient failure, retried with delay
        raise LookupError(f"client {event.client_id} not known to the notifier yet")
    if not client["active"]:
        log.info("fetch for an inactive client ignored", extra={"client_id": event.client_id})
        return
    state = await ctx.conn.fetchrow("SELECT * FROM client_state WHERE client_id = $1", event.client_id)
    slot = slot_key(event.fetched_at)
    due = event.mandatory or is_slot_due(event.fetched_at, state["last_notified_slot"] if state else None)
    changed = bool(event.changes.added or event.changes.removed)
    counts = {"posts": len(event.posts)}
    # a due slot sends the scheduled list; otherwise one message per kind of change (DOMAIN §5)
    messages: list[tuple[str, str]] = []
    if due:
        messages.append(("task_list", render_task_list(client["name"], event)))
    else:
        messages += [(f"task_{kind}", render_change(client["name"], event, kind))
                     for kind in ("added", "removed") if getattr(event.changes, kind)]
    requests: list[Event] = [
        WhatsAppMessageRequested(
            idempotency_key=idempotency_key(event.client_id, group, slot if due else None, text),
            session=WhatsAppSession.BROADCAST, chat_id=group, text=text, purpose=purpose,
            client_id=event.client_id, requested_at=event.fetched_at,
        )
        for purpose, text in messages
        for group in client["whatsapp_groups"]
    ]
    if requests:
        await ctx.append(f"notify:{event.client_id}", requests)
    await ctx.conn.execute(
        """INSERT INTO client_state (client_id, last_counts, last_notified_slot, last_notified_at)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (client_id) DO UPDATE SET last_counts = $2,
             last_notified_slot = coalesce($3, client_state.last_notified_slot),
             last_notified_at = coalesce($4, client_state.last_notified_at), updated_at = now()""",
        event.client_id, counts, slot if requests and due else None, event.fetched_at if requests else None,
    )
    log.info("task notification decided", extra={"client_id": event.client_id, "slot": slot, "due": due,
                                                 "changed": changed, "messages": len(requests)})
