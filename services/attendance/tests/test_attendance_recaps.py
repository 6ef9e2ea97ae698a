"""Recaps published for the notifier (DOMAIN §4, §5 "Recaps"): recap and daily-report ticks, operators'
requests, days without posts, and a tick handled twice publishing once. Real database, the consumer as
production wires it (``attendance-commands``)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from cicero_attendance.journal import JournalEntry
from cicero_attendance.projector import Projector
from cicero_attendance.read_model import load_report
from cicero_attendance.recap_publishing import (
    DirectoryClient,
    PlannedRecap,
    kind_for,
    no_posts_sentence,
    planned_recaps,
    recap_stream,
    unknown_client_text,
)
from cicero_attendance.report_text import GREETING, render_report
from cicero_attendance.reports import ReportKind
from cicero_contracts import Event
from cicero_contracts.events.attendance import RecapKind
from cicero_contracts.events.common import Platform
from cicero_contracts.events.directory import ClientRegistered, ClientType, PersonnelRegistered
from cicero_contracts.events.ingest import EngagementRefreshed, PostFetched
from cicero_contracts.events.notifier import RecapRequested
from cicero_contracts.events.scheduler import TickFired, TickPhase
from cicero_runtime.consumer import EventConsumer, Outcome
from cicero_runtime.service import Service
from cicero_runtime.testing.contracts import appended_events, envelope_bytes, event_envelope_bytes

DAY = date(2026, 3, 10)
MORNING = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # 08:00 WIB
RECAP_AT = datetime(2026, 3, 10, 8, 5, tzinfo=UTC)  # 15:05 WIB
DAILY_AT = datetime(2026, 3, 10, 15, 5, tzinfo=UTC)  # 22:05 WIB
OPERATOR = "6281234567890@c.us"


# -- pure decisions ---------------------------------------------------------------------------------------

ORG_A = DirectoryClient("POLRES_A", "Polres A", ClientType.ORG, True)
ORG_OFF = DirectoryClient("POLRES_OFF", "Polres Off", ClientType.ORG, False)
DIT = DirectoryClient("DITBINMAS", "Ditbinmas", ClientType.DIREKTORAT, True)
DIT_OFF = DirectoryClient("DITLANTAS", "Ditlantas", ClientType.DIREKTORAT, False)


@pytest.mark.parametrize(("phase", "expected"), [
    (TickPhase.ENGAGEMENT_RECAP, [PlannedRecap(DIT.info, RecapKind.DIRECTORATE),
                                  PlannedRecap(ORG_A.info, RecapKind.CLIENT)]),
    (TickPhase.DAILY_REPORT, [PlannedRecap(DIT.info, RecapKind.DIRECTORATE, daily_report=True)]),
    (TickPhase.POST_FETCH, []),
    (TickPhase.ENGAGEMENT_ONLY, []),
    (TickPhase.REMINDER, []),
])
def test_a_tick_plans_one_recap_per_active_client_of_the_phase(phase: TickPhase,
                                                               expected: list[PlannedRecap]) -> None:
    assert planned_recaps(phase, [ORG_A, ORG_OFF, DIT, DIT_OFF]) == expected


def test_the_recap_kind_follows_the_client_type() -> None:
    assert kind_for(ClientType.ORG) is RecapKind.CLIENT
    assert kind_for(ClientType.DIREKTORAT) is RecapKind.DIRECTORATE


def test_texts_without_a_recap() -> None:
    assert recap_stream("POLRES_A", DAY) == "recap:POLRES_A:2026-03-10"
    assert no_posts_sentence(DAY) == ("Tidak ada konten Instagram maupun TikTok yang perlu di-like atau "
                                      "dikomentari pada Selasa, 10 Maret 2026.")
    text = unknown_client_text("POLRES_ZZ", DAY)
    assert text.startswith(GREETING) and "*POLRES_ZZ* tidak terdaftar" in text and "10 Maret 2026" in text


# -- against the database ---------------------------------------------------------------------------------


def _post(post_id: str, client_id: str, platform: Platform = Platform.INSTAGRAM) -> PostFetched:
    return PostFetched(platform=platform, post_id=post_id, client_id=client_id, account_username="acc",
                       link=f"https://example.invalid/{post_id}", created_at=MORNING, like_count=0, comment_count=0)


def _engaged(post_id: str, client_id: str, *usernames: str, platform: Platform = Platform.INSTAGRAM
             ) -> EngagementRefreshed:
    return EngagementRefreshed(platform=platform, post_id=post_id, client_id=client_id,
                               kind="likes" if platform is Platform.INSTAGRAM else "comments",
                               added_usernames=list(usernames), engaged_total=len(usernames), like_count=0,
                               comment_count=0, refreshed_at=MORNING + timedelta(hours=1))


def _person(user_id: str, name: str, client_id: str, **fields: Any) -> PersonnelRegistered:
    return PersonnelRegistered(user_id=user_id, name=name, client_id=client_id, title="BRIPDA", divisi="SAT BINMAS",
                               instagram=f"ig{user_id}", tiktok=f"tt{user_id}", **fields)


DIRECTORY: list[Event] = [
    ClientRegistered(client_id="POLRES_A", name="Polres Alfa", client_type=ClientType.ORG),
    ClientRegistered(client_id="POLRES_B", name="Polres Beta", client_type=ClientType.ORG),
    ClientRegistered(client_id="POLRES_OFF", name="Polres Off", client_type=ClientType.ORG, active=False),
    ClientRegistered(client_id="DITBINMAS", name="Direktorat Binmas", client_type=ClientType.DIREKTORAT),
    _person("1", "Budi Santoso", "POLRES_A", roles=["ditbinmas"]),
    _person("2", "Cici Lestari", "POLRES_A"),
    _person("3", "Dedi Kurnia", "POLRES_B", roles=["ditbinmas"]),
]
DAY_OF_WORK: list[Event] = [
    _post("p1", "POLRES_A"), _post("v1", "POLRES_A", Platform.TIKTOK), _post("d1", "DITBINMAS"),
    _engaged("p1", "POLRES_A", "ig1"), _engaged("v1", "POLRES_A", "tt1", "tt2", platform=Platform.TIKTOK),
    _engaged("d1", "DITBINMAS", "ig3"),
]


async def seed(service: Service, *events: Event) -> None:
    entries = [JournalEntry(uuid.uuid4(), MORNING, e) for e in events]
    async with service.pool.acquire() as conn, conn.transaction():
        await Projector().apply_live(conn, service.store, entries)


def tick(phase: TickPhase, at: datetime, schedule: str = "engagement-recap") -> TickFired:
    return TickFired(tick_id=f"{schedule}:{at.isoformat()}", schedule=schedule, phase=phase, scheduled_for=at,
                     fired_at=at + timedelta(seconds=1))


def commands(service: Service) -> EventConsumer:
    return service.make_consumer("attendance-commands")


async def recaps(service: Service) -> list[dict[str, Any]]:
    """Every recap in the store (everything checked against the committed schemas), with its stream."""
    return [e.payload | {"stream": e.stream_id} for e in await appended_events(service)
            if e.event_type == "AttendanceRecapPublished"]


async def rendered(service: Service, kind: ReportKind, client_id: str, at: datetime) -> str:
    """The recap text as the report command renders it, for the same client, day and time."""
    async with service.pool.acquire() as conn:
        return render_report(await load_report(conn, kind, client_id, DAY, at))


async def test_a_recap_tick_publishes_each_active_clients_recap(attendance: Service) -> None:
    await seed(attendance, *DIRECTORY, *DAY_OF_WORK)
    assert await commands(attendance).process(event_envelope_bytes(
        tick(TickPhase.ENGAGEMENT_RECAP, RECAP_AT))) == Outcome.HANDLED
    published = {(r["client_id"], r["kind"]): r for r in await recaps(attendance)}
    assert sorted(published) == [("DITBINMAS", "directorate"), ("POLRES_A", "client"), ("POLRES_B", "client")]
    for recap in published.values():
        assert (recap["trigger"], recap["tick_id"], recap["wib_date"], recap["as_of"], recap["daily_report"]) == (
            "schedule", f"engagement-recap:{RECAP_AT.isoformat()}", "2026-03-10", "2026-03-10T08:05:00Z", False)
        assert recap["request_id"] is None and recap["reply_to"] is None
        assert recap["stream"] == f"recap:{recap['client_id']}:2026-03-10"

    org = published[("POLRES_A", "client")]
    assert org["has_posts"] is True
    assert org["text"] == await rendered(attendance, ReportKind.CLIENT, "POLRES_A", RECAP_AT)
    lines = org["text"].split("\n")
    assert lines[:6] == [GREETING, "", "*Rekap Absensi Likes Instagram & Komentar TikTok*", "*Polres Alfa*",
                         "Selasa, 10 Maret 2026", "Pukul 15:05 WIB"]
    assert "✅ BRIPDA Budi Santoso 1/1" in lines and "❌ BRIPDA Cici Lestari 0/1" in lines  # Instagram likes
    assert "✅ BRIPDA Cici Lestari 1/1" in lines  # TikTok comments: both platforms in one recap

    directorate = published[("DITBINMAS", "directorate")]
    assert directorate["has_posts"] is True
    assert directorate["text"] == await rendered(attendance, ReportKind.DIRECTORATE, "DITBINMAS", RECAP_AT)
    assert "*Rekap Absensi Direktorat per Satker*" in directorate["text"]
    assert "1. *Polres Beta* — capaian 100,0%" in directorate["text"]

    quiet = published[("POLRES_B", "client")]
    assert quiet["has_posts"] is False
    assert quiet["text"].split("\n") == [*lines[:3], "*Polres Beta*", *lines[4:6], "", no_posts_sentence(DAY)]


async def test_a_day_without_posts_publishes_the_one_sentence_recaps(attendance: Service) -> None:
    await seed(attendance, *DIRECTORY)
    await commands(attendance).process(event_envelope_bytes(tick(TickPhase.ENGAGEMENT_RECAP, RECAP_AT)))
    published = await recaps(attendance)
    assert len(published) == 3 and not any(r["has_posts"] for r in published)
    for recap in published:
        assert recap["text"].startswith(GREETING) and recap["text"].endswith("\n\n" + no_posts_sentence(DAY))
        assert "Belum ada personel" not in recap["text"] and "personel:" not in recap["text"]


async def test_the_daily_report_goes_to_directorates_only(attendance: Service) -> None:
    await seed(attendance, *DIRECTORY, *DAY_OF_WORK)
    await commands(attendance).process(event_envelope_bytes(tick(TickPhase.DAILY_REPORT, DAILY_AT, "daily-report")))
    (report,) = await recaps(attendance)
    assert (report["client_id"], report["kind"], report["daily_report"], report["has_posts"]) == (
        "DITBINMAS", "directorate", True, True)
    assert report["tick_id"] == f"daily-report:{DAILY_AT.isoformat()}"
    recap_text = await rendered(attendance, ReportKind.DIRECTORATE, "DITBINMAS", DAILY_AT)
    # the recap's figures under the daily report's own title, so super admins tell the two apart
    assert report["text"] == recap_text.replace("Rekap Absensi Direktorat per Satker",
                                                "Laporan Harian Direktorat per Satker")
    assert "Laporan Harian Direktorat" in report["text"] and "Pukul 22:05 WIB" in report["text"]


async def test_other_ticks_publish_nothing(attendance: Service) -> None:
    await seed(attendance, *DIRECTORY, *DAY_OF_WORK)
    for phase in (TickPhase.POST_FETCH, TickPhase.ENGAGEMENT_ONLY, TickPhase.REMINDER):
        assert await commands(attendance).process(event_envelope_bytes(tick(phase, RECAP_AT, phase.value))) \
            == Outcome.HANDLED
    assert await recaps(attendance) == []


async def test_a_tick_handled_twice_publishes_once(attendance: Service) -> None:
    await seed(attendance, *DIRECTORY, *DAY_OF_WORK)
    event_id = uuid.uuid4()
    recap_tick = tick(TickPhase.ENGAGEMENT_RECAP, RECAP_AT)
    consumer = commands(attendance)
    assert await consumer.process(event_envelope_bytes(recap_tick, event_id=event_id)) == Outcome.HANDLED
    first = await recaps(attendance)
    assert len(first) == 3
    await seed(attendance, _engaged("p1", "POLRES_A", "ig2"))  # the tables move on meanwhile
    assert await consumer.process(event_envelope_bytes(recap_tick, event_id=event_id)) == Outcome.DUPLICATE
    # the same tick under another event id (the scheduler never emits one; a replay could): still once
    assert await consumer.process(event_envelope_bytes(recap_tick)) == Outcome.HANDLED
    assert await recaps(attendance) == first
    # a later recap tick of the same day is another recap, in the same streams
    later = RECAP_AT + timedelta(hours=3)
    await consumer.process(event_envelope_bytes(tick(TickPhase.ENGAGEMENT_RECAP, later)))
    after = await recaps(attendance)
    assert len(after) == 6 and {r["stream"] for r in after} == {r["stream"] for r in first}
    newest = next(r for r in after[3:] if r["client_id"] == "POLRES_A")
    instagram = newest["text"].split("*TikTok")[0]
    assert "✅ BRIPDA Cici Lestari 1/1" in instagram.split("\n")  # she liked p1 since


async def test_a_recap_request_is_answered_to_the_operator(attendance: Service) -> None:
    await seed(attendance, *DIRECTORY, *DAY_OF_WORK)
    asked_at = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)  # 16:30 WIB
    consumer = commands(attendance)
    for request_id, client_id in (("r-1", "POLRES_A"), ("r-2", "DITBINMAS"), ("r-3", "POLRES_ZZ")):
        request = RecapRequested(request_id=request_id, client_id=client_id, wib_date=DAY, reply_to=OPERATOR,
                                 requested_at=asked_at)
        assert await consumer.process(event_envelope_bytes(request)) == Outcome.HANDLED
    answers = {r["request_id"]: r for r in await recaps(attendance)}
    assert sorted(answers) == ["r-1", "r-2", "r-3"]
    for answer in answers.values():
        assert (answer["trigger"], answer["reply_to"], answer["tick_id"], answer["as_of"], answer["daily_report"]) \
            == ("request", OPERATOR, None, "2026-03-10T09:30:00Z", False)
    assert (answers["r-1"]["kind"], answers["r-1"]["has_posts"]) == ("client", True)
    assert answers["r-1"]["text"] == await rendered(attendance, ReportKind.CLIENT, "POLRES_A", asked_at)
    assert (answers["r-2"]["kind"], answers["r-2"]["has_posts"]) == ("directorate", True)
    assert answers["r-2"]["text"] == await rendered(attendance, ReportKind.DIRECTORATE, "DITBINMAS", asked_at)
    assert (answers["r-3"]["client_id"], answers["r-3"]["has_posts"]) == ("POLRES_ZZ", False)
    assert answers["r-3"]["text"] == unknown_client_text("POLRES_ZZ", DAY)
    # the same request again (a redelivery under another id) is not answered twice
    again = RecapRequested(request_id="r-1", client_id="POLRES_A", wib_date=DAY, reply_to=OPERATOR,
                           requested_at=asked_at)
    assert await consumer.process(event_envelope_bytes(again)) == Outcome.HANDLED
    assert len(await recaps(attendance)) == 3


async def test_the_committed_examples_are_consumed(attendance: Service) -> None:
    """The contract examples of what the queue binds parse and are handled."""
    await seed(attendance, *DIRECTORY)
    consumer = commands(attendance)
    for event_type in ("TickFired", "RecapRequested", "ReminderOptInChanged"):
        assert await consumer.process(envelope_bytes(event_type)) == Outcome.HANDLED
