"""Events produced by attendance."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from cicero_contracts.base import Event, UtcDatetime
from cicero_contracts.events.common import Platform, WibDate


class AttendanceStatus(StrEnum):
    COMPLETE = "complete"
    PARTIAL = "partial"
    NONE = "none"
    NO_USERNAME = "no_username"
    EXEMPT = "exempt"


class AttendanceStatusChanged(Event):
    """A person's status for one platform and WIB day changed; the notifier reminds from this."""

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
