"""Events produced by the scheduler."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from cicero_contracts.base import Event, UtcDatetime


class TickPhase(StrEnum):
    """What a tick asks the rest of the system to do."""

    POST_FETCH = "post_fetch"
    ENGAGEMENT_ONLY = "engagement_only"
    ENGAGEMENT_RECAP = "engagement_recap"
    REMINDER = "reminder"
    DAILY_REPORT = "daily_report"


class TickFired(Event):
    """A schedule fired for one instant; ``tick_id`` (``schedule:scheduled_for``) is claimed exactly once."""

    event_type: ClassVar[str] = "TickFired"
    routing_key: ClassVar[str] = "scheduler.TickFired"

    tick_id: str = Field(min_length=3)
    schedule: str = Field(min_length=1)
    phase: TickPhase
    scheduled_for: UtcDatetime
    fired_at: UtcDatetime
    mandatory: bool = False
    manual: bool = False
