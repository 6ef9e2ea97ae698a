"""Indonesian formatting of numbers, dates and times for messages."""

from __future__ import annotations

from datetime import datetime

from cicero_runtime.clock import WIB

DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
          "Oktober", "November", "Desember")


def number_id(value: int) -> str:
    """``1200`` → ``1.200`` (Indonesian thousands separator)."""
    return f"{value:,}".replace(",", ".")


def date_id(instant: datetime) -> str:
    local = instant.astimezone(WIB)
    return f"{DAYS[local.weekday()]}, {local.day} {MONTHS[local.month - 1]} {local.year}"


def time_wib(instant: datetime) -> str:
    return f"{instant.astimezone(WIB):%H:%M} WIB"


def short_caption(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
