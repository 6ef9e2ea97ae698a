"""Personal reminders at reminder ticks (DOMAIN §5), through the consumer as production wires it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from cicero_contracts import Envelope
from cicero_contracts.schema_files import load_example
from cicero_notifier.reminder_opt_in import apply_opt_in
from cicero_runtime.clock import parse_instant, wib_date
from cicero_runtime.consumer import HandlerContext, Outcome
from cicero_runtime.event_store import RecordedEvent
from cicero_runtime.service import Service
from cicero_runtime.testing.contracts import assert_matches_contract, envelope_bytes

DAY = "2026-03-10"
BUDI = "87020123"
BUDI_CHAT = "6281234567890@c.us"
IG_POST = "3320123456789012345_5550001"
IG_LINK = "https://www.instagram.com/p/C4abcDEFghi/"
TT_POST = "7345012345678901234"
TT_LINK = "https://www.tiktok.com/@polres_demo_tt/video/7345012345678901234"
T1705, T1735, T1805 = "2026-03-10T10:05:00Z", "2026-03-10T10:35:00Z", "2026-03-10T11:05:00Z"


async def appended(service: Service, event_type: str) -> list[RecordedEvent]:
    async with service.pool.acquire() as conn:
        events = await service.store.read_after(conn, 0, 10_000)
    for event in events:
        assert_matches_contract(event)  # producer contract: everything the notifier appends
    return [e for e in events if e.event_type == event_type]


async def reminders(service: Service) -> list[RecordedEvent]:
    """The reminder requests among everything appended (fetches also request the groups' task lists)."""
    return [e for e in await appended(service, "WhatsAppMessageRequested")
            if e.payload["purpose"] in ("reminder", "reminder_thanks")]


async def handle(service: Service, event_type: str, payload: dict[str, Any] | None = None,
                 event_id: uuid.UUID | None = None) -> str:
    return await service.make_consumer("notifier").process(envelope_bytes(event_type, payload, event_id=event_id))


async def person(service: Service, user_id: str = BUDI, event_type: str = "PersonnelRegistered",
                 **changes: Any) -> None:
    payload = load_example("PersonnelRegistered", 1) | {"user_id": user_id} | changes
    if user_id != BUDI and "whatsapp" not in changes:
        payload["whatsapp"] = f"62812000{user_id[-5:]}"
    assert await handle(service, event_type, payload) == Outcome.HANDLED


async def client(service: Service, client_id: str = "POLRES_DEMO", **changes: Any) -> None:
    payload = load_example("ClientRegistered", 1) | {"client_id": client_id} | changes
    assert await handle(service, "ClientRegistered", payload) == Outcome.HANDLED


async def fetched(service: Service, client_id: str = "POLRES_DEMO", at: str = "2026-03-10T07:05:00Z",
                  posts: list[dict[str, Any]] | None = None) -> None:
    example = load_example("ClientFetchCompleted", 1)
    payload = example | {"client_id": client_id, "fetched_at": at, "tick_id": f"post-fetch:{at}",
                         "wib_date": wib_date(parse_instant(at)).isoformat(),
                         "posts": example["posts"] if posts is None else posts}
    assert await handle(service, "ClientFetchCompleted", payload) == Outcome.HANDLED


async def status(service: Service, platform: str, status: str, pending: list[str], *, user_id: str = BUDI,
                 scope: str = "POLRES_DEMO", at: str = "2026-03-10T08:00:00Z", total: int = 1) -> None:
    payload = {"user_id": user_id, "client_id": scope, "platform": platform, "wib_date": DAY, "status": status,
               "previous_status": None, "done": total - len(pending), "total": total,
               "pending_post_ids": pending, "changed_at": at}
    assert await handle(service, "AttendanceStatusChanged", payload) == Outcome.HANDLED


async def tick(service: Service, at: str = T1705, *, phase: str = "reminder",
               event_id: uuid.UUID | None = None) -> list[RecordedEvent]:
    """Handle one reminder tick; returns the requests it appended."""
    before = len(await reminders(service))
    payload = {"tick_id": f"reminder:{at}", "schedule": "reminder", "phase": phase, "scheduled_for": at,
               "fired_at": at, "mandatory": False, "manual": False}
    assert await handle(service, "TickFired", payload, event_id) == Outcome.HANDLED
    return (await reminders(service))[before:]


async def sent(service: Service, key: str, chat_id: str = BUDI_CHAT, at: str = "2026-03-10T10:05:09Z") -> None:
    payload = {"idempotency_key": key, "session": "operator", "chat_id": chat_id, "provider": "file",
               "provider_message_id": "m-1", "attempt": 1, "sent_at": at}
    assert await handle(service, "WhatsAppMessageSent", payload) == Outcome.HANDLED


async def dead(service: Service, key: str) -> None:
    payload = {"idempotency_key": key, "session": "operator", "chat_id": BUDI_CHAT, "provider": "file",
               "reason": "HTTP 400 invalid recipient", "attempt": 5, "final": True, "failed_at": T1705}
    assert await handle(service, "WhatsAppMessageFailed", payload) == Outcome.HANDLED


async def stage_of(service: Service, user_id: str = BUDI) -> str | None:
    value: str | None = await service.pool.fetchval(
        "SELECT stage FROM reminder_state WHERE user_id = $1 AND wib_date = $2", user_id,
        datetime(2026, 3, 10).date())
    return value


async def day_with_tasks(service: Service) -> None:
    """Budi (AKP, opted in) of Polres Demo: the Instagram post still to like, TikTok done."""
    await client(service)
    await person(service)
    await fetched(service)
    await status(service, "instagram", "none", [IG_POST])
    await status(service, "tiktok", "complete", [])


def key(stage: str, user_id: str = BUDI) -> str:
    return f"reminder:{user_id}:{DAY}:{stage}"


async def test_a_reminder_tick_sends_one_personal_message_with_the_pending_links(notifier: Service) -> None:
    await day_with_tasks(notifier)
    event_id = uuid.uuid4()
    (request,) = await tick(notifier, event_id=event_id)
    payload = request.payload
    assert payload["idempotency_key"] == key("initial")
    assert (payload["session"], payload["chat_id"], payload["purpose"]) == ("operator", BUDI_CHAT, "reminder")
    assert (payload["client_id"], payload["requested_at"]) == ("POLRES_DEMO", T1705)
    text = payload["text"]
    assert text.startswith("Selamat Sore Bapak/Ibu AKP Budi Santoso,\n")
    assert "Pengingat Tugas Polres Demo" in text and "Selasa, 10 Maret 2026, 17:05 WIB" in text
    assert f"Instagram: 1 konten belum di-like\n1. {IG_LINK}\n   Giat patroli dialogis #polri" in text
    assert "TikTok: sudah selesai ✅" in text and TT_LINK not in text
    assert request.stream_id == f"reminders:{DAY}"
    assert request.metadata["causation_id"] == str(event_id)
    row = await notifier.pool.fetchrow("SELECT * FROM notifications WHERE idempotency_key = $1", key("initial"))
    assert row is not None and (row["user_id"], row["stage"], row["accepted_at"]) == (BUDI, "initial", None)
    assert await stage_of(notifier) is None  # not accepted yet: no stage written
    # the same tick redelivered sends nothing
    assert await handle(notifier, "TickFired", None, event_id) == Outcome.DUPLICATE
    assert len(await reminders(notifier)) == 1


async def test_the_stage_advances_only_after_the_gateway_accepted_it(notifier: Service) -> None:
    await day_with_tasks(notifier)
    assert [r.payload["idempotency_key"] for r in await tick(notifier, T1705)] == [key("initial")]
    # the 17:35 tick while the 17:05 message is still on its way: no second stage, no repeat
    assert await tick(notifier, T1735) == []
    assert await stage_of(notifier) is None
    await sent(notifier, key("initial"))
    assert await stage_of(notifier) == "initial"
    await sent(notifier, key("initial"))  # a duplicate report changes nothing
    (followup,) = await tick(notifier, T1805)
    assert followup.payload["idempotency_key"] == key("followup1")
    assert "Pengingat Tugas (ke-2) Polres Demo" in followup.payload["text"]
    assert followup.payload["text"].startswith("Selamat Malam ")  # 18:05 WIB
    assert await stage_of(notifier) == "initial"
    await sent(notifier, key("followup1"))
    assert await stage_of(notifier) == "followup1"
    (last,) = await tick(notifier, "2026-03-10T11:35:00Z")
    assert last.payload["idempotency_key"] == key("followup2")
    await sent(notifier, key("followup2"))
    assert await stage_of(notifier) == "followup2"
    # after followup2 no further reminder that day
    assert await tick(notifier, "2026-03-10T12:05:00Z") == []


async def test_completing_after_the_last_reminder_still_gets_the_thank_you(notifier: Service) -> None:
    await day_with_tasks(notifier)
    for at, stage in ((T1705, "initial"), (T1735, "followup1"), (T1805, "followup2")):
        assert [r.payload["idempotency_key"] for r in await tick(notifier, at)] == [key(stage)]
        await sent(notifier, key(stage))
    assert await stage_of(notifier) == "followup2"
    assert await tick(notifier, "2026-03-10T11:35:00Z") == []  # the reminders are used up, still pending
    await status(notifier, "instagram", "complete", [], at="2026-03-10T11:40:00Z")
    (thanks,) = await tick(notifier, "2026-03-10T12:05:00Z")
    assert (thanks.payload["idempotency_key"], thanks.payload["purpose"]) == (key("completed"), "reminder_thanks")
    assert "Tugas Hari Ini Selesai — Polres Demo" in thanks.payload["text"]
    await sent(notifier, key("completed"))
    assert await stage_of(notifier) == "completed"
    assert await tick(notifier, "2026-03-10T12:35:00Z") == []  # once


async def test_a_person_who_completes_is_thanked_once(notifier: Service) -> None:
    await day_with_tasks(notifier)
    await tick(notifier, T1705)
    await status(notifier, "instagram", "complete", [], at="2026-03-10T10:20:00Z")
    assert await tick(notifier, T1735) == []  # the reminder is still on its way: no thank-you on top of it
    await sent(notifier, key("initial"))
    (thanks,) = await tick(notifier, T1805)
    assert (thanks.payload["idempotency_key"], thanks.payload["purpose"]) == (key("completed"), "reminder_thanks")
    assert "Tugas Hari Ini Selesai — Polres Demo" in thanks.payload["text"]
    assert "• Instagram: 1 konten\n• TikTok: 1 konten" in thanks.payload["text"]
    assert thanks.payload["text"].startswith("Selamat Malam Bapak/Ibu AKP Budi Santoso,\n")
    await sent(notifier, key("completed"), at="2026-03-10T11:05:04Z")
    state = await notifier.pool.fetchrow("SELECT * FROM reminder_state WHERE user_id = $1", BUDI)
    assert state is not None
    assert (state["stage"], state["sent_at"]) == ("completed", datetime(2026, 3, 10, 11, 5, 4, tzinfo=UTC))
    # a new post later that day: completed people are never messaged again that day
    await status(notifier, "instagram", "partial", ["new-post"], at="2026-03-10T11:20:00Z", total=2)
    assert await tick(notifier, "2026-03-10T11:35:00Z") == []


async def test_a_dead_lettered_stage_is_passed_over(notifier: Service) -> None:
    await day_with_tasks(notifier)
    await tick(notifier, T1705)
    await dead(notifier, key("initial"))
    assert await stage_of(notifier) is None
    (followup,) = await tick(notifier, T1735)
    assert followup.payload["idempotency_key"] == key("followup1")


SITI = "90030003"


async def two_people_at_one_number(service: Service) -> None:
    """Budi (Instagram pending) and Siti (TikTok pending) of Polres Demo, both at Budi's number."""
    await day_with_tasks(service)
    await person(service, SITI, name="Siti Aminah", title="BRIPDA", whatsapp="6281234567890")
    await status(service, "instagram", "complete", [], user_id=SITI)
    await status(service, "tiktok", "none", [TT_POST], user_id=SITI)


def shared_key(*parts: str) -> str:
    return f"reminder:{DAY}:{'+'.join(parts)}"


async def ledger_rows(service: Service, client_id: str = "POLRES_DEMO") -> list[tuple[str, str, str | None, str]]:
    return [(r["user_id"], r["idempotency_key"], r["message_key"], r["stage"]) for r in await service.pool.fetch(
        "SELECT * FROM notifications WHERE client_id = $1 AND user_id IS NOT NULL ORDER BY requested_at, user_id",
        client_id)]


async def test_people_of_one_unit_sharing_a_number_get_one_message_naming_each_of_them(notifier: Service) -> None:
    await two_people_at_one_number(notifier)
    await client(notifier, "POLRES_CONTOH", name="Polres Contoh")
    await fetched(notifier, "POLRES_CONTOH")
    await person(notifier, "93050005", client_id="POLRES_CONTOH", whatsapp="6281234567890")  # another unit
    requests = await tick(notifier, T1705)
    first = shared_key(f"{BUDI}.initial", f"{SITI}.initial")
    assert sorted((r.payload["client_id"], r.payload["chat_id"], r.payload["idempotency_key"]) for r in requests) == [
        ("POLRES_CONTOH", BUDI_CHAT, key("initial", "93050005")),  # the same number in another unit: its own
        ("POLRES_DEMO", BUDI_CHAT, first),
    ]
    (shared,) = [r for r in requests if r.payload["client_id"] == "POLRES_DEMO"]
    text = shared.payload["text"]
    assert shared.payload["purpose"] == "reminder"
    assert text.startswith("Selamat Sore Bapak/Ibu,\n") and "Nomor ini terdaftar untuk 2 personel:" in text
    budi_part, siti_part = text.split("*2. BRIPDA Siti Aminah* — Pengingat Tugas\n")
    assert "*1. AKP Budi Santoso* — Pengingat Tugas\n" in budi_part
    assert IG_LINK in budi_part and TT_LINK not in budi_part  # each person's own pending posts
    assert TT_LINK in siti_part and IG_LINK not in siti_part
    # each person keeps a ledger row under their own key; the gateway knows the message by the shared key
    assert await ledger_rows(notifier) == [(BUDI, key("initial"), first, "initial"),
                                           (SITI, key("initial", SITI), first, "initial")]
    assert await tick(notifier, T1735) == []  # on its way: neither person gets another
    assert (await stage_of(notifier), await stage_of(notifier, SITI)) == (None, None)
    await sent(notifier, first)
    assert (await stage_of(notifier), await stage_of(notifier, SITI)) == ("initial", "initial")

    # Siti completes: the next run is again one message, Budi's second reminder and Siti's thank-you
    await status(notifier, "tiktok", "complete", [], user_id=SITI, at="2026-03-10T10:20:00Z")
    (second,) = [r for r in await tick(notifier, T1805) if r.payload["client_id"] == "POLRES_DEMO"]
    assert second.payload["idempotency_key"] == shared_key(f"{BUDI}.followup1", f"{SITI}.completed")
    assert "*1. AKP Budi Santoso* — Pengingat Tugas (ke-2)" in second.payload["text"]
    assert "*2. BRIPDA Siti Aminah* — tugas hari ini selesai ✅" in second.payload["text"]
    await sent(notifier, second.payload["idempotency_key"])
    assert (await stage_of(notifier), await stage_of(notifier, SITI)) == ("followup1", "completed")
    # Siti is done for the day: Budi's last reminder goes to the number alone, under his own key
    (third,) = [r for r in await tick(notifier, "2026-03-10T11:35:00Z") if r.payload["client_id"] == "POLRES_DEMO"]
    assert third.payload["idempotency_key"] == key("followup2")
    assert third.payload["text"].startswith("Selamat Malam Bapak/Ibu AKP Budi Santoso,")


async def test_a_dead_lettered_shared_message_uses_up_the_stage_of_everyone_in_it(notifier: Service) -> None:
    await two_people_at_one_number(notifier)
    await tick(notifier, T1705)
    await dead(notifier, shared_key(f"{BUDI}.initial", f"{SITI}.initial"))
    assert (await stage_of(notifier), await stage_of(notifier, SITI)) == (None, None)
    (followup,) = await tick(notifier, T1735)
    assert followup.payload["idempotency_key"] == shared_key(f"{BUDI}.followup1", f"{SITI}.followup1")
    failed = await notifier.pool.fetch("SELECT user_id FROM notifications WHERE failed_at IS NOT NULL ORDER BY 1")
    assert [r["user_id"] for r in failed] == [BUDI, SITI]


async def test_only_eligible_people_are_reminded(notifier: Service) -> None:
    await client(notifier)
    await client(notifier, "POLRES_OFF", name="Polres Off", reminders_enabled=False)
    await client(notifier, "POLRES_GONE", name="Polres Gone", active=False)
    await fetched(notifier)
    await fetched(notifier, "POLRES_OFF")
    await fetched(notifier, "POLRES_GONE")
    await person(notifier)  # eligible
    await person(notifier, "11000001", wa_reminder_opt_in=False)
    await person(notifier, "11000002", exempt=True)
    await person(notifier, "11000003", whatsapp=None)
    await person(notifier, "11000004", whatsapp="12345")
    await person(notifier, "11000005", active=False)
    await person(notifier, "11000006", client_id="POLRES_OFF")
    await person(notifier, "11000007", client_id="POLRES_GONE")
    await person(notifier, "11000008", client_id="POLRES_UNKNOWN")
    await person(notifier, "11000009", name="Siti Aminah", title="BRIPDA", whatsapp="0812-9999-0009")
    sent_to = sorted((r.payload["chat_id"], r.payload["idempotency_key"]) for r in await tick(notifier))
    assert sent_to == [(BUDI_CHAT, key("initial")), ("6281299990009@c.us", key("initial", "11000009"))]


async def test_nothing_without_task_posts(notifier: Service) -> None:
    await client(notifier)
    await person(notifier)
    assert await tick(notifier) == []  # no fetch today
    await fetched(notifier, at="2026-03-09T07:05:00Z")  # yesterday's posts are not today's tasks
    assert await tick(notifier) == []
    await fetched(notifier, at="2026-03-10T07:05:00Z")
    await fetched(notifier, at="2026-03-10T08:05:00Z", posts=[])  # today's latest fetch: the posts were removed
    assert await tick(notifier) == []
    assert await notifier.pool.fetchval("SELECT count(*) FROM notifications WHERE purpose LIKE 'reminder%'") == 0


async def test_before_attendance_reports_everything_is_pending_and_unregistered_accounts_are_named(
        notifier: Service) -> None:
    await client(notifier)
    await person(notifier, tiktok=None)
    await fetched(notifier)
    (request,) = await tick(notifier)
    text = request.payload["text"]
    assert f"Instagram: 1 konten belum di-like\n1. {IG_LINK}" in text
    assert "TikTok: akun belum terdaftar." in text and TT_LINK not in text
    # attendance's no_username row says the same
    await status(notifier, "tiktok", "no_username", [TT_POST])
    await status(notifier, "instagram", "complete", [])
    await sent(notifier, key("initial"))
    (followup,) = await tick(notifier, T1735)
    assert "TikTok: akun belum terdaftar." in followup.payload["text"]
    assert "Instagram: sudah selesai ✅" in followup.payload["text"]


async def test_only_the_home_scope_and_the_newest_status_count(notifier: Service) -> None:
    await day_with_tasks(notifier)
    # the directorate's view of the same person (ratio 0.5) says complete: not the home client's rule
    await status(notifier, "instagram", "complete", [], scope="DITBINMAS", at="2026-03-10T09:00:00Z")
    # an older event delivered late does not overwrite the newer one
    await status(notifier, "tiktok", "none", [TT_POST], at="2026-03-10T07:30:00Z")
    scopes = {r["scope_client_id"] for r in await notifier.pool.fetch("SELECT * FROM reminder_attendance")}
    assert scopes == {"POLRES_DEMO"}
    (request,) = await tick(notifier)
    assert IG_LINK in request.payload["text"] and "TikTok: sudah selesai ✅" in request.payload["text"]


async def test_a_later_fetch_replaces_the_task_posts_and_an_older_one_does_not(notifier: Service) -> None:
    await client(notifier)
    await person(notifier)
    example_posts = load_example("ClientFetchCompleted", 1)["posts"]
    await fetched(notifier, at="2026-03-10T08:05:00Z", posts=example_posts[:1])  # only the Instagram post
    await fetched(notifier, at="2026-03-10T07:05:00Z", posts=example_posts)  # older, delivered late
    (request,) = await tick(notifier)
    assert IG_LINK in request.payload["text"] and "TikTok" not in request.payload["text"]


async def test_other_ticks_send_no_reminders(notifier: Service) -> None:
    await day_with_tasks(notifier)
    for phase in ("post_fetch", "engagement_only", "engagement_recap", "daily_report"):
        assert await tick(notifier, phase=phase) == [], phase


async def opt_in(service: Service, user_id: str, value: bool) -> bool:
    envelope = Envelope.model_validate(json.loads(envelope_bytes("WhatsAppMessageReceived")))
    async with service.pool.acquire() as conn, conn.transaction():
        return await apply_opt_in(HandlerContext(conn, service.store, envelope), user_id, value,
                                  datetime(2026, 3, 10, 8, 12, tzinfo=UTC))


async def test_apply_opt_in_appends_reminder_opt_in_changed_once(notifier: Service) -> None:
    await day_with_tasks(notifier)
    assert await opt_in(notifier, BUDI, False) is True
    assert await opt_in(notifier, BUDI, False) is False  # a repeat changes nothing and appends nothing
    (change,) = await appended(notifier, "ReminderOptInChanged")
    assert change.payload == {"user_id": BUDI, "opt_in": False, "changed_at": "2026-03-10T08:12:00Z"}
    assert change.stream_id == f"reminder-opt-in:{BUDI}"
    assert await notifier.pool.fetchval("SELECT wa_reminder_opt_in FROM personnel WHERE user_id = $1", BUDI) is False
    assert await tick(notifier) == []  # opted out: nothing
    assert await opt_in(notifier, BUDI, True) is True
    assert [e.payload["opt_in"] for e in await appended(notifier, "ReminderOptInChanged")] == [False, True]
    assert [r.payload["idempotency_key"] for r in await tick(notifier, T1735)] == [key("initial")]
    with pytest.raises(LookupError, match="99999999"):
        await opt_in(notifier, "99999999", True)


async def test_a_later_personnel_update_from_the_directory_carries_the_opt_in(notifier: Service) -> None:
    await day_with_tasks(notifier)
    await person(notifier, event_type="PersonnelUpdated", wa_reminder_opt_in=False)
    assert await tick(notifier) == []
    await person(notifier, event_type="PersonnelUpdated", wa_reminder_opt_in=True, title="KOMPOL")
    (request,) = await tick(notifier, T1735)
    assert request.payload["text"].startswith("Selamat Sore Bapak/Ibu KOMPOL Budi Santoso,")
