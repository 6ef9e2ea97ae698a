"""Task notifications after each ClientFetchCompleted (DOMAIN §5), through the consumer as production wires it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from cicero_contracts.schema_files import load_example
from cicero_runtime.consumer import Outcome
from cicero_runtime.event_store import RecordedEvent
from cicero_runtime.service import Service
from cicero_runtime.testing.contracts import assert_matches_contract, envelope_bytes

GROUP_1 = "120363025550001111@g.us"
GROUP_2 = "120363025550002222@g.us"


async def requests(service: Service) -> list[RecordedEvent]:
    async with service.pool.acquire() as conn:
        events = await service.store.read_after(conn, 0, 1000)
    for event in events:
        assert_matches_contract(event)  # producer contract: everything the notifier appends
    assert {e.event_type for e in events} <= {"WhatsAppMessageRequested"}
    return events


async def state(service: Service) -> dict[str, Any] | None:
    row = await service.pool.fetchrow("SELECT * FROM client_state WHERE client_id = 'POLRES_DEMO'")
    return dict(row) if row else None


def fetch_payload(at: str, *, added: bool = True, removed: bool = False, mandatory: bool = False
                  ) -> dict[str, Any]:
    """The committed example, fetched at ``at`` (UTC), with or without changes."""
    example = load_example("ClientFetchCompleted", 1)
    removed_refs = [{"platform": "tiktok", "post_id": "7345000000000000001",
                     "link": "https://www.tiktok.com/@polres_demo_tt/video/7345000000000000001"}]
    return example | {
        "fetched_at": at, "mandatory": mandatory, "tick_id": f"post-fetch:{at}",
        "changes": {"added": example["changes"]["added"] if added else [],
                    "removed": removed_refs if removed else []},
    }


async def register(service: Service, **changes: Any) -> None:
    payload = None if not changes else load_example("ClientRegistered", 1) | changes
    outcome = await service.make_consumer("notifier").process(envelope_bytes("ClientRegistered", payload))
    assert outcome == Outcome.HANDLED


async def process_fetch(service: Service, payload: dict[str, Any] | None = None,
                        event_id: uuid.UUID | None = None) -> list[RecordedEvent]:
    """Handle one ClientFetchCompleted; returns the requests it appended."""
    before = len(await requests(service))
    consumer = service.make_consumer("notifier")
    assert await consumer.process(envelope_bytes("ClientFetchCompleted", payload, event_id=event_id)) == Outcome.HANDLED
    return (await requests(service))[before:]


async def test_the_example_fetch_at_1405_sends_the_task_list_to_the_group(notifier: Service) -> None:
    await register(notifier)
    event_id = uuid.uuid4()
    (request,) = await process_fetch(notifier, event_id=event_id)
    payload = request.payload
    assert payload["idempotency_key"] == f"task:POLRES_DEMO:{GROUP_1}:2026-03-10-14@05"
    assert payload["chat_id"] == GROUP_1
    assert payload["session"] == "broadcast"
    assert payload["purpose"] == "task_list"
    assert payload["client_id"] == "POLRES_DEMO"
    assert payload["requested_at"] == "2026-03-10T07:05:00Z"
    assert payload["text"].startswith("Mohon ijin Komandan,\n")
    assert "Polres Demo" in payload["text"] and "https://www.instagram.com/p/C4abcDEFghi/" in payload["text"]
    assert request.stream_id == "notify:POLRES_DEMO"
    assert request.metadata["causation_id"] == str(event_id)
    assert request.metadata["correlation_id"] == "corr-test"
    after = await state(notifier)
    assert after is not None
    assert after["last_counts"] == {"posts": 2}
    assert after["last_notified_slot"] == "2026-03-10-14@05"
    assert after["last_notified_at"] == datetime(2026, 3, 10, 7, 5, tzinfo=UTC)


async def test_one_request_per_group(notifier: Service) -> None:
    await register(notifier, whatsapp_groups=[GROUP_1, GROUP_2])
    sent = await process_fetch(notifier)
    assert [(r.payload["chat_id"], r.payload["idempotency_key"]) for r in sent] == [
        (GROUP_1, f"task:POLRES_DEMO:{GROUP_1}:2026-03-10-14@05"),
        (GROUP_2, f"task:POLRES_DEMO:{GROUP_2}:2026-03-10-14@05"),
    ]
    assert sent[0].payload["text"] == sent[1].payload["text"]


async def test_nothing_new_in_the_same_slot_sends_nothing(notifier: Service) -> None:
    await register(notifier)
    assert len(await process_fetch(notifier, fetch_payload("2026-03-10T07:05:00Z"))) == 1
    # the same content again (another event), same slot, no changes
    assert await process_fetch(notifier, fetch_payload("2026-03-10T07:05:00Z", added=False)) == []
    assert await process_fetch(notifier, fetch_payload("2026-03-10T07:30:00Z", added=False)) == []
    assert await process_fetch(notifier, fetch_payload("2026-03-10T08:04:00Z", added=False)) == []  # 15:04
    after = await state(notifier)
    assert after is not None
    assert after["last_notified_slot"] == "2026-03-10-14@05"
    assert after["last_notified_at"] == datetime(2026, 3, 10, 7, 5, tzinfo=UTC)  # no message, no write
    # the next slot is due again
    (request,) = await process_fetch(notifier, fetch_payload("2026-03-10T08:05:00Z", added=False))
    assert request.payload["idempotency_key"].endswith(":2026-03-10-15@05")
    assert (await state(notifier) or {})["last_notified_slot"] == "2026-03-10-15@05"


async def test_a_change_in_an_already_notified_slot_sends_a_change_message(notifier: Service) -> None:
    await register(notifier)
    await process_fetch(notifier, fetch_payload("2026-03-10T07:05:00Z"))
    (request,) = await process_fetch(notifier, fetch_payload("2026-03-10T07:30:00Z"))  # 14:30, one post added
    assert request.payload["purpose"] == "task_added"
    assert request.payload["idempotency_key"].startswith(f"change:POLRES_DEMO:{GROUP_1}:")
    assert "Konten Baru" in request.payload["text"]
    after = await state(notifier) or {}
    assert after["last_notified_slot"] == "2026-03-10-14@05"
    assert after["last_notified_at"] == datetime(2026, 3, 10, 7, 30, tzinfo=UTC)


async def test_a_change_outside_the_window_sends_one_message_per_kind_of_change(notifier: Service) -> None:
    await register(notifier, whatsapp_groups=[GROUP_1, GROUP_2])
    sent = await process_fetch(notifier, fetch_payload("2026-03-10T12:05:00Z", added=True, removed=True))  # 19:05
    assert [(r.payload["purpose"], r.payload["chat_id"]) for r in sent] == [
        ("task_added", GROUP_1), ("task_added", GROUP_2), ("task_removed", GROUP_1), ("task_removed", GROUP_2)]
    keys = [r.payload["idempotency_key"] for r in sent]
    assert all(k.startswith("change:POLRES_DEMO:") for k in keys) and len(set(keys)) == 4
    assert "https://www.instagram.com/p/C4abcDEFghi/" in sent[0].payload["text"]
    assert "7345000000000000001" in sent[2].payload["text"]
    after = await state(notifier) or {}
    assert after["last_notified_slot"] is None  # a change message is not a slot's task list
    assert after["last_notified_at"] == datetime(2026, 3, 10, 12, 5, tzinfo=UTC)


async def test_outside_the_window_without_changes_nothing_is_sent(notifier: Service) -> None:
    await register(notifier)
    assert await process_fetch(notifier, fetch_payload("2026-03-10T12:05:00Z", added=False)) == []  # 19:05
    assert await process_fetch(notifier, fetch_payload("2026-03-09T22:59:00Z", added=False)) == []  # 05:59
    after = await state(notifier) or {}
    assert after["last_counts"] == {"posts": 2}  # the counts are always kept
    assert after["last_notified_slot"] is None and after["last_notified_at"] is None


async def test_the_1705_mandatory_run_is_always_due(notifier: Service) -> None:
    await register(notifier)
    key = f"task:POLRES_DEMO:{GROUP_1}:2026-03-10-17@05"
    mandatory = fetch_payload("2026-03-10T10:05:00Z", added=False, mandatory=True)
    (request,) = await process_fetch(notifier, mandatory)
    assert (request.payload["purpose"], request.payload["idempotency_key"]) == ("task_list", key)
    assert (await state(notifier) or {})["last_notified_slot"] == "2026-03-10-17@05"
    # even when the slot was already notified: the gateway's idempotency key keeps it to one message
    (again,) = await process_fetch(notifier, mandatory)
    assert again.payload["idempotency_key"] == key


async def test_a_late_mandatory_run_outside_the_window_still_sends_the_list(notifier: Service) -> None:
    await register(notifier)
    (request,) = await process_fetch(notifier, fetch_payload("2026-03-10T11:20:00Z", added=False, mandatory=True))
    assert request.payload["purpose"] == "task_list"
    assert request.payload["idempotency_key"].endswith(":2026-03-10-18@05")


async def test_an_unknown_client_is_a_transient_failure_that_a_retry_completes(notifier: Service) -> None:
    consumer = notifier.make_consumer("notifier")
    event_id = uuid.uuid4()
    with pytest.raises(LookupError, match="POLRES_DEMO"):
        await consumer.process(envelope_bytes("ClientFetchCompleted", event_id=event_id))
    assert await requests(notifier) == []
    assert await notifier.pool.fetchval("SELECT count(*) FROM inbox") == 0  # rolled back: the retry is not a dup
    assert await state(notifier) is None
    await register(notifier)
    assert await consumer.process(envelope_bytes("ClientFetchCompleted", event_id=event_id)) == Outcome.HANDLED
    assert len(await requests(notifier)) == 1


async def test_an_inactive_client_gets_nothing(notifier: Service) -> None:
    await register(notifier)
    consumer = notifier.make_consumer("notifier")
    assert await consumer.process(envelope_bytes("ClientDeactivated")) == Outcome.HANDLED
    assert await process_fetch(notifier, fetch_payload("2026-03-10T07:05:00Z", mandatory=True)) == []
    assert await state(notifier) is None


async def test_registered_inactive_client_gets_nothing(notifier: Service) -> None:
    await register(notifier, active=False)
    assert await process_fetch(notifier) == []


async def test_a_client_without_groups_keeps_its_slot_due(notifier: Service) -> None:
    await register(notifier, whatsapp_groups=[])
    assert await process_fetch(notifier, fetch_payload("2026-03-10T07:05:00Z")) == []
    after = await state(notifier) or {}
    assert after["last_notified_slot"] is None and after["last_notified_at"] is None  # nothing was requested
    # the groups arrive with an update: the same slot is still due
    consumer = notifier.make_consumer("notifier")
    await consumer.process(envelope_bytes("ClientUpdated"))
    sent = await process_fetch(notifier, fetch_payload("2026-03-10T07:30:00Z", added=False))
    assert [r.payload["chat_id"] for r in sent] == [GROUP_1, GROUP_2]
    assert "Polres Demo Kota" in sent[0].payload["text"]  # the updated name


async def test_a_redelivered_fetch_is_not_notified_twice(notifier: Service) -> None:
    await register(notifier)
    event_id = uuid.uuid4()
    assert len(await process_fetch(notifier, event_id=event_id)) == 1
    consumer = notifier.make_consumer("notifier")
    assert await consumer.process(envelope_bytes("ClientFetchCompleted", event_id=event_id)) == Outcome.DUPLICATE
    assert len(await requests(notifier)) == 1


async def test_every_example_bound_to_the_notifier_queue_is_accepted(notifier: Service) -> None:
    """Consumer contract: each committed example of a type routed to the notifier decodes and is handled."""
    consumer = notifier.make_consumer("notifier")
    for event_type in ("ClientRegistered", "ClientUpdated", "ClientDeactivated", "ClientFetchCompleted",
                       "PersonnelRegistered", "PersonnelUpdated", "PersonnelDeactivated", "WhatsAppMessageSent",
                       "WhatsAppMessageFailed"):
        assert await consumer.process(envelope_bytes(event_type)) == Outcome.HANDLED, event_type
    for event_type in ("AttendanceStatusChanged", "TickFired", "WhatsAppMessageReceived"):
        assert await consumer.process(envelope_bytes(event_type)) == Outcome.IGNORED, event_type
    row = await notifier.pool.fetchrow("SELECT * FROM clients WHERE client_id = 'POLRES_DEMO'")
    assert row is not None
    assert (row["name"], row["active"], row["whatsapp_groups"]) == ("Polres Demo Kota", False, [GROUP_1, GROUP_2])
