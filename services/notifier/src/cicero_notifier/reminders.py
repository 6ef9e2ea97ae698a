"""Personal reminders at reminder ticks (DOMAIN §5 "Reminders"): load the day's facts set-based, let the
pure decision pick each person's stage, request the messages through the ledger, and record the stage
only when the gateway accepted it.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from datetime import date, timedelta

import asyncpg
from cicero_contracts.events.attendance import AttendanceStatus
from cicero_contracts.events.common import Platform
from cicero_contracts.events.scheduler import TickFired, TickPhase
from cicero_contracts.events.whatsapp import WhatsAppMessageRequested, WhatsAppSession
from cicero_runtime.clock import wib_date
from cicero_runtime.consumer import HandlerContext

from cicero_notifier.attendance_copy import register_attendance_copy
from cicero_notifier.dispatch import Dispatch
from cicero_notifier.ledger import Ledger, Notification, request_messages
from cicero_notifier.reminder_decision import (
    STAGE_RANK,
    AttendanceRow,
    History,
    Person,
    Stage,
    TaskPost,
    chat_id_of,
    idempotency_key,
    ineligibility,
    next_stage,
    person_progress,
    purpose_of,
)
from cicero_notifier.reminder_text import render_reminder, render_thanks

log = logging.getLogger(__name__)

RETENTION_DAYS = 14
"""Days of projected attendance and task posts kept behind the tick's day; reminders only read their day."""


async def on_reminder_tick(event: TickFired, ctx: HandlerContext) -> None:
    if event.phase != TickPhase.REMINDER:
        return
    day = wib_date(event.scheduled_for)
    people = await _people(ctx.conn)
    reasons: Counter[str] = Counter()
    eligible: list[tuple[Person, str]] = []
    for person, client_name in people:
        reason = ineligibility(person)
        if reason is None:
            eligible.append((person, client_name))
        else:
            reasons[reason] += 1
    user_ids = [p.user_id for p, _ in eligible]
    posts = await _task_posts(ctx.conn, day, sorted({p.client_id for p, _ in eligible}))
    rows = await _attendance(ctx.conn, day, user_ids)
    histories = await _histories(ctx.conn, day, user_ids)
    notifications: list[Notification] = []
    for person, client_name in eligible:
        progress = person_progress(posts.get(person.client_id, []), rows.get(person.user_id, {}), person)
        stage = next_stage(progress, histories.get(person.user_id, History()))
        reasons[stage.value if stage else "nothing_to_send"] += 1
        if stage is None:
            continue
        if stage == Stage.COMPLETED:
            text = render_thanks(title=person.title, name=person.name, client_name=client_name,
                                 at=event.scheduled_for, progress=progress)
        else:
            text = render_reminder(stage, title=person.title, name=person.name, client_name=client_name,
                                   at=event.scheduled_for, progress=progress)
        chat_id = chat_id_of(person)
        assert chat_id is not None  # eligibility requires a valid number
        notifications.append(Notification(
            request=WhatsAppMessageRequested(
                idempotency_key=idempotency_key(person.user_id, day.isoformat(), stage),
                session=WhatsAppSession.OPERATOR, chat_id=chat_id, text=text, purpose=purpose_of(stage),
                client_id=person.client_id, requested_at=event.scheduled_for,
            ),
            user_id=person.user_id, wib_date=day, stage=stage.value,
        ))
    requested = await request_messages(ctx, f"reminders:{day.isoformat()}", notifications)
    await _prune(ctx.conn, day)
    log.info("reminders decided", extra={"tick_id": event.tick_id, "wib_date": day.isoformat(),
                                         "people": len(people), "requested": len(requested),
                                         "outcomes": dict(reasons)})


async def _people(conn: asyncpg.Connection) -> list[tuple[Person, str]]:
    """Active opted-in personnel with their home client's switches (the pure rules decide the rest)."""
    records = await conn.fetch(
        """SELECT p.*, c.client_id IS NOT NULL AS client_known, coalesce(c.active, false) AS client_active,
                  coalesce(c.reminders_enabled, false) AS client_reminders_enabled, c.name AS client_name
           FROM personnel p LEFT JOIN clients c ON c.client_id = p.client_id
           WHERE p.active AND p.wa_reminder_opt_in
           ORDER BY p.client_id, p.user_id""")
    return [(Person(
        user_id=r["user_id"], name=r["name"], title=r["title"], client_id=r["client_id"], whatsapp=r["whatsapp"],
        instagram=r["instagram"], tiktok=r["tiktok"], active=r["active"], exempt=r["exempt"],
        opt_in=r["wa_reminder_opt_in"], client_known=r["client_known"], client_active=r["client_active"],
        client_reminders_enabled=r["client_reminders_enabled"],
    ), r["client_name"] or r["client_id"]) for r in records]


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


async def _histories(conn: asyncpg.Connection, day: date, user_ids: list[str]) -> dict[str, History]:
    """The accepted stage from reminder_state; in-flight and dead-lettered requests from the ledger."""
    accepted = {r["user_id"]: Stage(r["stage"]) for r in await conn.fetch(
        "SELECT user_id, stage FROM reminder_state WHERE wib_date = $1 AND user_id = ANY($2::text[])",
        day, user_ids)}
    in_flight: set[str] = set()
    dead: dict[str, set[Stage]] = defaultdict(set)
    for r in await conn.fetch(
            """SELECT user_id, stage, accepted_at, failed_at FROM notifications
               WHERE wib_date = $1 AND purpose IN ('reminder', 'reminder_thanks') AND user_id = ANY($2::text[])""",
            day, user_ids):
        if r["accepted_at"] is not None:
            continue
        if r["failed_at"] is not None:
            dead[r["user_id"]].add(Stage(r["stage"]))
        else:
            in_flight.add(r["user_id"])
    return {user_id: History(accepted.get(user_id), user_id in in_flight, frozenset(dead.get(user_id, ())))
            for user_id in accepted.keys() | in_flight | dead.keys()}


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
