"""Commands the notifier publishes for other services, and requests it receives from the outside."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from cicero_contracts.base import Event, UtcDatetime
from cicero_contracts.events.common import WibDate
from cicero_contracts.events.directory import CLIENT_ID_PATTERN as CLIENT_ID
from cicero_contracts.events.directory import USER_ID_PATTERN as USER_ID
from cicero_contracts.events.whatsapp import CHAT_ID_PATTERN as CHAT_ID


class RecapRequested(Event):
    """An operator asked for a client's recap on WhatsApp; attendance answers with AttendanceRecapPublished."""

    event_type: ClassVar[str] = "RecapRequested"
    routing_key: ClassVar[str] = "notifier.RecapRequested"

    request_id: str = Field(min_length=1)
    client_id: str = Field(pattern=CLIENT_ID)
    wib_date: WibDate
    reply_to: str = Field(pattern=CHAT_ID)
    requested_at: UtcDatetime


class ManualFetchRequested(Event):
    """An operator asked for a client to be fetched now; ingest runs one fetch job for it."""

    event_type: ClassVar[str] = "ManualFetchRequested"
    routing_key: ClassVar[str] = "notifier.ManualFetchRequested"

    request_id: str = Field(min_length=1)
    client_id: str = Field(pattern=CLIENT_ID)
    requested_at: UtcDatetime


class ReminderOptInChanged(Event):
    """A person sent ``notifwa#on`` / ``notifwa#off``; attendance records it in the directory."""

    event_type: ClassVar[str] = "ReminderOptInChanged"
    routing_key: ClassVar[str] = "notifier.ReminderOptInChanged"

    user_id: str = Field(pattern=USER_ID)
    opt_in: bool
    changed_at: UtcDatetime


class ComplaintReplyRequested(Event):
    """A reply to a person's complaint ("Tindak Lanjut Laporan Cicero"): e-mail and/or WhatsApp."""

    event_type: ClassVar[str] = "ComplaintReplyRequested"
    routing_key: ClassVar[str] = "complaints.ComplaintReplyRequested"

    complaint_id: str = Field(min_length=1, max_length=200)
    user_id: str = Field(pattern=USER_ID)
    subject: str = Field(default="Tindak Lanjut Laporan Cicero", min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=20000)
    requested_at: UtcDatetime
