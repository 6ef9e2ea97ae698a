"""The envelope that carries every event on the bus and in the event stores."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import Field

from cicero_contracts.base import UtcDatetime, WireModel


class Envelope(WireModel):
    """Metadata every consumer needs before it looks at the payload.

    ``stream_id``/``stream_version`` let a consumer order events of one aggregate; ``correlation_id`` ties
    every event caused by one tick together; ``causation_id`` names the event that caused this one.
    """

    event_id: UUID
    event_type: str = Field(min_length=1)
    schema_version: int = Field(ge=1)
    occurred_at: UtcDatetime
    producer: str = Field(min_length=1)
    stream_id: str = Field(min_length=1)
    stream_version: int = Field(ge=1)
    correlation_id: str | None = None
    causation_id: str | None = None
    payload: dict[str, Any]
