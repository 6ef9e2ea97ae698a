"""Admin commands arriving as WhatsApp messages (WhatsAppMessageReceived, DOMAIN §6).

Only personal chats are commands; group chatter is logged and left alone. The sender is identified by
number (command_access); an unknown number gets no reply at all, so nobody learns anything by writing.
``fetch#`` asks ingest for a fetch now (ManualFetchRequested) and confirms; ``rekap#`` asks attendance for
the recap (RecapRequested), which comes back as an AttendanceRecapPublished for the asker (recaps.py);
``notifwa#on|off`` sets the sender's own reminder opt-in. Replies go to the sender through the operator
session, keyed by the inbound message id, so a message is answered once however often it is delivered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from cicero_contracts.events.notifier import ManualFetchRequested, RecapRequested
from cicero_contracts.events.whatsapp import WhatsAppMessageReceived, WhatsAppMessageRequested, WhatsAppSession
from cicero_runtime.clock import wib_date
from cicero_runtime.consumer import HandlerContext
from cicero_runtime.logs import mask_phone

from cicero_notifier import command_text as texts
from cicero_notifier.command_access import ClientContacts, Sender, identify_sender
from cicero_notifier.command_text import (
    BadCommand,
    Command,
    FetchCommand,
    MenuCommand,
    OptInCommand,
    RecapCommand,
    UnknownCommand,
    command_name,
    parse_command,
)
from cicero_notifier.dispatch import Dispatch
from cicero_notifier.ledger import Notification, bounded_key, request_messages
from cicero_notifier.recipients import phone_digits
from cicero_notifier.reminder_opt_in import apply_opt_in
from cicero_notifier.settings import NotifierSettings

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Result:
    outcome: str
    """Recorded in ``inbound_commands.outcome`` and logged."""
    reply: str | None = None
    client_id: str | None = None


def reply_key(message_id: str) -> str:
    return bounded_key(f"cmd:{message_id}")


class InboundCommands:
    def __init__(self, admin_numbers: list[str]) -> None:
        self._admin_numbers = list(admin_numbers)

    async def on_message(self, message: WhatsAppMessageReceived, ctx: HandlerContext) -> None:
        if message.is_group or message.chat_id.endswith("@g.us"):
            log.info("group message ignored (commands are personal chats only)",
                     extra={"chat_id": mask_phone(message.chat_id), "sender": mask_phone(message.sender_id)})
            return
        number = phone_digits(message.sender_id.split("@", 1)[0])
        if number is None:
            log.warning("message from an unusable sender id ignored", extra={"sender": mask_phone(message.sender_id)})
            return
        first = await ctx.conn.fetchval(
            """INSERT INTO inbound_commands (message_id, sender, command, outcome, received_at)
               VALUES ($1, $2, 'none', 'pending', $3) ON CONFLICT (message_id) DO NOTHING RETURNING true""",
            message.message_id, number, message.received_at)
        if not first:
            log.info("inbound message already handled", extra={"message_id": message.message_id})
            return
        sender = await self._identify(ctx, number)
        if not sender.known:
            # no reply at all: an unknown number learns nothing, not even that this number answers
            await self._record(ctx, message, "none", Result("unknown_sender"))
            log.info("message from an unknown number ignored", extra={"sender": mask_phone(number)})
            return
        command = parse_command(message.text)
        result = await self._execute(command, sender, message, ctx)
        await self._record(ctx, message, command_name(command), result)
        if result.reply is not None:
            await request_messages(ctx, f"command:{message.message_id}", [Notification(
                request=WhatsAppMessageRequested(
                    idempotency_key=reply_key(message.message_id), session=WhatsAppSession.OPERATOR,
                    chat_id=f"{number}@c.us", text=result.reply, purpose="command_reply",
                    client_id=result.client_id, requested_at=message.received_at),
                user_id=sender.user_ids[0] if sender.user_ids else None,
                wib_date=wib_date(message.received_at),
            )])
        log.info("whatsapp command handled", extra={
            "sender": mask_phone(number), "command": command_name(command), "outcome": result.outcome,
            "client_id": result.client_id, "admin": sender.is_admin})

    async def _identify(self, ctx: HandlerContext, number: str) -> Sender:
        clients = [
            ClientContacts(r["client_id"], r["client_type"], r["operator_numbers"], r["super_admin_numbers"],
                           r["parent_client_id"])
            for r in await ctx.conn.fetch(
                """SELECT client_id, client_type, operator_numbers, super_admin_numbers, parent_client_id
                   FROM clients""")
        ]
        user_ids = [r["user_id"] for r in await ctx.conn.fetch(
            "SELECT user_id FROM personnel WHERE whatsapp = $1 AND active ORDER BY user_id", number)]
        return identify_sender(number, self._admin_numbers, clients, user_ids)

    async def _execute(self, command: Command, sender: Sender, message: WhatsAppMessageReceived,
                       ctx: HandlerContext) -> Result:
        if isinstance(command, MenuCommand | UnknownCommand):
            text = texts.menu_text(manages=sender.manages, all_clients=sender.is_admin,
                                   client_ids=sender.client_ids, is_person=bool(sender.user_ids),
                                   unknown_command=isinstance(command, UnknownCommand))
            return Result("menu", text)
        if isinstance(command, BadCommand):
            return Result("bad_arguments", texts.bad_command_text(command.reason))
        if isinstance(command, OptInCommand):
            return await self._opt_in(command, sender, message.received_at, ctx)
        return await self._client_command(command, sender, message, ctx)

    async def _opt_in(self, command: OptInCommand, sender: Sender, at: datetime, ctx: HandlerContext) -> Result:
        if not sender.user_ids:
            return Result("not_a_person", texts.not_a_person_text())
        changed = False
        for user_id in sender.user_ids:  # one number normally names one person
            changed = await apply_opt_in(ctx, user_id, command.opt_in, at) or changed
        return Result("opt_in_changed" if changed else "opt_in_unchanged", texts.opt_in_text(command.opt_in, changed))

    async def _client_command(self, command: FetchCommand | RecapCommand, sender: Sender,
                              message: WhatsAppMessageReceived, ctx: HandlerContext) -> Result:
        client_id = command.client_id
        if not sender.manages:
            return Result("not_allowed", texts.managers_only_text())
        client = await ctx.conn.fetchrow("SELECT name, active FROM clients WHERE client_id = $1", client_id)
        if client is None:
            return Result("unknown_client", texts.unknown_client_text(client_id))
        if not sender.may_command(client_id):
            return Result("not_allowed", texts.not_allowed_text(client_id), client_id)
        if not client["active"]:
            return Result("inactive_client", texts.inactive_client_text(client_id), client_id)
        stream = f"command:{message.message_id}"
        if isinstance(command, FetchCommand):
            await ctx.append(stream, [ManualFetchRequested(request_id=message.message_id, client_id=client_id,
                                                           requested_at=message.received_at)])
            return Result("fetch_requested", texts.fetch_started_text(client_id, client["name"]), client_id)
        today = wib_date(message.received_at)
        day = command.day or today
        if day > today:
            return Result("future_date", texts.future_day_text(day, today), client_id)
        await ctx.append(stream, [RecapRequested(request_id=message.message_id, client_id=client_id, wib_date=day,
                                                 reply_to=f"{sender.number}@c.us",
                                                 requested_at=message.received_at)])
        return Result("recap_requested", None, client_id)  # the recap itself is the answer

    @staticmethod
    async def _record(ctx: HandlerContext, message: WhatsAppMessageReceived, command: str, result: Result) -> None:
        await ctx.conn.execute(
            "UPDATE inbound_commands SET command = $2, client_id = $3, outcome = $4 WHERE message_id = $1",
            message.message_id, command, result.client_id, result.outcome)


def register_commands(dispatch: Dispatch, settings: NotifierSettings) -> None:
    """Command replies keep no state after delivery: the ledger's record of the gateway's report is all."""
    dispatch.on(WhatsAppMessageReceived, InboundCommands(settings.admin_whatsapp_numbers).on_message)
