"""The committed schemas, the examples and the models agree; bad payloads fail naming the field."""

from __future__ import annotations

from typing import Any, ClassVar

import jsonschema
import pytest
from cicero_contracts import EVENT_MODELS, REGISTRY, Event, EventRegistry, InvalidPayload
from cicero_contracts.registry import UnknownEventType, UnsupportedSchemaVersion
from cicero_contracts.schema_files import load_example, load_schema, render, stale_files
from pydantic import Field

ALL_TYPES = [m.event_type for m in EVENT_MODELS]


def test_committed_schemas_match_models() -> None:
    assert stale_files() == [], "run: python -m cicero_contracts.schema_files"


def test_stale_schema_is_detected(tmp_path: Any) -> None:
    from cicero_contracts.schema_files import write_all

    write_all(tmp_path)
    (tmp_path / "TickFired.v1.json").write_text("{}", encoding="utf-8")
    assert stale_files(tmp_path) == ["TickFired.v1.json"]


@pytest.mark.parametrize("event_type", ALL_TYPES)
def test_example_matches_schema_and_model(event_type: str) -> None:
    example = load_example(event_type)
    jsonschema.validate(example, load_schema(event_type))
    event = REGISTRY.parse(event_type, 1, example)
    assert event.event_type == event_type
    # the model round-trips to a payload that still satisfies the committed schema
    jsonschema.validate(event.model_dump(mode="json"), load_schema(event_type))


def test_unknown_fields_are_ignored() -> None:
    payload = load_example("TickFired") | {"added_in_v2": "whatever"}
    event = REGISTRY.parse("TickFired", 1, payload)
    assert "added_in_v2" not in event.model_dump()


def test_missing_field_is_named() -> None:
    payload = load_example("PostFetched")
    del payload["created_at"]
    with pytest.raises(InvalidPayload) as info:
        REGISTRY.parse("PostFetched", 1, payload)
    assert info.value.fields == ["created_at"]
    assert "created_at" in str(info.value)


def test_wrongly_typed_field_is_named() -> None:
    payload = load_example("ClientFetchCompleted")
    payload["posts"][0]["like_count"] = "banyak"
    with pytest.raises(InvalidPayload) as info:
        REGISTRY.parse("ClientFetchCompleted", 1, payload)
    assert info.value.fields == ["posts.0.like_count"]


def test_naive_datetime_is_refused() -> None:
    payload = load_example("TickFired") | {"scheduled_for": "2026-03-10T14:05:00"}
    with pytest.raises(InvalidPayload, match="scheduled_for"):
        REGISTRY.parse("TickFired", 1, payload)


def test_times_are_normalised_to_utc() -> None:
    payload = load_example("TickFired") | {"scheduled_for": "2026-03-10T14:05:00+07:00"}
    event = REGISTRY.parse("TickFired", 1, payload)
    assert event.model_dump(mode="json")["scheduled_for"] == "2026-03-10T07:05:00Z"


def test_unknown_type_and_version_are_refused() -> None:
    with pytest.raises(UnknownEventType):
        REGISTRY.parse("NoSuchEvent", 1, {})
    with pytest.raises(UnsupportedSchemaVersion):
        REGISTRY.parse("TickFired", 7, load_example("TickFired"))


class _GreetingV2(Event):
    event_type: ClassVar[str] = "Greeting"
    schema_version: ClassVar[int] = 2
    routing_key: ClassVar[str] = "test.Greeting"
    full_name: str = Field(min_length=1)


def test_previous_version_is_upcast_and_older_refused() -> None:
    registry = EventRegistry(
        (_GreetingV2,), {("Greeting", 1): lambda p: {"full_name": f"{p['first']} {p['last']}"}}
    )
    event = registry.parse("Greeting", 1, {"first": "Budi", "last": "Santoso"})
    assert isinstance(event, _GreetingV2) and event.full_name == "Budi Santoso"
    assert registry.parse("Greeting", 2, {"full_name": "Andi"}).full_name == "Andi"  # type: ignore[attr-defined]
    with pytest.raises(UnsupportedSchemaVersion):
        registry.parse("Greeting", 0, {"first": "a", "last": "b"})


def test_schema_render_is_deterministic() -> None:
    model = EVENT_MODELS[0]
    assert render(model, model.event_type, 1) == render(model, model.event_type, 1)


@pytest.mark.parametrize("event_type", [m.event_type for m in EVENT_MODELS])
def test_parse_json_reads_what_parse_reads(event_type: str) -> None:
    import json

    example = load_example(event_type, 1)
    assert REGISTRY.parse_json(event_type, 1, json.dumps(example)) == REGISTRY.parse(event_type, 1, example)


def test_parse_json_names_a_bad_field_and_refuses_unknown_versions() -> None:
    with pytest.raises(InvalidPayload) as caught:
        REGISTRY.parse_json("PostRemoved", 1, '{"platform": "instagram", "post_id": "p"}')
    assert "client_id" in caught.value.fields
    with pytest.raises(UnsupportedSchemaVersion):
        REGISTRY.parse_json("PostRemoved", 7, "{}")
