"""Indonesian formatting shared by every message writer: numbers, percentages, WIB dates and times, captions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from cicero_runtime.clock import WIB
from cicero_runtime.indonesian import date_id, number_id, percent_id, short_caption, time_wib


def wib(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WIB)


@pytest.mark.parametrize(("value", "text"), [
    (0, "0"), (7, "7"), (999, "999"), (1000, "1.000"), (1200, "1.200"), (12345, "12.345"),
    (1234567, "1.234.567"), (1000000000, "1.000.000.000"),
])
def test_number_id_uses_dots_for_thousands(value: int, text: str) -> None:
    assert number_id(value) == text


@pytest.mark.parametrize(("instant", "text"), [
    (wib(2026, 3, 9, 8, 0), "Senin, 9 Maret 2026"),
    (wib(2026, 3, 10, 8, 0), "Selasa, 10 Maret 2026"),
    (wib(2026, 3, 11, 8, 0), "Rabu, 11 Maret 2026"),
    (wib(2026, 3, 12, 8, 0), "Kamis, 12 Maret 2026"),
    (wib(2026, 3, 13, 8, 0), "Jumat, 13 Maret 2026"),
    (wib(2026, 3, 14, 8, 0), "Sabtu, 14 Maret 2026"),
    (wib(2026, 3, 15, 8, 0), "Minggu, 15 Maret 2026"),
    (wib(2026, 1, 1, 8, 0), "Kamis, 1 Januari 2026"),
    (wib(2026, 2, 2, 8, 0), "Senin, 2 Februari 2026"),
    (wib(2026, 4, 1, 8, 0), "Rabu, 1 April 2026"),
    (wib(2026, 5, 1, 8, 0), "Jumat, 1 Mei 2026"),
    (wib(2026, 6, 1, 8, 0), "Senin, 1 Juni 2026"),
    (wib(2026, 7, 1, 8, 0), "Rabu, 1 Juli 2026"),
    (wib(2026, 8, 17, 8, 0), "Senin, 17 Agustus 2026"),
    (wib(2026, 9, 1, 8, 0), "Selasa, 1 September 2026"),
    (wib(2026, 10, 1, 8, 0), "Kamis, 1 Oktober 2026"),
    (wib(2026, 11, 1, 8, 0), "Minggu, 1 November 2026"),
    (wib(2026, 12, 31, 8, 0), "Kamis, 31 Desember 2026"),
    (datetime(2026, 3, 9, 17, 30, tzinfo=UTC), "Selasa, 10 Maret 2026"),  # 00:30 WIB: the WIB day
])
def test_date_id_is_indonesian_and_in_wib(instant: datetime, text: str) -> None:
    assert date_id(instant) == text


@pytest.mark.parametrize(("instant", "text"), [
    (datetime(2026, 3, 10, 7, 5, tzinfo=UTC), "14:05 WIB"),
    (datetime(2026, 3, 9, 17, 0, tzinfo=UTC), "00:00 WIB"),
    (wib(2026, 3, 10, 9, 7), "09:07 WIB"),
])
def test_time_wib(instant: datetime, text: str) -> None:
    assert time_wib(instant) == text


@pytest.mark.parametrize(("caption", "limit", "expected"), [
    ("", 80, ""),
    ("Giat patroli", 80, "Giat patroli"),
    ("  Giat\npatroli\t\tdialogis  ", 80, "Giat patroli dialogis"),
    ("a" * 80, 80, "a" * 80),
    ("a" * 81, 80, "a" * 79 + "…"),
    ("kata " * 10, 11, "kata kata…"),  # no trailing space before the ellipsis
    ("kata " * 10, 12, "kata kata k…"),
])
def test_short_caption(caption: str, limit: int, expected: str) -> None:
    assert short_caption(caption, limit) == expected
    assert len(short_caption(caption, limit)) <= limit


@pytest.mark.parametrize(("day", "text"), [
    (date(2026, 11, 22), "Minggu, 22 November 2026"),
    (date(2026, 3, 10), "Selasa, 10 Maret 2026"),
    (date(2024, 2, 29), "Kamis, 29 Februari 2024"),
])
def test_date_id_of_a_plain_day_is_that_day(day: date, text: str) -> None:
    assert date_id(day) == text


@pytest.mark.parametrize(("value", "decimals", "text"), [
    (0.0, 1, "0,0%"), (100.0, 1, "100,0%"), (87.5, 1, "87,5%"), (66.666, 1, "66,7%"), (33.3333, 0, "33%"),
])
def test_percent_id_uses_the_decimal_comma(value: float, decimals: int, text: str) -> None:
    assert percent_id(value, decimals) == text
