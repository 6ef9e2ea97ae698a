"""Deliver attendance's rendered recaps (AttendanceRecapPublished) to the people who receive them (DOMAIN §5
"Recaps and reports").

Scheduled recaps (recap ticks and the daily report alike) go by kind: a client recap to the client's
WhatsApp groups (broadcast session) and, personally, to its operators and super admins (operator
session); a directorate report to the directorate's super admins. A requested recap (``rekap#…``) goes
only to the chat that asked. The idempotency key names the recap (client, day, tick or request, and a
digest of kind and text — attendance may publish several recaps for one tick, e.g. one per platform) and
the recipient, so a redelivered or replayed recap is requested once.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from cicero_contracts.events.attendance import AttendanceRecapPublished, RecapKind, RecapTrigger
from cicero_contracts.events.whatsapp import WhatsAppMessageRequested, WhatsAppSession
from cicero_runtime.consumer import HandlerContext

from cicero_notifier.dispatch import Dispatch
from cicero_notifier.ledger import Notification, bounded_key, request_messages
from cicero_notifier.recipients import group_chats, masked, personal_chats

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Recipient:
    session: WhatsAppSession
    chat_id: str


@dataclass(frozen=True)
class RecapRecipients:
    recipients: tuple[Recipient, ...]
    invalid: tuple[str, ...] = ()
    """Directory entries that are not a group or a number: skipped, reported as a warning."""


def scheduled_recipients(kind: RecapKind, groups: list[str], operators: list[str], super_admins: list[str]
                         ) -> RecapRecipients:
    """Who receives a scheduled recap of this kind (the daily report follows the same rule)."""
    if kind == RecapKind.DIRECTORATE:
        people = personal_chats(super_admins)
        return RecapRecipients(tuple(Recipient(WhatsAppSession.OPERATOR, c) for c in people.chat_ids),
                               people.invalid)
    chats = group_chats(groups)
    people = personal_chats(operators, super_admins)  # an operator who is also super admin: one message
    return RecapRecipients(
        tuple(Recipient(WhatsAppSession.BROADCAST, c) for c in chats.chat_ids)
        + tuple(Recipient(WhatsAppSession.OPERATOR, c) for c in people.chat_ids),
        chats.invalid + people.invalid,
    )


def purpose_of(recap: AttendanceRecapPublished) -> str:
    if recap.trigger == RecapTrigger.REQUEST:
        return "recap_reply"
    return "daily_report" if recap.daily_report else "recap"


def recap_key(recap: AttendanceRecapPublished, chat_id: str) -> str:
    """Per recap (client, day, tick or request, kind + text) and recipient; bounded to the contract's length."""
    origin = recap.request_id if recap.trigger == RecapTrigger.REQUEST else recap.tick_id
    digest = hashlib.sha256(f"{recap.kind.value}\n{recap.text}".encode()).hexdigest()[:12]
    day = recap.wib_date.isoformat()
    return bounded_key(f"{purpose_of(recap)}:{recap.client_id}:{day}:{origin}:{digest}:{chat_id}")


async def _scheduled(recap: AttendanceRecapPublished, ctx: HandlerContext) -> tuple[Recipient, ...]:
    client = await ctx.conn.fetchrow(
        """SELECT active, whatsapp_groups, operator_numbers, super_admin_numbers FROM clients
           WHERE client_id = $1""", recap.client_id)
    if client is None:
        # the directory event may still be on its way: a transient failure, retried with delay
        raise LookupError(f"client {recap.client_id} not known to the notifier yet")
    if not client["active"]:
        log.info("recap of an inactive client not delivered", extra={"client_id": recap.client_id})
        return ()
    selected = scheduled_recipients(recap.kind, client["whatsapp_groups"], client["operator_numbers"],
                                    client["super_admin_numbers"])
    for entry in selected.invalid:
        log.warning("recap recipient skipped: not a valid number or group",
                    extra={"client_id": recap.client_id, "entry": masked(entry)})
    return selected.recipients


async def on_recap_published(recap: AttendanceRecapPublished, ctx: HandlerContext) -> None:
    if recap.trigger == RecapTrigger.REQUEST:
        # only the one who asked; the command already checked the sender's right to this client
        if recap.reply_to is None:
            log.warning("requested recap without reply_to dropped",
                        extra={"client_id": recap.client_id, "request_id": recap.request_id})
            return
        recipients: tuple[Recipient, ...] = (Recipient(WhatsAppSession.OPERATOR, recap.reply_to),)
    else:
        recipients = await _scheduled(recap, ctx)
    purpose = purpose_of(recap)
    notifications = [
        Notification(
            request=WhatsAppMessageRequested(
                idempotency_key=recap_key(recap, r.chat_id), session=r.session, chat_id=r.chat_id,
                text=recap.text, purpose=purpose, client_id=recap.client_id, requested_at=recap.as_of),
            wib_date=recap.wib_date,
        )
        for r in recipients
    ]
    requested = await request_messages(ctx, f"recap:{recap.client_id}:{recap.wib_date.isoformat()}",
                                       notifications)
    log.info("recap delivery requested", extra={
        "client_id": recap.client_id, "kind": recap.kind.value, "purpose": purpose,
        "recipients": len(notifications), "requested": len(requested)})


def register_recaps(dispatch: Dispatch) -> None:
    """Recaps keep no state of their own after delivery: the ledger's record of the gateway's report is all."""
    dispatch.on(AttendanceRecapPublished, on_recap_published)
