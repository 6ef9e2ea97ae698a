"""Recaps and reports delivered to their recipients (DOMAIN §5 "Recaps and reports"): the pure recipient and
key rules, then AttendanceRecapPublished through the consumer as production wires it."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from cicero_contracts.events.attendance import AttendanceRecapPublished, RecapKind
from cicero_contracts.events.whatsapp import WhatsAppSession
from cicero_contracts.schema_files import load_example
from cicero_notifier.recaps import Recipient, purpose_of, recap_key, scheduled_recipients
from cicero_notifier.recipients import group_chats, personal_chats
from cicero_runtime.consumer import Outcome
from cicero_runtime.event_store import RecordedEvent
from cicero_runtime.service import Service
from cicero_runtime.testing.contracts import assert_matches_contract, envelope_bytes

GROUP = "120363025550001111@g.us"
OPERATOR = "6281234567890@c.us"
SUPER_ADMIN = "6281298765432@c.us"
DIR_ADMIN_1 = "6281311112222@c.us"
DIR_ADMIN_2 = "6281333334444@c.us"
BROADCAST, PERSONAL = WhatsAppSession.BROADCAST, WhatsAppSession.OPERATOR


# -- pure rules --------------------------------------------------------------------------------------------

def test_personal_chats_normalise_dedupe_and_report_bad_entries() -> None:
    chats = personal_chats(["081234567890", "+62 812-3456-7890", "12"], ["6281298765432", "not a number"])
    assert chats.chat_ids == (OPERATOR, SUPER_ADMIN)
    assert chats.invalid == ("12", "not a number")
    assert personal_chats().chat_ids == ()


def test_group_chats_accept_bare_digits_and_refuse_personal_ids() -> None:
    chats = group_chats(["120363025550001111", GROUP, OPERATOR, "https://chat.whatsapp.com/120363025550002222"])
    assert chats.chat_ids == (GROUP, "120363025550002222@g.us")
    assert chats.invalid == (OPERATOR,)


def test_a_client_recap_goes_to_groups_then_operators_and_super_admins_once_each() -> None:
    chosen = scheduled_recipients(RecapKind.CLIENT, [GROUP, "bad-group"], ["6281234567890", "0812"],
                                  ["6281298765432", "081234567890"])
    assert chosen.recipients == (Recipient(BROADCAST, GROUP), Recipient(PERSONAL, OPERATOR),
                                 Recipient(PERSONAL, SUPER_ADMIN))
    assert chosen.invalid == ("bad-group", "0812")


def test_a_directorate_report_goes_only_to_the_super_admins() -> None:
    chosen = scheduled_recipients(RecapKind.DIRECTORATE, [GROUP], ["6281234567890"], ["6281311112222"])
    assert chosen.recipients == (Recipient(PERSONAL, DIR_ADMIN_1),)
    assert scheduled_recipients(RecapKind.DIRECTORATE, [GROUP], ["6281234567890"], []).recipients == ()


def recap(**changes: Any) -> AttendanceRecapPublished:
    return AttendanceRecapPublished.model_validate(load_example("AttendanceRecapPublished", 1) | changes)


def test_purposes() -> None:
    assert purpose_of(recap()) == "recap"
    assert purpose_of(recap(kind="directorate", daily_report=True)) == "daily_report"
    assert purpose_of(recap(trigger="request", request_id="r1", reply_to=OPERATOR)) == "recap_reply"


def test_keys_name_the_recap_and_the_recipient() -> None:
    key = recap_key(recap(), GROUP)
    assert key.startswith("recap:POLRES_DEMO:2026-03-10:engagement-recap:2026-03-10T08:05:00Z:")
    assert key.endswith(f":{GROUP}")
    assert recap_key(recap(), GROUP) == key, "the same recap again: the same key"
    others = {recap_key(recap(), OPERATOR), recap_key(recap(tick_id="engagement-recap:2026-03-10T11:05:00Z"), GROUP),
              recap_key(recap(text="Mohon ijin Komandan,\nRekap Komentar TikTok"), GROUP),
              recap_key(recap(kind="directorate"), GROUP), recap_key(recap(wib_date="2026-03-11"), GROUP)}
    assert key not in others and len(others) == 5
    reply = recap_key(recap(trigger="request", tick_id=None, request_id="wamid.1", reply_to=OPERATOR), OPERATOR)
    assert reply.startswith("recap_reply:POLRES_DEMO:2026-03-10:wamid.1:")
    long = recap_key(recap(trigger="request", tick_id=None, request_id="x" * 400, reply_to=OPERATOR), OPERATOR)
    assert len(long) == 300 and long != recap_key(
        recap(trigger="request", tick_id=None, request_id="x" * 399, reply_to=OPERATOR), OPERATOR)


# -- through the consumer ----------------------------------------------------------------------------------

async def handle(service: Service, event_type: str, payload: dict[str, Any] | None = None,
                 event_id: uuid.UUID | None = None) -> str:
    return await service.make_consumer("notifier").process(envelope_bytes(event_type, payload, event_id=event_id))


async def requests(service: Service) -> list[RecordedEvent]:
    async with service.pool.acquire() as conn:
        events = await service.store.read_after(conn, 0, 1000)
    for event in events:
        assert_matches_contract(event)
    return [e for e in events if e.event_type == "WhatsAppMessageRequested"]


async def clients(service: Service, *, demo: dict[str, Any] | None = None) -> None:
    example = load_example("ClientRegistered", 1)
    assert await handle(service, "ClientRegistered", example | (demo or {})) == Outcome.HANDLED
    directorate = example | {"client_id": "DITBINMAS", "name": "Ditbinmas", "client_type": "DIREKTORAT",
                             "whatsapp_groups": ["120363025550009999@g.us"], "operator_numbers": ["6281355556666"],
                             "super_admin_numbers": ["6281311112222", "0812", "081333334444"],
                             "parent_client_id": None}
    assert await handle(service, "ClientRegistered", directorate) == Outcome.HANDLED


def published(**changes: Any) -> dict[str, Any]:
    return load_example("AttendanceRecapPublished", 1) | changes


async def test_a_scheduled_client_recap_goes_to_groups_operators_and_super_admins(notifier: Service) -> None:
    await clients(notifier)
    event_id = uuid.uuid4()
    assert await handle(notifier, "AttendanceRecapPublished", event_id=event_id) == Outcome.HANDLED
    sent = await requests(notifier)
    assert [(r.payload["session"], r.payload["chat_id"]) for r in sent] == [
        ("broadcast", GROUP), ("operator", OPERATOR), ("operator", SUPER_ADMIN)]
    text = load_example("AttendanceRecapPublished", 1)["text"]
    for request in sent:
        assert request.payload["text"] == text
        assert request.payload["purpose"] == "recap"
        assert request.payload["client_id"] == "POLRES_DEMO"
        assert request.payload["requested_at"] == "2026-03-10T08:05:00Z"  # the recap's as_of, not the clock
        assert request.payload["idempotency_key"].startswith(
            "recap:POLRES_DEMO:2026-03-10:engagement-recap:2026-03-10T08:05:00Z:")
        assert request.stream_id == "recap:POLRES_DEMO:2026-03-10"
        assert request.metadata["causation_id"] == str(event_id)
    assert len({r.payload["idempotency_key"] for r in sent}) == 3
    rows = await notifier.pool.fetch("SELECT purpose, wib_date::text AS d FROM notifications")
    assert {(r["purpose"], r["d"]) for r in rows} == {("recap", "2026-03-10")}


async def test_a_redelivered_or_republished_recap_is_requested_once(notifier: Service) -> None:
    await clients(notifier)
    event_id = uuid.uuid4()
    assert await handle(notifier, "AttendanceRecapPublished", event_id=event_id) == Outcome.HANDLED
    assert await handle(notifier, "AttendanceRecapPublished", event_id=event_id) == Outcome.DUPLICATE
    assert await handle(notifier, "AttendanceRecapPublished") == Outcome.HANDLED  # same recap, new event id
    assert len(await requests(notifier)) == 3
    # another recap of the same tick (e.g. the other platform's) is a recap of its own
    assert await handle(notifier, "AttendanceRecapPublished", published(
        text="Mohon ijin Komandan,\n📊 *Rekap Komentar TikTok POLRES DEMO*")) == Outcome.HANDLED
    assert len(await requests(notifier)) == 6


async def test_the_daily_report_goes_to_the_directorate_super_admins_only(
    notifier: Service, caplog: pytest.LogCaptureFixture
) -> None:
    await clients(notifier)
    report = published(client_id="DITBINMAS", kind="directorate", daily_report=True,
                       tick_id="daily-report:2026-03-10T15:05:00Z", as_of="2026-03-10T15:05:00Z",
                       text="Mohon ijin Komandan,\n📊 *Laporan Harian Ditbinmas*")
    with caplog.at_level(logging.WARNING, logger="cicero_notifier.recaps"):
        assert await handle(notifier, "AttendanceRecapPublished", report) == Outcome.HANDLED
    sent = await requests(notifier)
    assert [(r.payload["session"], r.payload["chat_id"], r.payload["purpose"]) for r in sent] == [
        ("operator", DIR_ADMIN_1, "daily_report"), ("operator", DIR_ADMIN_2, "daily_report")]
    assert sent[0].payload["idempotency_key"].startswith("daily_report:DITBINMAS:2026-03-10:daily-report:")
    skipped = [r for r in caplog.records if r.getMessage().startswith("recap recipient skipped")]
    assert [getattr(r, "entry", None) for r in skipped] == ["0812"]


async def test_a_directorate_recap_at_recap_time_also_goes_to_its_super_admins(notifier: Service) -> None:
    await clients(notifier)
    assert await handle(notifier, "AttendanceRecapPublished", published(
        client_id="DITBINMAS", kind="directorate", text="Mohon ijin Komandan,\nRekap Ditbinmas")) == Outcome.HANDLED
    assert [(r.payload["chat_id"], r.payload["purpose"]) for r in await requests(notifier)] == [
        (DIR_ADMIN_1, "recap"), (DIR_ADMIN_2, "recap")]


async def test_a_requested_recap_answers_only_the_asker(notifier: Service) -> None:
    await clients(notifier)
    answer = published(trigger="request", tick_id=None, request_id="wamid.ABC", reply_to="6281277778888@c.us",
                       as_of="2026-03-10T08:12:00Z")
    assert await handle(notifier, "AttendanceRecapPublished", answer) == Outcome.HANDLED
    (request,) = await requests(notifier)
    assert (request.payload["session"], request.payload["chat_id"], request.payload["purpose"]) == (
        "operator", "6281277778888@c.us", "recap_reply")
    assert request.payload["idempotency_key"].startswith("recap_reply:POLRES_DEMO:2026-03-10:wamid.ABC:")
    assert request.payload["requested_at"] == "2026-03-10T08:12:00Z"


async def test_a_requested_recap_of_a_client_the_notifier_does_not_know_still_answers(notifier: Service) -> None:
    answer = published(client_id="POLRES_ZZZ", trigger="request", tick_id=None, request_id="wamid.Z",
                       reply_to=OPERATOR, has_posts=False, text="Client POLRES_ZZZ tidak dikenal.")
    assert await handle(notifier, "AttendanceRecapPublished", answer) == Outcome.HANDLED
    assert [r.payload["chat_id"] for r in await requests(notifier)] == [OPERATOR]


async def test_an_inactive_client_gets_no_recap(notifier: Service) -> None:
    await clients(notifier, demo={"active": False})
    assert await handle(notifier, "AttendanceRecapPublished") == Outcome.HANDLED
    assert await requests(notifier) == []


async def test_a_recap_of_a_client_not_known_yet_is_a_transient_failure(notifier: Service) -> None:
    event_id = uuid.uuid4()
    with pytest.raises(LookupError, match="POLRES_DEMO"):
        await handle(notifier, "AttendanceRecapPublished", event_id=event_id)
    assert await requests(notifier) == []
    await clients(notifier)
    assert await handle(notifier, "AttendanceRecapPublished", event_id=event_id) == Outcome.HANDLED
    assert len(await requests(notifier)) == 3
