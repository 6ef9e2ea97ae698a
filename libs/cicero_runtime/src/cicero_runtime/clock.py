"""Time helpers: UTC everywhere, the WIB day derived at the edge."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")


def utc_now() -> datetime:
    return datetime.now(UTC)


def wib_date(instant: datetime) -> date:
    """The WIB calendar day of an instant: the unit of tasks and attendance."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: a zone is required to know the WIB day")
    return instant.astimezone(WIB).date()


def parse_instant(text: str) -> datetime:
    """Parse an ISO-8601 instant; a time without an offset is read as WIB, the operators' clock."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=WIB)
    return value.astimezone(UTC)
