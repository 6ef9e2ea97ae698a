"""Operational alerts to the admins: one summary per fetch run, never a message per step (DOMAIN §5).

A run (run_id = tick_id) is announced by ingest's FetchRunStarted with the clients it fetches; each
ClientFetchCompleted of that tick is recorded with its errors; OperationalAlertRaised events are kept.
When the last client of a run completes, one summary goes to every admin number through the ``log``
session. A run that never completes is summarised as incomplete when the next run of the same schedule
starts. Completions arriving before their run's announcement are kept and counted when it arrives.

Alerts without a known run (no run_id, or the id of something that is not a fetch run, such as a manual
fetch, or a late alert of a run already summarised whose errors that summary did not carry) wait for the
next summary sent, of any schedule, that comes at or after the time they were raised: they are listed
there under "Peringatan di luar run". An alert repeating errors a summary already carried is not
reported again. Every decision takes its time from the events (scheduled_for, fetched_at, raised_at).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import asyncpg
from cicero_contracts.events.ingest import ClientFetchCompleted, FetchRunStarted
from cicero_contracts.events.ops import OperationalAlertRaised
from cicero_contracts.events.whatsapp import WhatsAppMessageRequested, WhatsAppSession
from cicero_runtime.clock import wib_date
from cicero_runtime.consumer import HandlerContext
from cicero_runtime.db import advisory_key

from cicero_notifier.dispatch import Dispatch
from cicero_notifier.ledger import Notification, bounded_key, request_messages
from cicero_notifier.ops_summary import (
    Alert,
    Limits,
    Run,
    fetch_error_line,
    is_covered,
    render_summary,
    run_errors,
    schedule_of,
)
from cicero_notifier.recipients import personal_chats
from cicero_notifier.settings import NotifierSettings

log = logging.getLogger(__name__)

def summary_key(run_id: str, admin_chat_id: str) -> str:
    return bounded_key(f"ops:{run_id}:{admin_chat_id.split('@', 1)[0]}")


async def _lock_run(conn: asyncpg.Connection, run_id: str) -> None:
    """Serialise everything about one run (its completions, alerts and summary) across notifier replicas,
    so the last completion always sees the others and a summary is decided once."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", advisory_key("notifier-ops-run", run_id))


def _run(row: asyncpg.Record) -> Run:
    return Run(run_id=row["run_id"], schedule=row["schedule"], phase=row["phase"], mandatory=row["mandatory"],
               scheduled_for=row["scheduled_for"], client_ids=tuple(row["client_ids"]))


def _alert(row: asyncpg.Record) -> Alert:
    return Alert(source=row["source"], severity=row["severity"], run_id=row["run_id"], client_id=row["client_id"],
                 summary=row["summary"], details=tuple(row["details"]))


def _by_time(rows: list[asyncpg.Record]) -> list[Alert]:
    """Alerts in the order they were raised (an UPDATE … RETURNING has no order of its own)."""
    return [_alert(r) for r in sorted(rows, key=lambda r: (r["raised_at"], str(r["alert_id"])))]


class OpsAlerts:
    def __init__(self, settings: NotifierSettings) -> None:
        self._admins = personal_chats(settings.admin_whatsapp_numbers).chat_ids  # validated by the settings
        self._limits = Limits(errors_per_client=settings.ops_errors_per_client,
                              clients_listed=settings.ops_clients_listed)
        self._retention = timedelta(days=settings.ops_retention_days)
        self._warned_no_admins = False

    async def on_run_started(self, event: FetchRunStarted, ctx: HandlerContext) -> None:
        await _lock_run(ctx.conn, event.tick_id)
        await ctx.conn.execute(
            """INSERT INTO ops_runs (run_id, schedule, phase, mandatory, scheduled_for, client_ids)
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (run_id) DO NOTHING""",
            event.tick_id, schedule_of(event.tick_id), event.phase.value, event.mandatory, event.scheduled_for,
            event.client_ids)
        stale = await ctx.conn.fetch(
            """SELECT run_id FROM ops_runs WHERE schedule = $1 AND scheduled_for < $2 AND summarized_at IS NULL
               ORDER BY scheduled_for, run_id""", schedule_of(event.tick_id), event.scheduled_for)
        for row in stale:
            await _lock_run(ctx.conn, row["run_id"])
            await self._summarise(ctx, row["run_id"], complete=False, as_of=event.scheduled_for)
        await self._summarise_if_complete(ctx, event.tick_id, as_of=event.scheduled_for)
        await self._prune(ctx.conn, event.scheduled_for - self._retention)

    async def on_client_completed(self, event: ClientFetchCompleted, ctx: HandlerContext) -> None:
        await _lock_run(ctx.conn, event.tick_id)
        await ctx.conn.execute(
            """INSERT INTO ops_run_clients (run_id, client_id, fetched_at, errors) VALUES ($1, $2, $3, $4)
               ON CONFLICT (run_id, client_id) DO NOTHING""",
            event.tick_id, event.client_id, event.fetched_at,
            [fetch_error_line(e.platform.value, e.post_id, e.message) for e in event.errors])
        await self._summarise_if_complete(ctx, event.tick_id, as_of=event.fetched_at)

    async def on_alert(self, event: OperationalAlertRaised, ctx: HandlerContext) -> None:
        if event.run_id is not None:
            await _lock_run(ctx.conn, event.run_id)
        await ctx.conn.execute(
            """INSERT INTO ops_alerts (alert_id, run_id, client_id, source, severity, summary, details, raised_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (alert_id) DO NOTHING""",
            ctx.envelope.event_id, event.run_id, event.client_id, event.source, event.severity.value,
            event.summary, event.details, event.raised_at)
        if event.run_id is None:
            return
        summarised = await ctx.conn.fetchval(
            "SELECT summarized_at IS NOT NULL FROM ops_runs WHERE run_id = $1", event.run_id)
        if not summarised:
            return  # the run's summary will carry it (or, for no known run, the next summary)
        alert = Alert(source=event.source, severity=event.severity.value, run_id=event.run_id,
                      client_id=event.client_id, summary=event.summary, details=tuple(event.details))
        if is_covered(alert, await self._reported_lines(ctx.conn, event.run_id, event.client_id)):
            await ctx.conn.execute("UPDATE ops_alerts SET reported_in = $2 WHERE alert_id = $1",
                                   ctx.envelope.event_id, event.run_id)
        else:
            log.info("late alert of a summarised run kept for the next summary",
                     extra={"run_id": event.run_id, "client_id": event.client_id, "source": event.source})

    @staticmethod
    async def _reported_lines(conn: asyncpg.Connection, run_id: str, client_id: str | None) -> list[str]:
        """What the run's summary already said about this client (completion errors and alerts)."""
        lines: list[str] = []
        if client_id is not None:
            lines += await conn.fetchval(
                "SELECT errors FROM ops_run_clients WHERE run_id = $1 AND client_id = $2", run_id, client_id) or []
        for row in await conn.fetch(
                """SELECT summary, details FROM ops_alerts
                   WHERE reported_in = $1 AND run_id = $1 AND client_id IS NOT DISTINCT FROM $2""", run_id, client_id):
            lines += row["details"] or [row["summary"]]
        return lines

    async def _summarise_if_complete(self, ctx: HandlerContext, run_id: str, *, as_of: datetime) -> None:
        run = await ctx.conn.fetchrow(
            "SELECT client_ids FROM ops_runs WHERE run_id = $1 AND summarized_at IS NULL", run_id)
        if run is None:
            return  # not announced (yet), or already summarised
        expected = set(run["client_ids"])
        done = await ctx.conn.fetchval(
            "SELECT count(*) FROM ops_run_clients WHERE run_id = $1 AND client_id = ANY($2::text[])",
            run_id, list(expected))
        if done >= len(expected):
            await self._summarise(ctx, run_id, complete=True, as_of=as_of)

    async def _summarise(self, ctx: HandlerContext, run_id: str, *, complete: bool, as_of: datetime) -> None:
        row = await ctx.conn.fetchrow(
            """UPDATE ops_runs SET summarized_at = $2, outcome = $3 WHERE run_id = $1 AND summarized_at IS NULL
               RETURNING *""", run_id, as_of, "complete" if complete else "incomplete")
        if row is None:
            return
        run = _run(row)
        completions = await ctx.conn.fetch(
            "SELECT client_id, errors FROM ops_run_clients WHERE run_id = $1 ORDER BY client_id", run_id)
        own = await ctx.conn.fetch(
            """UPDATE ops_alerts SET reported_in = $1 WHERE run_id = $1 AND reported_in IS NULL RETURNING *""",
            run_id)
        others = await ctx.conn.fetch(
            """UPDATE ops_alerts a SET reported_in = $1
               WHERE a.reported_in IS NULL AND a.raised_at <= $2
                 AND (a.run_id IS NULL OR NOT EXISTS (
                       SELECT 1 FROM ops_runs r WHERE r.run_id = a.run_id AND r.summarized_at IS NULL))
               RETURNING *""", run_id, as_of)
        errors = run_errors({r["client_id"]: r["errors"] for r in completions}, _by_time(own))
        text = render_summary(run, [r["client_id"] for r in completions], errors, _by_time(others),
                              complete=complete, limits=self._limits)
        log.info("run summarised", extra={
            "run_id": run_id, "complete": complete, "clients": len(run.client_ids), "completed": len(completions),
            "errors": sum(len(v) for v in errors.values()), "other_alerts": len(others)})
        if not self._admins:
            if not self._warned_no_admins:
                log.warning("no admin WhatsApp numbers configured: run summaries are not sent")
                self._warned_no_admins = True
            return
        await request_messages(ctx, f"ops:{run_id}", [
            Notification(
                request=WhatsAppMessageRequested(
                    idempotency_key=summary_key(run_id, chat_id), session=WhatsAppSession.LOG, chat_id=chat_id,
                    text=text, purpose="ops_summary", requested_at=as_of),
                wib_date=wib_date(run.scheduled_for),
            )
            for chat_id in self._admins
        ])

    @staticmethod
    async def _prune(conn: asyncpg.Connection, before: datetime) -> None:
        """Keep the tables small: what was summarised or reported before the retention horizon goes."""
        await conn.execute("DELETE FROM ops_runs WHERE summarized_at IS NOT NULL AND scheduled_for < $1", before)
        await conn.execute(
            """DELETE FROM ops_run_clients c WHERE c.fetched_at < $1
               AND NOT EXISTS (SELECT 1 FROM ops_runs r WHERE r.run_id = c.run_id)""", before)
        await conn.execute("DELETE FROM ops_alerts WHERE reported_in IS NOT NULL AND raised_at < $1", before)


def register_ops_alerts(dispatch: Dispatch, settings: NotifierSettings) -> None:
    """Summaries keep no state after delivery: the ledger's record of the gateway's report is all."""
    feature = OpsAlerts(settings)
    dispatch.on(FetchRunStarted, feature.on_run_started)
    dispatch.on(ClientFetchCompleted, feature.on_client_completed)
    dispatch.on(OperationalAlertRaised, feature.on_alert)
