"""Reading an HTTP ``Retry-After`` header: the platform APIs (ingest) and the WhatsApp providers (gateway) both
rate-limit, and both must wait as told rather than by their own backoff alone."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, now: datetime | None = None, cap_s: float | None = None) -> float | None:
    """Seconds from ``now``: delta-seconds or an HTTP-date; ``None`` when absent or unreadable. ``cap_s`` bounds
    an absurd answer (a server asking for a week) so a message is delayed, not parked for ever."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    seconds = max(0.0, seconds)
    return min(seconds, cap_s) if cap_s is not None else seconds
