"""Slot logic of the hourly task notifications (DOMAIN §5). Pure functions of event time."""

from __future__ import annotations

from datetime import datetime, timedelta

from cicero_runtime.clock import WIB

WINDOW_START_HOUR = 6
WINDOW_END_HOUR = 17  # inclusive: 06:00–17:59 WIB


def slot_key(instant: datetime) -> str:
    """``YYYY-MM-DD-HH@05`` in WIB, anchored at minute 5 (before minute 5 belongs to the previous hour)."""
    local = instant.astimezone(WIB)
    if local.minute < 5:
        local -= timedelta(hours=1)
    return f"{local:%Y-%m-%d-%H}@05"


def in_hourly_window(instant: datetime) -> bool:
    return WINDOW_START_HOUR <= instant.astimezone(WIB).hour <= WINDOW_END_HOUR


def is_slot_due(instant: datetime, last_notified_slot: str | None) -> bool:
    return in_hourly_window(instant) and last_notified_slot != slot_key(instant)
