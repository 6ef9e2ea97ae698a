"""Wire contract of Cicero: the event envelope, every event model, bus names and JSON Schemas."""

from cicero_contracts.base import Event, UtcDatetime, WireModel
from cicero_contracts.envelope import Envelope
from cicero_contracts.registry import (
    EVENT_MODELS,
    REGISTRY,
    ContractError,
    EventRegistry,
    InvalidPayload,
    UnknownEventType,
    UnsupportedSchemaVersion,
)

__all__ = [
    "EVENT_MODELS",
    "REGISTRY",
    "ContractError",
    "Envelope",
    "Event",
    "EventRegistry",
    "InvalidPayload",
    "UnknownEventType",
    "UnsupportedSchemaVersion",
    "UtcDatetime",
    "WireModel",
]
