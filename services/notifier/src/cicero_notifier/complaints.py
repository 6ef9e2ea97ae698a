"""Replies to a person's complaint ("Tindak Lanjut Laporan Cicero", DOMAIN §5): by e-mail when the person
has an address, and by WhatsApp (``operator`` session) when they have a number.

Both are decided in the inbox transaction: the e-mail is queued in ``email_log`` under a key per
complaint and person (at most once; the e-mail worker sends it at once), the WhatsApp message goes
through the ledger with an idempotency key from the same pair. A person the notifier does not know yet
is a transient failure (the directory event may still be on its way); a person with neither channel
is reported to the admins.
"""

from __future__ import annotations

import logging

from cicero_contracts.events.notifier import ComplaintReplyRequested
from cicero_contracts.events.ops import OperationalAlertRaised, Severity
from cicero_contracts.events.whatsapp import WhatsAppMessageRequested, WhatsAppSession
from cicero_runtime.clock import wib_date
from cicero_runtime.consumer import HandlerContext
from cicero_runtime.identifiers import InvalidIdentifier, personal_chat_id
from cicero_runtime.logs import mask_phone
from cicero_runtime.service import Service

from cicero_notifier.dispatch import Dispatch
from cicero_notifier.email_address import is_valid_email, mask_email, normalize_email
from cicero_notifier.email_outbox import EmailJob, EmailWorker, enqueue
from cicero_notifier.email_text import complaint_body, complaint_whatsapp
from cicero_notifier.ledger import Notification, request_messages
from cicero_notifier.mailer import Mailer
from cicero_notifier.settings import NotifierSettings

log = logging.getLogger(__name__)

PURPOSE = "complaint_reply"


def reply_key(complaint_id: str, user_id: str) -> str:
    """One reply per complaint and person, on each channel."""
    return f"complaint:{complaint_id}:{user_id}"


async def on_complaint_reply(event: ComplaintReplyRequested, ctx: HandlerContext) -> None:
    person = await ctx.conn.fetchrow(
        "SELECT user_id, name, title, client_id, whatsapp, email FROM personnel WHERE user_id = $1", event.user_id)
    if person is None:
        raise LookupError(f"user {event.user_id} not known to the notifier yet")
    key = reply_key(event.complaint_id, event.user_id)
    stream_id = f"complaint:{event.complaint_id}"
    channels: list[str] = []

    email = normalize_email(person["email"] or "")
    if email and is_valid_email(email):
        queued = await enqueue(ctx.conn, ctx.store.schema, EmailJob(
            key=key, purpose=PURPOSE, user_id=event.user_id, recipient=email, subject=event.subject,
            body=complaint_body(title=person["title"], name=person["name"], complaint_id=event.complaint_id,
                                text=event.text),
            requested_at=event.requested_at,
        ), ctx.metadata())
        channels.append("email" if queued else "email (already queued)")
    elif email:
        log.warning("complaint reply: the e-mail address on file is not valid",
                    extra={"complaint_id": event.complaint_id, "user_id": event.user_id,
                           "to": mask_email(email)})

    chat_id = _chat_id(person["whatsapp"])
    if chat_id is not None:
        await request_messages(ctx, stream_id, [Notification(
            request=WhatsAppMessageRequested(
                idempotency_key=key, session=WhatsAppSession.OPERATOR, chat_id=chat_id,
                text=complaint_whatsapp(title=person["title"], name=person["name"],
                                        complaint_id=event.complaint_id, subject=event.subject, text=event.text),
                purpose=PURPOSE, client_id=person["client_id"], requested_at=event.requested_at,
            ),
            user_id=event.user_id, wib_date=wib_date(event.requested_at),
        )])
        channels.append("whatsapp")

    if not channels:
        log.warning("complaint reply has no channel: no valid e-mail address or WhatsApp number",
                    extra={"complaint_id": event.complaint_id, "user_id": event.user_id})
        await ctx.append(stream_id, [OperationalAlertRaised(
            source="notifier", severity=Severity.WARNING, client_id=person["client_id"],
            summary=f"Balasan laporan {event.complaint_id} tidak terkirim: {event.user_id} tidak punya "
                    "alamat e-mail maupun nomor WhatsApp yang valid",
            raised_at=event.requested_at,
        )])
        return
    log.info("complaint reply decided", extra={"complaint_id": event.complaint_id, "user_id": event.user_id,
                                               "channels": channels})


def _chat_id(whatsapp: str | None) -> str | None:
    if not whatsapp:
        return None
    try:
        return personal_chat_id(whatsapp)
    except InvalidIdentifier:
        log.warning("complaint reply: the WhatsApp number on file is not valid",
                    extra={"number": mask_phone(whatsapp)})
        return None


def register_complaint_replies(service: Service, dispatch: Dispatch, settings: NotifierSettings) -> EmailWorker:
    """The handler, and the worker that sends the e-mail it queues (started with the service)."""
    dispatch.on(ComplaintReplyRequested, on_complaint_reply)
    worker = EmailWorker(service, Mailer(settings), settings)
    service.background(worker.run)
    return worker
