"""Reading ``Retry-After`` (shared by ingest's RapidAPI calls and the gateway's providers): pure, time given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from cicero_runtime.retry_after import parse_retry_after

NOW = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(("header", "seconds"), [
    ("1", 1.0), ("0", 0.0), ("  2 ", 2.0), ("1.5", 1.5), ("120", 120.0), ("-3", 0.0),
    (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
    (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),
    ("Tue, 10 Mar 2026 07:00:05 GMT", 5.0),
])
def test_retry_after_is_read_as_seconds_or_http_date(header: str, seconds: float) -> None:
    assert parse_retry_after(header, NOW) == pytest.approx(seconds)


@pytest.mark.parametrize("header", [None, "", "   ", "soon", "nan", "inf", "Tuesday at noon"])
def test_unreadable_retry_after_is_none(header: str | None) -> None:
    assert parse_retry_after(header, NOW) is None


def test_http_date_without_zone_is_utc() -> None:
    assert parse_retry_after("Tue, 10 Mar 2026 07:00:07 -0000", NOW) == pytest.approx(7.0)


@pytest.mark.parametrize(("header", "seconds"), [
    ("604800", 60.0), (format_datetime(NOW + timedelta(days=7), usegmt=True), 60.0), ("30", 30.0), ("-3", 0.0),
])
def test_an_absurd_wait_is_capped(header: str, seconds: float) -> None:
    assert parse_retry_after(header, NOW, cap_s=60.0) == pytest.approx(seconds)
