"""Attendance settings: the completion ratios of DOMAIN §4 and where the read API listens."""

from __future__ import annotations

from cicero_runtime.settings import RuntimeSettings
from pydantic import Field


class AttendanceSettings(RuntimeSettings):
    org_ratio: float = Field(default=1.0, gt=0, le=1)
    """Share of an ORG client's task posts a person must engage with to count as complete."""
    directorate_ratio: float = Field(default=0.5, gt=0, le=1)
    """The same for a directorate's task posts (its summaries are more lenient)."""
    api_host: str = "0.0.0.0"
    api_port: int = Field(default=8081, ge=0, le=65535)
    """The read API for dashboards (JSON + OpenAPI at /docs); 0 turns it off."""
    rebuild_chunk_size: int = Field(default=5000, ge=1)
    """Journal rows a rebuild projects per transaction."""
