"""Operational alerts: any service reports a failure the admins should hear about (via the notifier)."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from cicero_contracts.base import Event, UtcDatetime


class Severity(StrEnum):
    WARNING = "warning"
    ERROR = "error"


class OperationalAlertRaised(Event):
    """One alert per failure; the notifier aggregates them into one summary per run (``run_id``)."""

    event_type: ClassVar[str] = "OperationalAlertRaised"
    routing_key: ClassVar[str] = "ops.OperationalAlertRaised"

    source: str = Field(min_length=1)
    severity: Severity
    run_id: str | None = None
    client_id: str | None = None
    summary: str = Field(min_length=1, max_length=500)
    details: list[str] = Field(default_factory=list)
    raised_at: UtcDatetime
