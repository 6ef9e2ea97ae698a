"""Personal reminders at reminder ticks (docs/domain.md §5 "Reminders"): read the opted-in people page by page,
let the pure decision pick each person's stage, combine the people of one unit sharing a number into one
message, request the messages through the ledger page by page, and record each person's stage only when the
gateway accepted the message.

Memory stays flat whatever the size of the run: people come from a server-side cursor in pages of
``PAGE_SIZE`` (a page never splits the people of one number), and each page's facts, texts and requests are
dropped once its rows and events are written. The run is still one transaction (the tick's inbox
transaction), so a crash mid-run leaves nothing half-requested.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import asyncpg
from cicero_contracts.events.attendance import AttendanceStatus
from cicero_contracts.events.common import Platform
from cicero_contracts.events.scheduler import TickFired, TickPhase
from cicero_contracts.events.whatsapp import WhatsAppMessageRequested, WhatsAppSession
from cicero_runtime.clock import wib_date
from cicero_runtime.consumer import HandlerContext

from cicero_notifier.attendance_copy import register_attendance_copy
from cicero_notifier.dispatch import Dispatch
from cicero_notifier.ledger import Ledger, Notification, bounded_key, request_messages
from cicero_notifier.reminder_decision import (
    STAGE_RANK,
    AttendanceRow,
    ChatMessage,
    Due,
    History,
    Person,
    Stage,
    TaskPost,
    idempotency_key,
    ineligibility,
    next_stage,
    person_progress,
    purpose_of,
    shared_chats,
)
from cicero_notifier.reminder_text import render_reminder, render_shared, render_thanks

log = logging.getLogger(__name__)

RETENTION_DAYS = 14
"""Days of projected attendance and task posts kept behind the tick's day; reminders only read their day."""
PAGE_SIZE = 500
"""People decided and requested together: what one page of a run holds in memory."""

_PEOPLE = """
    SELECT p.user_id, p.name, p.title, p.client_id, p.whatsapp, p.instagram, p.tiktok, p.active, p.exempt,
           p.wa_reminder_opt_in, c.client_id IS NOT NULL AS client_known, coalesce(c.active, false) AS client_active,
           coalesce(c.reminders_enabled, false) AS client_reminders_enabled, c.name AS client_name,
           s.stage AS accepted_stage, coalesce(h.in_flight, false) AS in_flight, coalesce(h.dead, '{}') AS dead
    FROM personnel p
    LEFT JOIN clients c ON c.client_id = p.client_id
    LEFT JOIN reminder_state s ON s.wib_date = $1 AND s.user_id = p.user_id
    LEFT JOIN LATERAL (
        SELECT bool_or(n.accepted_at IS NULL AND n.failed_at IS NULL) AS in_flight,
               array_agg(n.stage) FILTER (WHERE n.accepted_at IS NULL AND n.failed_at IS NOT NULL) AS dead
        FROM notifications n
        WHERE n.wib_date = $1 AND n.user_id = p.user_id AND n.purpose IN ('reminder', 'reminder_thanks')) h ON true
    WHERE p.active AND p.wa_reminder_opt_in
    ORDER BY p.client_id, p.whatsapp, p.user_id"""
"""Active opted-in personnel with their home client's switches (the pure rules decide the rest) and today's
reminder history: the accepted stage from reminder_state, in-flight and dead-lettered requests from the ledger.
Ordered so that the people of one unit sharing a number are next to each other (numbers are stored
normalised). The history is read here, in the cursor's one snapshot taken before the run writes anything: read
per page, it would scan the ledger rows the run itself keeps adding (quadratic without fresh statistics)."""

Entry = tuple[Person, str, History]
"""A person, their unit's name and their history today."""


@dataclass
class RunReport:
    """What one reminder run did, for its log line."""

    people: int = 0
    requested: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


async def on_reminder_tick(event: TickFired, ctx: HandlerContext) -> None:
    if event.phase != TickPhase.REMINDER:
        return
    report = await run_reminders(ctx, event.scheduled_for)
    log.info("reminders decided", extra={"tick_id": event.tick_id, "people": report.people,
                                         "wib_date": wib_date(event.scheduled_for).isoformat(),
                                         "requested": report.requested, "outcomes": dict(report.outcomes)})


async def run_reminders(ctx: HandlerContext, at: datetime) -> RunReport:
    """One reminder run as of ``at`` (the tick's event time, which also dates and greets the texts), inside the
    caller's transaction; whatever decides *when* a run happens calls this."""
    day = wib_date(at)
    report = RunReport()
    async for page in _people_pages(ctx.conn, day):
        report.people += len(page)
        messages = await _decide_page(ctx.conn, day, page, report.outcomes)
        notifications = [n for message, client_name in messages
                         for n in _notifications(message, client_name, day, at)]
        report.requested += len(await request_messages(ctx, f"reminders:{day.isoformat()}", notifications))
    await _prune(ctx.conn, day)
    return report


async def _people_pages(conn: asyncpg.Connection, day: date) -> AsyncIterator[list[Entry]]:
    """Pages of about ``PAGE_SIZE`` people from a server-side cursor (the caller's transaction); a page ends only
    where the unit or the number changes, so one number's people are decided together."""
    page: list[Entry] = []
    async for r in conn.cursor(_PEOPLE, day, prefetch=PAGE_SIZE):
        person = Person(
            user_id=r["user_id"], name=r["name"], title=r["title"], client_id=r["client_id"],
            whatsapp=r["whatsapp"], instagram=r["instagram"], tiktok=r["tiktok"], active=r["active"],
            exempt=r["exempt"], opt_in=r["wa_reminder_opt_in"], client_known=r["client_known"],
            client_active=r["client_active"], client_reminders_enabled=r["client_reminders_enabled"])
        history = History(Stage(r["accepted_stage"]) if r["accepted_stage"] else None, r["in_flight"],
                          frozenset(Stage(stage) for stage in r["dead"]))
        if len(page) >= PAGE_SIZE and _number(page[-1][0]) != _number(person):
            yield page
            page = []
        page.append((person, r["client_name"] or r["client_id"], history))
    if page:
        yield page


def _number(person: Person) -> tuple[str, str | None]:
    return person.client_id, person.whatsapp


async def _decide_page(conn: asyncpg.Connection, day: date, page: list[Entry],
                       outcomes: Counter[str]) -> list[tuple[ChatMessage, str]]:
    """The page's messages, each with its unit's name; counts every person's outcome in ``outcomes``."""
    eligible: list[tuple[Person, History]] = []
    client_names: dict[str, str] = {}
    for person, client_name, history in page:
        reason = ineligibility(person)
        if reason is None:
            eligible.append((person, history))
            client_names[person.client_id] = client_name
        else:
            outcomes[reason] += 1
    posts = await _task_posts(conn, day, sorted(client_names))
    rows = await _attendance(conn, day, [p.user_id for p, _ in eligible])
    dues: list[Due] = []
    for person, history in eligible:
        progress = person_progress(posts.get(person.client_id, []), rows.get(person.user_id, {}), person)
        stage = next_stage(progress, history)
        outcomes[stage.value if stage else "nothing_to_send"] += 1
        if stage is not None:
            dues.append(Due(person, stage, tuple(progress)))
    messages = shared_chats(dues)
    outcomes["shared_number_messages"] += sum(1 for m in messages if len(m.dues) > 1)
    return [(message, client_names[message.client_id]) for message in messages]


def _notifications(message: ChatMessage, client_name: str, day: date, at: datetime) -> list[Notification]:
    """One request for the chat and one ledger row per person in it, under the person's own key, so each
    person's stage advances when (and only when) the gateway accepts this message."""
    if len(message.dues) == 1:
        (due,) = message.dues
        text = (render_thanks(title=due.person.title, name=due.person.name, client_name=client_name, at=at,
                              progress=due.progress) if due.stage == Stage.COMPLETED else
                render_reminder(due.stage, title=due.person.title, name=due.person.name, client_name=client_name,
                                at=at, progress=due.progress))
    else:
        text = render_shared(message, client_name=client_name, at=at)
    request = WhatsAppMessageRequested(
        idempotency_key=bounded_key(message.key(day.isoformat())), session=WhatsAppSession.OPERATOR,
        chat_id=message.chat_id, text=text, purpose=message.purpose, client_id=message.client_id, requested_at=at)
    return [Notification(request=request, user_id=due.person.user_id, wib_date=day, stage=due.stage.value,
                         key=idempotency_key(due.person.user_id, day.isoformat(), due.stage))
            for due in message.dues]


async def _task_posts(conn: asyncpg.Connection, day: date, client_ids: list[str]) -> dict[str, list[TaskPost]]:
    records = await conn.fetch(
        "SELECT client_id, posts FROM reminder_task_posts WHERE wib_date = $1 AND client_id = ANY($2::text[])",
        day, client_ids)
    return {r["client_id"]: [TaskPost(Platform(p["platform"]), p["post_id"], p["link"], p.get("caption") or "")
                             for p in r["posts"]] for r in records}


async def _attendance(conn: asyncpg.Connection, day: date, user_ids: list[str]
                      ) -> dict[str, dict[Platform, AttendanceRow]]:
    """Rows of each person's home scope only (the join drops directorate scopes and stale home clients)."""
    records = await conn.fetch(
        """SELECT a.user_id, a.platform, a.status, a.done, a.total, a.pending_post_ids
           FROM reminder_attendance a JOIN personnel p ON p.user_id = a.user_id AND p.client_id = a.scope_client_id
           WHERE a.wib_date = $1 AND a.user_id = ANY($2::text[])""", day, user_ids)
    result: dict[str, dict[Platform, AttendanceRow]] = defaultdict(dict)
    for r in records:
        result[r["user_id"]][Platform(r["platform"])] = AttendanceRow(
            AttendanceStatus(r["status"]), r["done"], r["total"], tuple(r["pending_post_ids"]))
    return result


async def _prune(conn: asyncpg.Connection, day: date) -> None:
    horizon = day - timedelta(days=RETENTION_DAYS)
    await conn.execute("DELETE FROM reminder_attendance WHERE wib_date < $1", horizon)
    await conn.execute("DELETE FROM reminder_task_posts WHERE wib_date < $1", horizon)


async def on_reminder_accepted(conn: asyncpg.Connection, row: asyncpg.Record) -> None:
    """The gateway accepted a reminder or thank-you: that stage is now the person's stage for the day."""
    if row["user_id"] is None or row["wib_date"] is None or row["stage"] is None:
        log.warning("accepted reminder without person, day or stage", extra={"purpose": row["purpose"]})
        return
    stage = Stage(row["stage"])
    await conn.execute(
        """INSERT INTO reminder_state (wib_date, user_id, stage, stage_rank, sent_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (wib_date, user_id) DO UPDATE
             SET stage = excluded.stage, stage_rank = excluded.stage_rank, sent_at = excluded.sent_at
             WHERE reminder_state.stage_rank < excluded.stage_rank""",
        row["wib_date"], row["user_id"], stage.value, STAGE_RANK[stage], row["accepted_at"])


def register_reminders(dispatch: Dispatch, ledger: Ledger) -> None:
    register_attendance_copy(dispatch)
    dispatch.on(TickFired, on_reminder_tick)
    # a dead-lettered stage needs no callback: its failed ledger row makes the next tick move past it
    for purpose in (purpose_of(Stage.INITIAL), purpose_of(Stage.COMPLETED)):
        ledger.on_accepted(purpose, on_reminder_accepted)
