"""Contract-test helpers: feed the shared example payloads to consumers, check producers against schemas."""

from __future__ import annotations

import functools
import json
import uuid
from typing import TYPE_CHECKING, Any

import jsonschema
from cicero_contracts import REGISTRY, Event
from cicero_contracts.schema_files import load_example, load_schema

from cicero_runtime.event_store import RecordedEvent

if TYPE_CHECKING:
    from cicero_runtime.service import Service


def envelope_bytes(
    event_type: str,
    payload: dict[str, Any] | None = None,
    *,
    event_id: uuid.UUID | None = None,
    schema_version: int = 1,
    stream_id: str = "test-stream",
    stream_version: int = 1,
    producer: str = "contract-test",
    correlation_id: str | None = "corr-test",
) -> bytes:
    """A wire message as a relay would send it; the payload defaults to the committed example."""
    return json.dumps({
        "event_id": str(event_id or uuid.uuid4()),
        "event_type": event_type,
        "schema_version": schema_version,
        "occurred_at": "2026-03-10T07:05:00Z",
        "producer": producer,
        "stream_id": stream_id,
        "stream_version": stream_version,
        "correlation_id": correlation_id,
        "causation_id": None,
        "payload": load_example(event_type, schema_version) if payload is None else payload,
    }).encode()


def event_envelope_bytes(event: Event, **kwargs: Any) -> bytes:
    return envelope_bytes(event.event_type, event.model_dump(mode="json"), **kwargs)


@functools.cache
def schema_validator(name: str, version: int) -> Any:
    """The committed schema's validator; the schema itself is checked once, not on every instance."""
    schema = load_schema(name, version)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def assert_matches_contract(recorded: RecordedEvent) -> None:
    """A produced event must satisfy the committed JSON Schema and parse back into its model."""
    schema_validator(recorded.event_type, recorded.schema_version).validate(recorded.payload)
    schema_validator("Envelope", 1).validate(json.loads(recorded.envelope().model_dump_json()))
    REGISTRY.parse(recorded.event_type, recorded.schema_version, recorded.payload)


async def appended_events(service: Service, after: int = 0, limit: int = 10_000) -> list[RecordedEvent]:
    """What ``service`` appended to its own store after global position ``after``, in order, each checked
    against the committed contract: a producer test reads what it produced and tests the contract with it."""
    async with service.pool.acquire() as conn:
        events = await service.store.read_after(conn, after, limit)
    for event in events:
        assert_matches_contract(event)
    return events
