"""Slot logic of the hourly task notifications (DOMAIN §5). Pure functions of event time.

A slot names the hour a scheduled task list belongs to, anchored at minute 5 because the post-fetch ticks
fire at :05 and :30; keys are ``YYYY-MM-DD-HH@05`` in WIB, so they also sort in time order.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cicero_runtime.clock import WIB

WINDOW_START_HOUR = 6
WINDOW_END_HOUR = 17  # inclusive: 06:00–17:59 WIB
ANCHOR_MINUTE = 5


def slot_key(instant: datetime) -> str:
    """``YYYY-MM-DD-HH@05`` in WIB, anchored at minute 5 (before minute 5 belongs to the previous hour)."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: a zone is required to know the WIB slot")
    local = instant.astimezone(WIB)
    if local.minute < ANCHOR_MINUTE:
        local -= timedelta(hours=1)
    return f"{local:%Y-%m-%d-%H}@05"


def in_hourly_window(instant: datetime) -> bool:
    """The window is about the clock time itself (06:03 is inside even though its slot is ``05@05``)."""
    return WINDOW_START_HOUR <= instant.astimezone(WIB).hour <= WINDOW_END_HOUR


def is_list_due(instant: datetime, *, mandatory: bool, slot_taken: bool) -> bool:
    """Whether this fetch sends the scheduled list.

    ``slot_taken``: the slot's list was accepted, or is requested and not dead-lettered. The mandatory run
    (17:05) is due for every client even outside the window, but a slot whose list already went out is
    never listed twice (the same idempotency key would be dropped, and a change would be lost with it).
    """
    return (mandatory or in_hourly_window(instant)) and not slot_taken
