"""WhatsApp admin commands (DOMAIN §6) through the consumer as production wires it: WhatsAppMessageReceived in,
ManualFetchRequested / RecapRequested / ReminderOptInChanged and the operator-session replies out."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from cicero_contracts.schema_files import load_example
from cicero_notifier.main import build
from cicero_notifier.settings import NotifierSettings
from cicero_runtime.consumer import Outcome
from cicero_runtime.event_store import RecordedEvent
from cicero_runtime.service import Service
from cicero_runtime.testing.contracts import assert_matches_contract, envelope_bytes
from cicero_runtime.testing.fixtures import service_settings, started_service
from cicero_runtime.topology import BusNames

ADMIN = "6281200000009"
OPERATOR = "6281234567890"  # operator of POLRES_DEMO, and the registered person Budi
SUPER_ADMIN = "6281298765432"  # super admin of POLRES_DEMO
DIR_SUPER_ADMIN = "6281311112222"  # super admin of DITBINMAS, POLRES_DEMO's parent
PERSON = "6281277778888"  # Siti: a registered person, nothing else
STRANGER = "6281299990000"


@pytest_asyncio.fixture
async def notifier_admins(database_url: str, amqp_url: str, namespace: str, bus_names: BusNames,
                          notifier_schema: str) -> AsyncIterator[Service]:
    settings = service_settings(NotifierSettings, database_url, notifier_schema, namespace, amqp_url=amqp_url,
                                admin_whatsapp_numbers=["0812-0000-0009"])
    async with started_service(build(settings)) as service:
        yield service


async def handle(service: Service, event_type: str, payload: dict[str, Any] | None = None,
                 event_id: uuid.UUID | None = None) -> str:
    return await service.make_consumer("notifier").process(envelope_bytes(event_type, payload, event_id=event_id))


async def appended(service: Service) -> list[RecordedEvent]:
    async with service.pool.acquire() as conn:
        events = await service.store.read_after(conn, 0, 1000)
    for event in events:
        assert_matches_contract(event)
    return events


@pytest_asyncio.fixture
async def svc(notifier_admins: Service) -> Service:
    """Two clients under DITBINMAS and one elsewhere, an inactive one, and two registered people."""
    example = load_example("ClientRegistered", 1)
    for client in (
        example,
        example | {"client_id": "DITBINMAS", "name": "Ditbinmas", "client_type": "DIREKTORAT",
                   "operator_numbers": [], "super_admin_numbers": [DIR_SUPER_ADMIN], "parent_client_id": None},
        example | {"client_id": "POLRES_LAIN", "name": "Polres Lain Rahasia", "operator_numbers": ["6281355556666"],
                   "super_admin_numbers": [], "parent_client_id": "DITLANTAS"},
        example | {"client_id": "POLRES_MATI", "name": "Polres Mati", "active": False},
    ):
        assert await handle(notifier_admins, "ClientRegistered", client) == Outcome.HANDLED
    person = load_example("PersonnelRegistered", 1)
    for payload in (person, person | {"user_id": "87020124", "name": "Siti", "whatsapp": PERSON,
                                      "wa_reminder_opt_in": False}):
        assert await handle(notifier_admins, "PersonnelRegistered", payload) == Outcome.HANDLED
    return notifier_admins


def message(text: str, sender: str, message_id: str | None = None, at: str = "2026-03-10T07:10:00Z",
            **changes: Any) -> dict[str, Any]:
    return load_example("WhatsAppMessageReceived", 1) | {
        "message_id": message_id or f"wamid.{uuid.uuid4().hex}", "chat_id": f"{sender}@c.us",
        "sender_id": f"{sender}@c.us", "text": text, "received_at": at} | changes


async def send(service: Service, text: str, sender: str, **kwargs: Any) -> list[RecordedEvent]:
    """Handle one inbound message; returns what it appended."""
    before = len(await appended(service))
    assert await handle(service, "WhatsAppMessageReceived", message(text, sender, **kwargs)) == Outcome.HANDLED
    return (await appended(service))[before:]


def replies(events: list[RecordedEvent]) -> list[dict[str, Any]]:
    return [e.payload for e in events if e.event_type == "WhatsAppMessageRequested"]


def the_reply(events: list[RecordedEvent], to: str) -> str:
    (reply,) = replies(events)
    assert (reply["session"], reply["chat_id"], reply["purpose"]) == ("operator", f"{to}@c.us", "command_reply")
    return str(reply["text"])


async def outcome(service: Service, message_id: str) -> tuple[str, str | None, str]:
    row = await service.pool.fetchrow("SELECT command, client_id, outcome FROM inbound_commands WHERE message_id = $1",
                                      message_id)
    assert row is not None
    return row["command"], row["client_id"], row["outcome"]


async def test_fetch_from_an_operator_asks_ingest_and_confirms(svc: Service) -> None:
    event_id = uuid.uuid4()
    payload = message(" Fetch # polres_demo ", OPERATOR, message_id="wamid.F1")
    assert await handle(svc, "WhatsAppMessageReceived", payload, event_id=event_id) == Outcome.HANDLED
    events = await appended(svc)
    (fetch,) = [e for e in events if e.event_type == "ManualFetchRequested"]
    assert fetch.payload == {"request_id": "wamid.F1", "client_id": "POLRES_DEMO",
                             "requested_at": "2026-03-10T07:10:00Z"}
    assert fetch.stream_id == "command:wamid.F1"
    assert fetch.metadata["causation_id"] == str(event_id)
    (reply,) = replies(events)
    assert reply["idempotency_key"] == "cmd:wamid.F1"
    assert reply["client_id"] == "POLRES_DEMO" and reply["requested_at"] == "2026-03-10T07:10:00Z"
    assert "Polres Demo (POLRES_DEMO) dimulai" in the_reply(events, OPERATOR)
    assert await outcome(svc, "wamid.F1") == ("fetch", "POLRES_DEMO", "fetch_requested")
    # redelivered, or reported again by the gateway under a new event id: acted on once
    assert await handle(svc, "WhatsAppMessageReceived", payload, event_id=event_id) == Outcome.DUPLICATE
    assert await handle(svc, "WhatsAppMessageReceived", payload) == Outcome.HANDLED
    assert len(await appended(svc)) == len(events)


async def test_rekap_asks_attendance_for_the_wib_day_and_the_recap_is_the_answer(svc: Service) -> None:
    # 01:30 WIB on the 11th is still the 10th in UTC: the recap is of the WIB day
    events = await send(svc, "rekap#POLRES_DEMO", SUPER_ADMIN, message_id="wamid.R1", at="2026-03-10T18:30:00Z")
    assert [e.event_type for e in events] == ["RecapRequested"]
    assert events[0].payload == {"request_id": "wamid.R1", "client_id": "POLRES_DEMO", "wib_date": "2026-03-11",
                                 "reply_to": f"{SUPER_ADMIN}@c.us", "requested_at": "2026-03-10T18:30:00Z"}
    assert await outcome(svc, "wamid.R1") == ("rekap", "POLRES_DEMO", "recap_requested")
    dated = await send(svc, "REKAP # polres_demo # 2026-03-01", OPERATOR)
    assert [(e.event_type, e.payload["wib_date"]) for e in dated] == [("RecapRequested", "2026-03-01")]


async def test_a_directorate_super_admin_commands_its_child_clients_only(svc: Service) -> None:
    events = await send(svc, "rekap#POLRES_DEMO", DIR_SUPER_ADMIN)
    assert [(e.event_type, e.payload["client_id"]) for e in events] == [("RecapRequested", "POLRES_DEMO")]
    refused = await send(svc, "fetch#POLRES_LAIN", DIR_SUPER_ADMIN)
    assert [e.event_type for e in refused] == ["WhatsAppMessageRequested"]
    assert "tidak berwenang" in the_reply(refused, DIR_SUPER_ADMIN)


async def test_an_admin_commands_every_client(svc: Service) -> None:
    events = await send(svc, "fetch#POLRES_LAIN", ADMIN)
    assert [e.event_type for e in events] == ["ManualFetchRequested", "WhatsAppMessageRequested"]
    assert "Polres Lain Rahasia (POLRES_LAIN) dimulai" in the_reply(events, ADMIN)
    menu = the_reply(await send(svc, "menu", ADMIN), ADMIN)
    assert "fetch#KODE_CLIENT" in menu and "semua client" in menu and "notifwa" not in menu


async def test_a_client_without_the_right_gets_a_refusal_without_data(svc: Service) -> None:
    events = await send(svc, "fetch#POLRES_LAIN", OPERATOR, message_id="wamid.N1")
    text = the_reply(events, OPERATOR)
    assert "tidak berwenang" in text and "POLRES_LAIN" in text
    assert "Polres Lain Rahasia" not in text and "6281355556666" not in text
    assert [e.event_type for e in events] == ["WhatsAppMessageRequested"]
    assert await outcome(svc, "wamid.N1") == ("fetch", "POLRES_LAIN", "not_allowed")
    recap = await send(svc, "rekap#POLRES_LAIN", OPERATOR)
    assert [e.event_type for e in recap] == ["WhatsAppMessageRequested"]


async def test_an_unknown_sender_gets_nothing_at_all(svc: Service, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="cicero_notifier.inbound_commands"):
        for text in ("fetch#POLRES_DEMO", "rekap#POLRES_DEMO", "menu", "notifwa#on", "halo"):
            assert await send(svc, text, STRANGER, message_id=f"wamid.S-{text}") == []
    assert await outcome(svc, "wamid.S-menu") == ("none", None, "unknown_sender")
    logged = [r for r in caplog.records if r.getMessage() == "message from an unknown number ignored"]
    assert len(logged) == 5
    assert {getattr(r, "sender", None) for r in logged} == {"62812****000"}
    assert all(STRANGER not in str(r.__dict__) for r in caplog.records), "the full number is never logged"


async def test_bad_arguments_get_a_reply_saying_what_was_wrong(svc: Service) -> None:
    cases = {
        "rekap#POLRES_DEMO#2026-13-01": "Tanggal '2026-13-01' tidak valid",
        "rekap#POLRES_DEMO#2026-03-11": "belum tiba",  # received on the 10th (WIB)
        "fetch#POLRES_ZZZ": "Client POLRES_ZZZ tidak terdaftar",
        "fetch#POLRES_MATI": "Client POLRES_MATI sedang tidak aktif",
        "fetch": "memerlukan satu kode client",
        "notifwa#maybe": "notifwa#on",
    }
    for text, fragment in cases.items():
        events = await send(svc, text, ADMIN)
        assert [e.event_type for e in events] == ["WhatsAppMessageRequested"], text
        assert fragment in the_reply(events, ADMIN), text


async def test_notifwa_sets_the_senders_own_opt_in_through_apply_opt_in(svc: Service) -> None:
    events = await send(svc, "notifwa#off", OPERATOR, message_id="wamid.O1", at="2026-03-10T09:00:00Z")
    assert [e.event_type for e in events] == ["ReminderOptInChanged", "WhatsAppMessageRequested"]
    assert events[0].payload == {"user_id": "87020123", "opt_in": False, "changed_at": "2026-03-10T09:00:00Z"}
    assert "*dinonaktifkan*" in the_reply(events, OPERATOR)
    assert await svc.pool.fetchval("SELECT wa_reminder_opt_in FROM personnel WHERE user_id = '87020123'") is False
    assert await outcome(svc, "wamid.O1") == ("notifwa", None, "opt_in_changed")
    again = await send(svc, "NOTIFWA OFF", OPERATOR)
    assert [e.event_type for e in again] == ["WhatsAppMessageRequested"], "unchanged: nothing to tell attendance"
    assert the_reply(again, OPERATOR) == "Pengingat tugas melalui WhatsApp sudah nonaktif."
    on = await send(svc, "notifwa#on", PERSON)
    assert [(e.event_type, e.payload.get("user_id")) for e in on] == [
        ("ReminderOptInChanged", "87020124"), ("WhatsAppMessageRequested", None)]
    assert "*diaktifkan*" in the_reply(on, PERSON)


async def test_notifwa_from_someone_who_is_not_a_registered_person(svc: Service) -> None:
    events = await send(svc, "notifwa#on", ADMIN)
    assert "tidak terdaftar sebagai personel" in the_reply(events, ADMIN)
    assert [e.event_type for e in events] == ["WhatsAppMessageRequested"]


async def test_a_registered_person_may_only_use_notifwa(svc: Service) -> None:
    refused = await send(svc, "fetch#POLRES_DEMO", PERSON)
    assert "hanya untuk operator dan admin" in the_reply(refused, PERSON)
    assert [e.event_type for e in refused] == ["WhatsAppMessageRequested"]
    menu = the_reply(await send(svc, "menu", PERSON), PERSON)
    assert "notifwa#on" in menu and "fetch#" not in menu and "rekap#" not in menu
    unknown = the_reply(await send(svc, "terima kasih", PERSON), PERSON)
    assert unknown.startswith("Perintah tidak dikenal.") and "notifwa#on" in unknown


async def test_the_operator_menu_names_their_clients(svc: Service) -> None:
    menu = the_reply(await send(svc, "menu", OPERATOR), OPERATOR)
    # Budi operates POLRES_DEMO (and, in the example, POLRES_MATI) and is a registered person
    assert "Client Anda: POLRES_DEMO, POLRES_MATI" in menu and "notifwa#on" in menu and "fetch#" in menu


async def test_group_messages_are_not_commands(svc: Service) -> None:
    payload = message("fetch#POLRES_DEMO", ADMIN, message_id="wamid.G1", chat_id="120363025550001111@g.us",
                      is_group=True)
    assert await handle(svc, "WhatsAppMessageReceived", payload) == Outcome.HANDLED
    assert await appended(svc) == []
    assert await svc.pool.fetchval("SELECT count(*) FROM inbound_commands") == 0
