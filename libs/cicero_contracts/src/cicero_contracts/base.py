"""Base classes shared by every event and command on the wire.

Every message type is a pydantic v2 model that names its own ``event_type``, ``schema_version`` and
routing key, so producers, consumers and the schema generator all read one definition.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, ClassVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timezone-aware instant, normalised to UTC: naive times are refused because their zone is a guess."""


class WireModel(BaseModel):
    """Tolerant reader: unknown fields are ignored so producers can add fields without breaking consumers."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Event(WireModel):
    """A fact that happened; subclasses set the class variables below."""

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    routing_key: ClassVar[str]
