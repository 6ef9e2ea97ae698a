"""Look up event models by type and version, and read payloads at the edge.

Consumers accept the current and the previous ``schema_version``: an older payload is upcast to the
current model here, so handlers only ever see current models.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from cicero_contracts.base import Event
from cicero_contracts.events.attendance import AttendanceRecapPublished, AttendanceStatusChanged
from cicero_contracts.events.directory import (
    ClientDeactivated,
    ClientRegistered,
    ClientUpdated,
    PersonnelDeactivated,
    PersonnelRegistered,
    PersonnelUpdated,
)
from cicero_contracts.events.ingest import (
    ClientFetchCompleted,
    ClientFetchRequested,
    EngagementRefreshed,
    FetchRunStarted,
    PostFetched,
    PostRemoved,
)
from cicero_contracts.events.notifier import (
    ComplaintReplyRequested,
    ManualFetchRequested,
    RecapRequested,
    ReminderOptInChanged,
)
from cicero_contracts.events.ops import OperationalAlertRaised
from cicero_contracts.events.scheduler import TickFired
from cicero_contracts.events.whatsapp import (
    WhatsAppMessageFailed,
    WhatsAppMessageReceived,
    WhatsAppMessageRequested,
    WhatsAppMessageSent,
)

EVENT_MODELS: tuple[type[Event], ...] = (
    TickFired,
    ClientRegistered,
    ClientUpdated,
    ClientDeactivated,
    PersonnelRegistered,
    PersonnelUpdated,
    PersonnelDeactivated,
    ClientFetchRequested,
    PostFetched,
    PostRemoved,
    EngagementRefreshed,
    ClientFetchCompleted,
    AttendanceStatusChanged,
    FetchRunStarted,
    AttendanceRecapPublished,
    RecapRequested,
    ManualFetchRequested,
    ReminderOptInChanged,
    ComplaintReplyRequested,
    WhatsAppMessageRequested,
    WhatsAppMessageSent,
    WhatsAppMessageFailed,
    WhatsAppMessageReceived,
    OperationalAlertRaised,
)

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
"""Turns a payload of version N-1 into version N."""

UPCASTERS: dict[tuple[str, int], Upcaster] = {}
"""(event_type, from_version) → upcaster; empty while every event is at version 1."""


class ContractError(ValueError):
    """A message that can never be processed as sent: permanent, so it is parked, not retried."""


class UnknownEventType(ContractError):
    pass


class UnsupportedSchemaVersion(ContractError):
    pass


class InvalidPayload(ContractError):
    """The payload does not match its model; the message names every offending field."""

    def __init__(self, event_type: str, error: ValidationError) -> None:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in error.errors()
        )
        super().__init__(f"{event_type}: {problems}")
        self.event_type = event_type
        self.fields = [".".join(str(p) for p in e["loc"]) for e in error.errors()]


class EventRegistry:
    """Maps event types to models and upcasters; one instance per set of models (tests build their own)."""

    def __init__(
        self, models: tuple[type[Event], ...], upcasters: dict[tuple[str, int], Upcaster] | None = None
    ) -> None:
        self._models = {m.event_type: m for m in models}
        self._upcasters = dict(upcasters or {})

    def model_for(self, event_type: str) -> type[Event]:
        try:
            return self._models[event_type]
        except KeyError:
            raise UnknownEventType(f"unknown event type {event_type!r}") from None

    def routing_key_for(self, event_type: str) -> str:
        return self.model_for(event_type).routing_key

    def __contains__(self, event_type: object) -> bool:
        return event_type in self._models

    def parse(self, event_type: str, schema_version: int, payload: dict[str, Any]) -> Event:
        """Validate a payload of the current or the previous version into the current model."""
        model = self.model_for(event_type)
        current = model.schema_version
        if schema_version == current - 1 and (event_type, schema_version) in self._upcasters:
            payload = self._upcasters[(event_type, schema_version)](payload)
        elif schema_version != current:
            raise UnsupportedSchemaVersion(
                f"{event_type} schema_version {schema_version} is not supported (current {current})"
            )
        try:
            return model.model_validate(payload)
        except ValidationError as exc:
            raise InvalidPayload(event_type, exc) from exc

    def parse_json(self, event_type: str, schema_version: int, payload_json: str | bytes) -> Event:
        """``parse`` for a payload still in JSON text: a current-version payload is validated straight from
        the text (pydantic's own parser, several times faster than ``json.loads`` first)."""
        model = self.model_for(event_type)
        if schema_version != model.schema_version:
            return self.parse(event_type, schema_version, json.loads(payload_json))
        try:
            return model.model_validate_json(payload_json)
        except ValidationError as exc:
            raise InvalidPayload(event_type, exc) from exc


REGISTRY = EventRegistry(EVENT_MODELS, UPCASTERS)
