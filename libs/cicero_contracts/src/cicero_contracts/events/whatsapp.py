"""WhatsApp requests (from the notifier) and the gateway's results and inbound messages."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from cicero_contracts.base import Event, UtcDatetime

CHAT_ID_PATTERN = r"^[0-9]{8,20}@(c\.us|g\.us)$"
IDEMPOTENCY_KEY_MAX_LENGTH = 300


class WhatsAppSession(StrEnum):
    BROADCAST = "broadcast"
    OPERATOR = "operator"
    LOG = "log"


class WhatsAppMessageRequested(Event):
    """Ask the gateway to send a text; the idempotency key makes a repeated request harmless."""

    event_type: ClassVar[str] = "WhatsAppMessageRequested"
    routing_key: ClassVar[str] = "whatsapp.WhatsAppMessageRequested"

    idempotency_key: str = Field(min_length=1, max_length=IDEMPOTENCY_KEY_MAX_LENGTH)
    session: WhatsAppSession
    chat_id: str = Field(pattern=CHAT_ID_PATTERN)
    text: str = Field(min_length=1, max_length=65536)
    purpose: str = Field(min_length=1)
    client_id: str | None = None
    requested_at: UtcDatetime


class WhatsAppMessageSent(Event):
    event_type: ClassVar[str] = "WhatsAppMessageSent"
    routing_key: ClassVar[str] = "whatsapp.WhatsAppMessageSent"

    idempotency_key: str = Field(min_length=1)
    session: WhatsAppSession
    chat_id: str = Field(pattern=CHAT_ID_PATTERN)
    provider: str
    provider_message_id: str | None = None
    attempt: int = Field(ge=1)
    sent_at: UtcDatetime


class WhatsAppMessageFailed(Event):
    """A send attempt failed; ``final`` means the message went to the dead letters."""

    event_type: ClassVar[str] = "WhatsAppMessageFailed"
    routing_key: ClassVar[str] = "whatsapp.WhatsAppMessageFailed"

    idempotency_key: str = Field(min_length=1)
    session: WhatsAppSession
    chat_id: str = Field(pattern=CHAT_ID_PATTERN)
    provider: str
    reason: str
    attempt: int = Field(ge=1)
    final: bool
    failed_at: UtcDatetime


class WhatsAppMessageReceived(Event):
    event_type: ClassVar[str] = "WhatsAppMessageReceived"
    routing_key: ClassVar[str] = "whatsapp.WhatsAppMessageReceived"

    message_id: str = Field(min_length=1)
    session: WhatsAppSession
    chat_id: str = Field(pattern=CHAT_ID_PATTERN)
    sender_id: str = Field(pattern=CHAT_ID_PATTERN)
    text: str
    is_group: bool = False
    received_at: UtcDatetime
