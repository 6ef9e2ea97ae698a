"""The simulated platform's sense of "today": a WIB date, because that is the day the ingest cares about."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")


def today_wib() -> date:
    """The default simulated day is the real day as an Indonesian operator sees it, not the host's."""
    return datetime.now(WIB).date()
