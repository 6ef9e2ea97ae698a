"""Queued e-mail (complaint replies) and the worker that sends it, at most once per key.

A handler records the e-mail in ``email_log`` inside its inbox transaction (so a redelivered event adds
nothing) and wakes the worker with a NOTIFY that fires on commit, so the e-mail leaves at once. The
worker marks one row ``sending`` and commits that *before* talking to SMTP, then records ``sent`` or
``failed``; a row found still ``sending`` later means the process died mid-send, and since the server may
have accepted it, it is recorded as failed with an unknown outcome and reported, never sent again.

Sending here, not in the consumer, keeps a slow or failing SMTP server (retries with backoff) from
holding up the notifier's event handling.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
from cicero_runtime.clock import utc_now
from cicero_runtime.db import connect
from cicero_runtime.event_store import Metadata
from cicero_runtime.service import Service
from cicero_runtime.wakeup import wait_any

from cicero_notifier.email_address import mask_email
from cicero_notifier.mailer import Mail, Mailer, MailFailed, failure_alert
from cicero_notifier.settings import NotifierSettings

log = logging.getLogger(__name__)

NOTIFY_CHANNEL_PREFIX = "notifier_email_"
POLL_INTERVAL_S = 5.0
"""Longest wait between passes when no NOTIFY arrives (one sent while the listener was down)."""


@dataclass(frozen=True)
class EmailJob:
    key: str
    """Unique per e-mail that must go out at most once (e.g. ``complaint:<id>:<user>``)."""
    purpose: str
    user_id: str | None
    recipient: str
    subject: str
    body: str
    requested_at: datetime


async def enqueue(conn: asyncpg.Connection, schema: str, job: EmailJob, metadata: Metadata) -> bool:
    """Record the e-mail in the caller's transaction; ``False`` when its key was recorded before."""
    key = await conn.fetchval(
        """INSERT INTO email_log (email_key, purpose, user_id, recipient, subject, body, requested_at,
                                  correlation_id, causation_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (email_key) DO NOTHING RETURNING email_key""",
        job.key, job.purpose, job.user_id, job.recipient, job.subject, job.body, job.requested_at,
        metadata.correlation_id, metadata.causation_id,
    )
    if key is not None:
        await conn.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL_PREFIX + schema)
    return key is not None


class EmailWorker:
    def __init__(self, service: Service, mailer: Mailer, settings: NotifierSettings,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self._service = service
        self._mailer = mailer
        self._settings = settings
        self._clock = clock
        self._wakeup = asyncio.Event()

    async def run(self, service: Service, stop: asyncio.Event) -> None:
        listener: asyncpg.Connection | None = None
        while not stop.is_set():
            try:
                if listener is None or listener.is_closed():
                    listener = await connect(service.settings.database_url, service.schema)
                    await listener.add_listener(NOTIFY_CHANNEL_PREFIX + service.schema,
                                                lambda *_: self._wakeup.set())
                self._wakeup.clear()
                await self.send_pending()
                await wait_any([self._wakeup, stop], POLL_INTERVAL_S)
            except Exception:
                log.exception("e-mail pass failed; retrying")
                await wait_any([stop], 1.0)
        if listener is not None:
            await listener.close()

    async def send_pending(self) -> int:
        """Settle interrupted sends, then send what is pending, one row at a time; returns how many."""
        await self.settle_interrupted()
        sent = 0
        while (row := await self._claim_next()) is not None:
            await self._send(row)
            sent += 1
        return sent

    async def _claim_next(self) -> asyncpg.Record | None:
        """Mark the oldest pending e-mail ``sending`` and commit, so a crash cannot lead to a second send."""
        row: asyncpg.Record | None = await self._service.pool.fetchrow(
            """UPDATE email_log SET status = 'sending', started_at = $1
               WHERE email_key = (SELECT email_key FROM email_log WHERE status = 'pending'
                                  ORDER BY created_at, email_key LIMIT 1 FOR UPDATE SKIP LOCKED)
               RETURNING *""", self._clock())
        return row

    async def _send(self, row: asyncpg.Record) -> None:
        mail = Mail(to=row["recipient"], subject=row["subject"], body=row["body"])
        try:
            attempts = await self._mailer.send(mail)
        except MailFailed as exc:
            how = ("ditolak server, tidak dicoba ulang" if exc.permanent
                   else f"gagal setelah {exc.attempts} percobaan")
            await self._fail(row, exc.attempts, exc.failure.reason, how)
            return
        except Exception as exc:
            log.exception("e-mail send crashed", extra={"email_key": row["email_key"]})
            await self._fail(row, 1, f"{type(exc).__name__}: {exc}"[:500], "gagal (kesalahan tak terduga)")
            return
        await self._service.pool.execute(
            """UPDATE email_log SET status = 'sent', attempts = $2, finished_at = $3, failure = NULL
               WHERE email_key = $1 AND status = 'sending'""", row["email_key"], attempts, self._clock())
        log.info("e-mail sent", extra={"email_key": row["email_key"], "purpose": row["purpose"],
                                       "to": mask_email(row["recipient"]), "attempts": attempts})

    async def _fail(self, row: asyncpg.Record, attempts: int, reason: str, how: str) -> None:
        now = self._clock()
        async with self._service.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """UPDATE email_log SET status = 'failed', attempts = $2, finished_at = $3, failure = $4
                   WHERE email_key = $1 AND status = 'sending'""", row["email_key"], attempts, now, reason)
            await self._alert(conn, row, f"E-mail {row['email_key']} ke {mask_email(row['recipient'])} {how}",
                              reason, now)
        log.warning("e-mail not sent", extra={"email_key": row["email_key"], "purpose": row["purpose"],
                                              "to": mask_email(row["recipient"]), "attempts": attempts,
                                              "reason": reason})

    async def settle_interrupted(self) -> int:
        """Rows left ``sending`` by a process that died mid-send: failed, outcome unknown, reported once."""
        now = self._clock()
        stale_before = now - timedelta(seconds=self._settings.email_sending_stale_s)
        reason = "proses berhenti saat mengirim; tidak diketahui apakah e-mail diterima server"
        async with self._service.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                """UPDATE email_log SET status = 'failed', finished_at = $1, failure = $2
                   WHERE status = 'sending' AND started_at < $3 RETURNING *""", now, reason, stale_before)
            for row in rows:
                await self._alert(conn, row, f"E-mail {row['email_key']} ke {mask_email(row['recipient'])} "
                                             "tidak pasti terkirim (tidak dikirim ulang)", reason, now)
        for row in rows:
            log.error("e-mail outcome unknown after an interrupted send; not resent",
                      extra={"email_key": row["email_key"], "purpose": row["purpose"]})
        return len(rows)

    async def _alert(self, conn: asyncpg.Connection, row: asyncpg.Record, summary: str, reason: str,
                     at: datetime) -> None:
        await self._service.store.append(
            conn, f"email:{row['email_key']}", [failure_alert(summary, reason, at)],
            metadata=Metadata(correlation_id=row["correlation_id"], causation_id=row["causation_id"]))
