"""Events produced by attendance."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from cicero_contracts.base import Event, UtcDatetime
from cicero_contracts.events.common import Platform, WibDate
from cicero_contracts.events.whatsapp import CHAT_ID_PATTERN


class AttendanceStatus(StrEnum):
    COMPLETE = "complete"
    PARTIAL = "partial"
    NONE = "none"
    NO_USERNAME = "no_username"
    EXEMPT = "exempt"


class AttendanceStatusChanged(Event):
    """A person's row for one platform and WIB day changed (status, or progress within a status: ``done`` or
    ``total``); the notifier reminds from this, so its list of pending posts is always current."""

    event_type: ClassVar[str] = "AttendanceStatusChanged"
    routing_key: ClassVar[str] = "attendance.AttendanceStatusChanged"

    user_id: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    platform: Platform
    wib_date: WibDate
    status: AttendanceStatus
    previous_status: AttendanceStatus | None = None
    done: int = Field(ge=0)
    total: int = Field(ge=0)
    pending_post_ids: list[str] = Field(default_factory=list)
    changed_at: UtcDatetime


class RecapKind(StrEnum):
    CLIENT = "client"
    DIRECTORATE = "directorate"


class RecapTrigger(StrEnum):
    SCHEDULE = "schedule"
    """A recap or daily-report tick: the notifier sends it to the client's recipients."""
    REQUEST = "request"
    """An operator asked for it (RecapRequested): the notifier answers only the one who asked."""


class AttendanceRecapPublished(Event):
    """A rendered attendance recap (DOMAIN §4 text, Bahasa Indonesia) that the notifier delivers."""

    event_type: ClassVar[str] = "AttendanceRecapPublished"
    routing_key: ClassVar[str] = "attendance.AttendanceRecapPublished"

    client_id: str = Field(min_length=1)
    kind: RecapKind
    wib_date: WibDate
    as_of: UtcDatetime
    trigger: RecapTrigger
    tick_id: str | None = None
    """The recap or daily-report tick that asked for it (trigger ``schedule``)."""
    daily_report: bool = False
    request_id: str | None = None
    """The RecapRequested it answers (trigger ``request``)."""
    reply_to: str | None = Field(default=None, pattern=CHAT_ID_PATTERN)
    has_posts: bool
    text: str = Field(min_length=1)
