"""Indonesian formatting of numbers, dates and times for messages people read (DOMAIN: Bahasa Indonesia, WIB).

Shared by every service that writes to people (notifier task lists, attendance reports), so a date or a
number reads the same in every message.
"""

from __future__ import annotations

from datetime import date, datetime

from cicero_contracts.events.common import Platform

from cicero_runtime.clock import WIB

DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
          "Oktober", "November", "Desember")

PLATFORM_LABEL = {Platform.INSTAGRAM: "Instagram", Platform.TIKTOK: "TikTok"}
"""How messages name the platforms."""


def number_id(value: int) -> str:
    """``1200`` → ``1.200`` (Indonesian thousands separator)."""
    return f"{value:,}".replace(",", ".")


def percent_id(value: float, decimals: int = 1) -> str:
    """``87.5`` → ``87,5%``: Indonesian writes the decimal comma (and the thousands dot, never reached here)."""
    return f"{value:.{decimals}f}".replace(".", ",") + "%"


def date_id(day: date | datetime) -> str:
    """``Minggu, 22 November 2026``. An instant is read on the WIB calendar; a plain date is already a WIB day."""
    local = day.astimezone(WIB) if isinstance(day, datetime) else day
    return f"{DAYS[local.weekday()]}, {local.day} {MONTHS[local.month - 1]} {local.year}"


def time_wib(instant: datetime) -> str:
    """``14:05 WIB``: operators read every clock time on the WIB clock."""
    return f"{instant.astimezone(WIB):%H:%M} WIB"


def short_caption(text: str, limit: int = 80) -> str:
    """A caption on one line, cut at ``limit`` characters with an ellipsis so a long post does not flood a chat."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
