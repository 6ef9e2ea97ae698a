"""Recaps for the notifier (DOMAIN §4, §5 "Recaps and reports"): ``AttendanceRecapPublished`` events.

Attendance renders the text, the notifier decides who receives it. Three occasions:

- an ``engagement_recap`` tick: one ``client`` recap per active ORG client and one ``directorate`` recap per
  active DIREKTORAT client, for the tick's WIB day as of its ``scheduled_for``;
- a ``daily_report`` tick: one ``directorate`` recap per active DIREKTORAT client with ``daily_report`` set
  (the end-of-day report to its super admins);
- a ``RecapRequested`` from an operator: that client's recap (ORG → client, DIREKTORAT → directorate) for
  the day asked, answered to ``reply_to``; an unknown client gets a short text saying so, so the operator
  still hears back.

A client recap is ONE event covering both platforms (Instagram likes and TikTok comments), as the existing
client report renders them together. A day without task posts publishes the recap's header and one
sentence (``has_posts`` false) instead of per-platform sections.

Each recap goes to the stream ``recap:{client_id}:{wib_date}``. The inbox covers a redelivery of the same
event, and the scheduler (each tick id claimed once) and the notifier (each message answered once) emit no
second event for the same tick or request; still, before appending, the streams are asked whether they
already hold a recap of this tick (or request), so even that would publish once. Rendering reads the
projection under the journal lock, so one recap's post counts and statuses are one consistent state.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import asyncpg
from cicero_contracts.events.attendance import AttendanceRecapPublished, RecapKind, RecapTrigger
from cicero_contracts.events.directory import ClientType
from cicero_contracts.events.notifier import RecapRequested
from cicero_contracts.events.scheduler import TickFired, TickPhase
from cicero_runtime.clock import wib_date
from cicero_runtime.consumer import HandlerContext
from cicero_runtime.event_store import StreamAppend
from cicero_runtime.indonesian import date_id

from cicero_attendance import journal
from cicero_attendance.read_model import load_client, load_client_report, load_directorate_report
from cicero_attendance.report_text import (
    CLIENT_TITLE,
    DAILY_REPORT_TITLE,
    DIRECTORATE_TITLE,
    GREETING,
    header,
    render_client,
    render_directorate,
)
from cicero_attendance.reports import ClientInfo, ClientReport, DirectorateReport, UnknownClient

log = logging.getLogger(__name__)

RECAP_PHASES = frozenset({TickPhase.ENGAGEMENT_RECAP, TickPhase.DAILY_REPORT})


# -- pure decisions ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryClient:
    """What deciding a tick's recaps needs from the directory."""

    client_id: str
    name: str
    client_type: ClientType
    active: bool

    @property
    def info(self) -> ClientInfo:
        return ClientInfo(self.client_id, self.name, self.client_type)


@dataclass(frozen=True)
class PlannedRecap:
    client: ClientInfo
    kind: RecapKind
    daily_report: bool = False


def kind_for(client_type: ClientType) -> RecapKind:
    """An ORG client's recap lists its people per division; a directorate's counts its scope per client."""
    return RecapKind.DIRECTORATE if client_type is ClientType.DIREKTORAT else RecapKind.CLIENT


def planned_recaps(phase: TickPhase, clients: Iterable[DirectoryClient]) -> list[PlannedRecap]:
    """The recaps a tick of ``phase`` asks for, by client id; none for phases that are not about recaps."""
    active = sorted((c for c in clients if c.active), key=lambda c: c.client_id)
    if phase is TickPhase.ENGAGEMENT_RECAP:
        return [PlannedRecap(c.info, kind_for(c.client_type)) for c in active]
    if phase is TickPhase.DAILY_REPORT:
        return [PlannedRecap(c.info, RecapKind.DIRECTORATE, daily_report=True) for c in active
                if c.client_type is ClientType.DIREKTORAT]
    return []


def recap_stream(client_id: str, day: date) -> str:
    return f"recap:{client_id}:{day.isoformat()}"


def no_posts_sentence(day: date) -> str:
    return f"Tidak ada konten Instagram maupun TikTok yang perlu di-like atau dikomentari pada {date_id(day)}."


def recap_text(report: ClientReport | DirectorateReport, daily_report: bool = False) -> tuple[bool, str]:
    """Whether the day had task posts, and the recap's WhatsApp text (the daily report titled as such).

    Without task posts the text is the recap's own header (greeting, title, client, day, time) and one
    sentence, instead of a section per platform.
    """
    if isinstance(report, ClientReport):
        title = CLIENT_TITLE
    else:
        title = DAILY_REPORT_TITLE if daily_report else DIRECTORATE_TITLE
    if not any(platform.post_count for platform in report.platforms):
        return False, "\n".join([*header(title, report), "", no_posts_sentence(report.wib_date)])
    return True, render_client(report) if isinstance(report, ClientReport) else render_directorate(report, title)


def unknown_client_text(client_id: str, day: date) -> str:
    return (f"{GREETING}\n\nKlien *{client_id}* tidak terdaftar di Cicero, sehingga rekap absensi "
            f"{date_id(day)} tidak dapat dibuat. Mohon periksa kembali kode kliennya.")


# -- reading and publishing -------------------------------------------------------------------------------


async def _directory_clients(conn: asyncpg.Connection) -> list[DirectoryClient]:
    rows = await conn.fetch("SELECT client_id, name, client_type, active FROM clients ORDER BY client_id")
    return [DirectoryClient(r["client_id"], r["name"], ClientType(r["client_type"]), r["active"]) for r in rows]


async def _holding(conn: asyncpg.Connection, streams: Sequence[str], origin: Literal["tick_id", "request_id"],
                   origin_id: str) -> set[str]:
    """Which of ``streams`` (this service's own store) already hold a recap of this tick or request.

    A tick asks one recap of each client, so the tick id alone tells whether a client's recap is out.
    """
    rows = await conn.fetch(
        """SELECT DISTINCT stream_id FROM events
           WHERE stream_id = ANY($1::text[]) AND event_type = $2 AND payload->>($3::text) = $4""",
        list(streams), AttendanceRecapPublished.event_type, origin, origin_id)
    return {r["stream_id"] for r in rows}


async def _render(conn: asyncpg.Connection, client: ClientInfo, kind: RecapKind, day: date,
                  as_of: datetime, daily_report: bool = False) -> tuple[bool, str]:
    if kind is RecapKind.DIRECTORATE:
        return recap_text(await load_directorate_report(conn, client, day, as_of), daily_report)
    return recap_text(await load_client_report(conn, client, day, as_of))


async def publish_tick_recaps(tick: TickFired, ctx: HandlerContext) -> None:
    """The recaps of a recap or daily-report tick, in the handler's transaction; other ticks are ignored."""
    if tick.phase not in RECAP_PHASES:
        return
    day = wib_date(tick.scheduled_for)
    await journal.lock(ctx.conn)
    plan = planned_recaps(tick.phase, await _directory_clients(ctx.conn))
    published = await _holding(ctx.conn, [recap_stream(r.client.client_id, day) for r in plan], "tick_id",
                               tick.tick_id)
    metadata = ctx.metadata()
    appends: list[StreamAppend] = []
    for recap in plan:
        stream = recap_stream(recap.client.client_id, day)
        if stream in published:
            continue
        has_posts, text = await _render(ctx.conn, recap.client, recap.kind, day, tick.scheduled_for,
                                        recap.daily_report)
        event = AttendanceRecapPublished(
            client_id=recap.client.client_id, kind=recap.kind, wib_date=day, as_of=tick.scheduled_for,
            trigger=RecapTrigger.SCHEDULE, tick_id=tick.tick_id, daily_report=recap.daily_report,
            has_posts=has_posts, text=text)
        appends.append(StreamAppend(stream, [event], metadata, tick.scheduled_for))
    await ctx.store.append_streams(ctx.conn, appends)
    log.info("recaps published", extra={"tick_id": tick.tick_id, "phase": tick.phase.value,
                                        "recaps": len(appends), "already_published": len(plan) - len(appends)})


async def answer_recap_request(request: RecapRequested, ctx: HandlerContext) -> None:
    """One recap for the operator who asked; a request already answered is not answered twice."""
    stream = recap_stream(request.client_id, request.wib_date)
    await journal.lock(ctx.conn)
    if await _holding(ctx.conn, [stream], "request_id", request.request_id):
        return
    try:
        client = await load_client(ctx.conn, request.client_id)
    except UnknownClient:
        log.info("recap requested for an unknown client", extra={"request_id": request.request_id,
                                                                   "client_id": request.client_id})
        kind, has_posts = RecapKind.CLIENT, False
        text = unknown_client_text(request.client_id, request.wib_date)
    else:
        kind = kind_for(client.client_type)
        has_posts, text = await _render(ctx.conn, client, kind, request.wib_date, request.requested_at)
    event = AttendanceRecapPublished(
        client_id=request.client_id, kind=kind, wib_date=request.wib_date, as_of=request.requested_at,
        trigger=RecapTrigger.REQUEST, request_id=request.request_id, reply_to=request.reply_to,
        has_posts=has_posts, text=text)
    await ctx.store.append(ctx.conn, stream, [event], metadata=ctx.metadata(), occurred_at=request.requested_at)
