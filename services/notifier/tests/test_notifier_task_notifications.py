"""Task notifications after each ClientFetchCompleted (DOMAIN §5), through the consumer as production wires it.

The rules themselves are unit-tested in test_notifier_task_decision.py; these tests check the adapter: what
is read and written in PostgreSQL, what goes out through the ledger, and that the slot is marked notified
only when the gateway reports the list as sent.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from cicero_contracts.names import NOTIFIER_EVENTS
from cicero_contracts.schema_files import load_example
from cicero_notifier.directory import register_directory
from cicero_notifier.dispatch import Dispatch
from cicero_notifier.ledger import Ledger
from cicero_notifier.main import build
from cicero_notifier.settings import NotifierSettings
from cicero_notifier.task_decision import TaskState
from cicero_notifier.task_notifications import register_task_notifications
from cicero_runtime.consumer import EventConsumer, Outcome
from cicero_runtime.event_store import RecordedEvent
from cicero_runtime.service import Service
from cicero_runtime.testing.contracts import assert_matches_contract, envelope_bytes
from cicero_runtime.testing.fixtures import service_settings, started_service

GROUP_1 = "120363025550001111@g.us"
GROUP_2 = "120363025550002222@g.us"
SLOT_14 = "2026-03-10-14@05"
IG_POST = "3320123456789012345_5550001"


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


def fetch_payload(at: str, *, added: bool = True, removed: bool = False, mandatory: bool = False,
                  tiktok: bool = True) -> dict[str, Any]:
    """The committed example, fetched at ``at`` (UTC), with or without changes (and its TikTok post)."""
    example = load_example("ClientFetchCompleted", 1)
    removed_refs = [{"platform": "tiktok", "post_id": "7345000000000000001",
                     "link": "https://www.tiktok.com/@polres_demo_tt/video/7345000000000000001"}]
    return example | {
        "fetched_at": at, "mandatory": mandatory, "tick_id": f"post-fetch:{at}",
        "posts": example["posts"] if tiktok else example["posts"][:1],
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


async def gateway_reports(service: Service, request: RecordedEvent, *, sent: bool, at: str) -> None:
    """The gateway's WhatsAppMessageSent (or final WhatsAppMessageFailed) for one request."""
    common = {"idempotency_key": request.payload["idempotency_key"], "session": "broadcast",
              "chat_id": request.payload["chat_id"], "attempt": 5 if not sent else 1}
    if sent:
        event_type, payload = "WhatsAppMessageSent", common | {"provider": "file", "sent_at": at}
    else:
        event_type, payload = "WhatsAppMessageFailed", common | {"provider": "cloud", "reason": "HTTP 503",
                                                                  "final": True, "failed_at": at}
    assert await service.make_consumer("notifier").process(envelope_bytes(event_type, payload)) == Outcome.HANDLED


# -- the list and its state -----------------------------------------------------------------------------
async def test_the_example_fetch_at_1405_sends_the_task_list_to_the_group(notifier: Service) -> None:
    await register(notifier)
    event_id = uuid.uuid4()
    (request,) = await process_fetch(notifier, event_id=event_id)
    payload = request.payload
    assert payload["idempotency_key"] == f"task:POLRES_DEMO:{GROUP_1}:{SLOT_14}"
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
    ledger = await notifier.pool.fetchrow("SELECT * FROM notifications")
    assert ledger is not None
    assert (ledger["purpose"], ledger["slot"], ledger["wib_date"]) == ("task_list", SLOT_14, date(2026, 3, 10))
    after = await state(notifier)
    assert after is not None
    assert after["last_counts"] == {"posts": 2, "instagram": 1, "tiktok": 1}
    assert after["baseline_date"] == date(2026, 3, 10)
    assert [(r["platform"], r["post_id"]) for r in after["baseline"]] == [
        ("instagram", IG_POST), ("tiktok", "7345012345678901234")]
    assert after["last_fetched_at"] == datetime(2026, 3, 10, 7, 5, tzinfo=UTC)
    # requested is not notified: the slot is written only when the gateway accepted the list
    assert after["last_notified_slot"] is None and after["last_notified_at"] is None


async def test_the_slot_is_written_only_after_the_gateway_accepted_the_list(notifier: Service) -> None:
    await register(notifier, whatsapp_groups=[GROUP_1, GROUP_2])
    slot_13 = await process_fetch(notifier, fetch_payload("2026-03-10T06:05:00Z"))  # 13:05 WIB
    # requested but never accepted: the 13@05 slot is not notified, and the 14@05 one is due anyway
    first, second = await process_fetch(notifier, fetch_payload("2026-03-10T07:05:00Z", added=False))
    assert [r.payload["idempotency_key"] for r in (*slot_13, first)] == [
        f"task:POLRES_DEMO:{GROUP_1}:2026-03-10-13@05", f"task:POLRES_DEMO:{GROUP_2}:2026-03-10-13@05",
        f"task:POLRES_DEMO:{GROUP_1}:{SLOT_14}"]
    assert (await state(notifier) or {})["last_notified_slot"] is None
    # a change message accepted in the meantime is not a list: the slot stays open
    change = (await process_fetch(notifier, fetch_payload("2026-03-10T07:30:00Z", added=False, tiktok=False)))[0]
    assert change.payload["purpose"] == "task_removed"
    await gateway_reports(notifier, change, sent=True, at="2026-03-10T07:30:02Z")
    assert (await state(notifier) or {})["last_notified_slot"] is None
    await gateway_reports(notifier, second, sent=True, at="2026-03-10T07:05:07Z")
    after = await state(notifier) or {}
    assert after["last_notified_slot"] == SLOT_14
    assert after["last_notified_at"] == datetime(2026, 3, 10, 7, 5, 7, tzinfo=UTC)
    # the other group's acceptance keeps the first time; an older slot's late acceptance never rolls it back
    await gateway_reports(notifier, first, sent=True, at="2026-03-10T07:05:09Z")
    await gateway_reports(notifier, slot_13[0], sent=True, at="2026-03-10T07:06:00Z")
    after = await state(notifier) or {}
    assert (after["last_notified_slot"], after["last_notified_at"]) == (
        SLOT_14, datetime(2026, 3, 10, 7, 5, 7, tzinfo=UTC))
    accepted = await notifier.pool.fetchval("SELECT count(*) FROM notifications WHERE accepted_at IS NOT NULL")
    assert accepted == 4


async def test_nothing_new_in_the_same_slot_sends_nothing(notifier: Service) -> None:
    await register(notifier)
    (listed,) = await process_fetch(notifier, fetch_payload("2026-03-10T07:05:00Z"))
    # the same content again (another event), same slot, no changes: the requested list counts as notified
    assert await process_fetch(notifier, fetch_payload("2026-03-10T07:05:00Z", added=False)) == []
    assert await process_fetch(notifier, fetch_payload("2026-03-10T07:30:00Z", added=False)) == []
    await gateway_reports(notifier, listed, sent=True, at="2026-03-10T07:05:03Z")
    assert await process_fetch(notifier, fetch_payload("2026-03-10T08:04:00Z", added=False)) == []  # 15:04
    after = await state(notifier) or {}
    assert after["last_notified_slot"] == SLOT_14
    assert after["last_notified_at"] == datetime(2026, 3, 10, 7, 5, 3, tzinfo=UTC)
    assert after["last_fetched_at"] == datetime(2026, 3, 10, 8, 4, tzinfo=UTC)  # the counts are always kept
    # the next slot is due again
    (request,) = await process_fetch(notifier, fetch_payload("2026-03-10T08:05:00Z", added=False))
    assert request.payload["idempotency_key"].endswith(":2026-03-10-15@05")


async def test_a_post_added_after_the_list_is_found_against_the_stored_baseline(notifier: Service) -> None:
    """The second fetch reports no changes of its own; the baseline kept in PostgreSQL finds the new post."""
    await register(notifier)
    (listed,) = await process_fetch(notifier, fetch_payload("2026-03-10T07:05:00Z", tiktok=False))
    assert "TikTok: 0 konten hari ini" in listed.payload["text"]
    (request,) = await process_fetch(notifier, fetch_payload("2026-03-10T07:30:00Z", added=False))  # 14:30
    assert request.payload["purpose"] == "task_added"
    assert request.payload["idempotency_key"].startswith(f"change:POLRES_DEMO:{GROUP_1}:")
    assert "Konten Baru" in request.payload["text"] and "7345012345678901234" in request.payload["text"]
    assert "instagram.com" not in request.payload["text"]
    (removal,) = await process_fetch(notifier, fetch_payload("2026-03-10T12:05:00Z", added=False, tiktok=False))
    assert removal.payload["purpose"] == "task_removed" and "7345012345678901234" in removal.payload["text"]
    after = await state(notifier) or {}
    assert after["last_notified_slot"] is None  # change messages never mark a slot
    assert after["last_counts"] == {"posts": 1, "instagram": 1, "tiktok": 0}


async def test_a_change_outside_the_window_sends_one_message_per_kind_of_change(notifier: Service) -> None:
    await register(notifier, whatsapp_groups=[GROUP_1, GROUP_2])
    sent = await process_fetch(notifier, fetch_payload("2026-03-10T12:05:00Z", added=True, removed=True))  # 19:05
    assert [(r.payload["purpose"], r.payload["chat_id"]) for r in sent] == [
        ("task_added", GROUP_1), ("task_added", GROUP_2), ("task_removed", GROUP_1), ("task_removed", GROUP_2)]
    keys = [r.payload["idempotency_key"] for r in sent]
    assert all(k.startswith("change:POLRES_DEMO:") for k in keys) and len(set(keys)) == 4
    assert "https://www.instagram.com/p/C4abcDEFghi/" in sent[0].payload["text"]
    assert "7345000000000000001" in sent[2].payload["text"]


async def test_outside_the_window_without_changes_nothing_is_sent(notifier: Service) -> None:
    await register(notifier)
    assert await process_fetch(notifier, fetch_payload("2026-03-09T22:59:00Z", added=False)) == []  # 05:59
    assert await process_fetch(notifier, fetch_payload("2026-03-10T12:05:00Z", added=False)) == []  # 19:05
    after = await state(notifier) or {}
    assert after["last_counts"] == {"posts": 2, "instagram": 1, "tiktok": 1}  # the counts are always kept
    assert after["last_notified_slot"] is None and after["last_notified_at"] is None


async def test_the_1705_mandatory_run_is_always_due(notifier: Service) -> None:
    await register(notifier)
    key = f"task:POLRES_DEMO:{GROUP_1}:2026-03-10-17@05"
    (request,) = await process_fetch(notifier, fetch_payload("2026-03-10T10:05:00Z", added=False, mandatory=True))
    assert (request.payload["purpose"], request.payload["idempotency_key"]) == ("task_list", key)
    # the same run again (a second event): its list is already requested, so nothing goes out twice
    assert await process_fetch(notifier, fetch_payload("2026-03-10T10:05:00Z", added=False, mandatory=True)) == []


async def test_a_late_mandatory_run_outside_the_window_still_sends_the_list(notifier: Service) -> None:
    await register(notifier)
    (request,) = await process_fetch(notifier, fetch_payload("2026-03-10T11:20:00Z", added=False, mandatory=True))
    assert request.payload["purpose"] == "task_list"
    assert request.payload["idempotency_key"].endswith(":2026-03-10-18@05")


# -- dead letters, failures, restarts -------------------------------------------------------------------
async def test_a_dead_lettered_list_leaves_the_slot_open(notifier: Service) -> None:
    await register(notifier)
    (listed,) = await process_fetch(notifier, fetch_payload("2026-03-10T07:05:00Z"))
    # a failure that is not final changes nothing
    retrying = {"idempotency_key": listed.payload["idempotency_key"], "session": "broadcast", "chat_id": GROUP_1,
                "provider": "cloud", "reason": "HTTP 503", "attempt": 1, "final": False,
                "failed_at": "2026-03-10T07:05:30Z"}
    consumer = notifier.make_consumer("notifier")
    assert await consumer.process(envelope_bytes("WhatsAppMessageFailed", retrying)) == Outcome.HANDLED
    assert await process_fetch(notifier, fetch_payload("2026-03-10T07:20:00Z", added=False)) == []
    await gateway_reports(notifier, listed, sent=False, at="2026-03-10T07:25:00Z")
    assert (await state(notifier) or {})["last_notified_slot"] is None
    # the next fetch of the same slot lists again, under a fresh key (the dead one is burnt at the gateway)
    (again,) = await process_fetch(notifier, fetch_payload("2026-03-10T07:30:00Z", added=False))
    assert again.payload["purpose"] == "task_list"
    assert again.payload["idempotency_key"] == f"task:POLRES_DEMO:{GROUP_1}:{SLOT_14}:r1"
    await gateway_reports(notifier, again, sent=True, at="2026-03-10T07:30:04Z")
    assert (await state(notifier) or {})["last_notified_slot"] == SLOT_14
    assert await process_fetch(notifier, fetch_payload("2026-03-10T07:45:00Z", added=False)) == []


async def test_restarting_changes_nothing(notifier: Service, database_url: str, amqp_url: str, namespace: str,
                                          notifier_schema: str) -> None:
    await register(notifier)
    event_id = uuid.uuid4()
    (listed,) = await process_fetch(notifier, fetch_payload("2026-03-10T07:05:00Z"), event_id=event_id)
    before = await state(notifier)
    settings = service_settings(NotifierSettings, database_url, notifier_schema, namespace, amqp_url=amqp_url)
    async with started_service(build(settings)) as restarted:
        consumer = restarted.make_consumer("notifier")
        redelivered = envelope_bytes("ClientFetchCompleted", fetch_payload("2026-03-10T07:05:00Z"), event_id=event_id)
        assert await consumer.process(redelivered) == Outcome.DUPLICATE
        assert await process_fetch(restarted, fetch_payload("2026-03-10T07:05:00Z")) == []  # another event, same
        assert await process_fetch(restarted, fetch_payload("2026-03-10T07:30:00Z", added=False)) == []
        after = await state(restarted)
        assert before is not None and after is not None
        assert after["last_fetched_at"] == datetime(2026, 3, 10, 7, 30, tzinfo=UTC)
        unchanged = ("last_counts", "baseline_date", "baseline", "last_notified_slot", "last_notified_at")
        assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
        await gateway_reports(restarted, listed, sent=True, at="2026-03-10T07:05:03Z")
        assert (await state(restarted) or {})["last_notified_slot"] == SLOT_14
    assert len(await requests(notifier)) == 1


async def failing_reader(conn: asyncpg.Connection, client_id: str, day: date, slot: str) -> TaskState:
    await conn.execute("SELECT 1 FROM client_state_that_does_not_exist")  # a real database error
    raise AssertionError("unreachable")


@pytest_asyncio.fixture
async def notifier_without_state(database_url: str, amqp_url: str, namespace: str, notifier_schema: str
                                 ) -> AsyncIterator[Service]:
    """The notifier wired as production does, but with a state reader that fails."""
    settings = service_settings(NotifierSettings, database_url, notifier_schema, namespace, amqp_url=amqp_url)
    service = Service("notifier", "notifier", settings)
    dispatch, ledger = Dispatch(), Ledger()
    register_directory(dispatch)
    ledger.register(dispatch)
    register_task_notifications(dispatch, ledger, read_state=failing_reader)

    def wire(consumer: EventConsumer) -> None:
        dispatch.attach(consumer)

    service.consumer("notifier", NOTIFIER_EVENTS, wire)
    async with started_service(service):
        yield service


async def test_a_state_read_failure_sends_only_changes_and_writes_nothing(notifier_without_state: Service) -> None:
    service = notifier_without_state
    await register(service)
    # due slot and mandatory, but the state is unknown: only the fetch's own change goes out
    (change,) = await process_fetch(service, fetch_payload("2026-03-10T10:05:00Z", mandatory=True))
    assert change.payload["purpose"] == "task_added"
    assert "https://www.instagram.com/p/C4abcDEFghi/" in change.payload["text"]
    assert await process_fetch(service, fetch_payload("2026-03-10T10:30:00Z", added=False)) == []
    assert await state(service) is None  # nothing written, not even the counts
    assert await service.pool.fetchval("SELECT count(*) FROM notifications") == 1  # the ledger still records
    await gateway_reports(service, change, sent=True, at="2026-03-10T10:05:04Z")
    assert await state(service) is None  # a change accepted is not a slot notified


# -- the directory ------------------------------------------------------------------------------------------
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
    row = await notifier.pool.fetchrow("SELECT * FROM clients WHERE client_id = 'POLRES_DEMO'")
    assert row is not None
    assert (row["name"], row["active"], row["whatsapp_groups"]) == ("Polres Demo Kota", False, [GROUP_1, GROUP_2])
