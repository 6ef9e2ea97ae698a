"""The delivery worker: per session, claim due outbox rows, send them, record the result as events.

Each session has its own loop, readiness gate and pacing, so a slow or held session (broadcast groups
with a long gap, a provider asking us to wait) never delays another. A pass:

1. asks the session's provider whether it is ready (cached); not ready → nothing is claimed, nothing counted;
2. reclaims rows left ``processing`` by a worker that died (the abandoned attempt counts);
3. opens the session's pacing gate and claims due rows: one for a paced session, else up to a batch
   (one per chat), sent concurrently;
4. records the pass's results in one transaction with their events: ``WhatsAppMessageSent`` once per message,
   ``WhatsAppMessageFailed`` per failed attempt (``final`` once, on the dead letter).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from cicero_contracts import Event
from cicero_contracts.events.whatsapp import WhatsAppMessageFailed, WhatsAppMessageSent, WhatsAppSession
from cicero_runtime.clock import utc_now
from cicero_runtime.db import connect
from cicero_runtime.event_store import Metadata, StreamAppend
from cicero_runtime.logs import mask_phone
from cicero_runtime.service import Service
from cicero_runtime.tracing import extract_context, inject_headers, tracer
from cicero_runtime.wakeup import wait_any
from opentelemetry import trace

from cicero_wa_gateway import pacing
from cicero_wa_gateway.outbox import NOTIFY_CHANNEL_PREFIX, claim_due, mark_failed, mark_sent, reclaim_stale
from cicero_wa_gateway.providers import OutgoingMessage, ProviderError, SessionProviders
from cicero_wa_gateway.readiness import ReadinessGate
from cicero_wa_gateway.retry_policy import is_final, next_attempt_delay, session_hold_s
from cicero_wa_gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

REASON_MAX_CHARS = 1000
RECLAIM_EVERY_MAX_S = 10.0
"""Stale rows are looked for at most this often per session (and a tenth of the processing timeout)."""


@dataclass(frozen=True)
class PassResult:
    claimed: int
    wait_s: float | None = None
    """Set when the pacing gate was closed: how long until this session may send again."""


class DeliveryWorker:
    def __init__(self, service: Service, providers: SessionProviders, settings: GatewaySettings) -> None:
        self._service = service
        self._providers = providers
        self._settings = settings
        self._gates = {s: ReadinessGate(s.value, providers.by_session[s], settings.wa_ready_check_interval_s)
                       for s in WhatsAppSession}
        self._wakeups = {s: asyncio.Event() for s in WhatsAppSession}
        self._next_reclaim = {s: 0.0 for s in WhatsAppSession}
        self._reclaim_every_s = min(settings.wa_processing_timeout_s / 10, RECLAIM_EVERY_MAX_S)

    # -- the loops ------------------------------------------------------------------------------------
    async def run(self, service: Service, stop: asyncio.Event) -> None:
        await asyncio.gather(self._listen(service, stop), *(self._session_loop(s, stop) for s in WhatsAppSession))

    async def _listen(self, service: Service, stop: asyncio.Event) -> None:
        """LISTEN for new requests (the intake NOTIFYs with the session's name); reconnect when lost."""
        listener: asyncpg.Connection | None = None
        try:
            while not stop.is_set():
                if listener is None or listener.is_closed():
                    try:
                        listener = await connect(service.settings.database_url, service.schema)
                        await listener.add_listener(NOTIFY_CHANNEL_PREFIX + service.schema, self._on_notify)
                        self._wake(None)  # whatever arrived while nobody listened
                    except (OSError, asyncpg.PostgresError) as exc:
                        log.warning("outbox listener unavailable; polling meanwhile", extra={"error": repr(exc)})
                        listener = None
                await wait_any([stop], self._settings.wa_poll_interval_s)
        finally:
            if listener is not None and not listener.is_closed():
                await listener.close()

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self._wake(payload)

    def _wake(self, session: str | None) -> None:
        for s, event in self._wakeups.items():
            if session in (None, "", s.value):
                event.set()

    async def _session_loop(self, session: WhatsAppSession, stop: asyncio.Event) -> None:
        wakeup = self._wakeups[session]
        poll = self._settings.wa_poll_interval_s
        while not stop.is_set():
            wakeup.clear()
            try:
                result = await self.deliver_pass(session)
            except Exception:
                log.exception("delivery pass failed; retrying", extra={"session": session.value})
                result = PassResult(0, wait_s=poll)
            if result.claimed:
                continue  # more may be due; a paced session finds its gate closed and waits below
            timeout = poll if result.wait_s is None else min(poll, max(result.wait_s, 0.001))
            await wait_any([wakeup, stop], timeout)

    # -- one pass ---------------------------------------------------------------------------------------
    async def deliver_pass(self, session: WhatsAppSession) -> PassResult:
        """One pass for one session: nothing is claimed while its provider is not ready (messages wait)."""
        if not await self._gates[session].is_ready():
            return PassResult(0)
        return await self.deliver_due(session)

    async def deliver_due(self, session: WhatsAppSession) -> PassResult:
        now = utc_now()
        if time.monotonic() >= self._next_reclaim[session]:  # a cheap query, but not on every pass
            await self._reclaim(session, now)
            self._next_reclaim[session] = time.monotonic() + self._reclaim_every_s
        gap = self._settings.pacing_gap_for(session)
        paced = gap > 0
        lease: uuid.UUID | None = None
        # paced: the gate row stays locked until the lease is taken; unpaced: two plain statements
        async with self._service.pool.acquire() as conn, (
                conn.transaction() if paced else contextlib.nullcontext()):
            gate = await pacing.try_open(conn, session.value, paced=paced)
            if not gate.open:
                return PassResult(0, wait_s=gate.wait_s)
            rows = await claim_due(conn, session.value, now, 1 if paced else self._settings.wa_batch_size)
            if rows and paced:
                lease = await pacing.take_lease(conn, session.value, self._settings.wa_http_timeout_s + gap)
        if not rows:
            return PassResult(0)
        outcomes = list(await asyncio.gather(*(self._deliver(session, row) for row in rows)))
        await self._record(session, outcomes, lease)
        return PassResult(len(rows))

    async def _reclaim(self, session: WhatsAppSession, now: datetime) -> None:
        stale_before = now - timedelta(seconds=self._settings.wa_processing_timeout_s)
        provider = self._providers.by_session[session].name
        async with self._service.pool.acquire() as conn, conn.transaction():
            rows = await reclaim_stale(conn, session.value, now, stale_before, self._settings.wa_max_attempts,
                                       self._settings.wa_processing_timeout_s)
            await self._service.store.append_streams(conn, [StreamAppend(
                f"wa:{row['idempotency_key']}", [WhatsAppMessageFailed(
                    idempotency_key=row["idempotency_key"], session=session, chat_id=row["chat_id"],
                    provider=provider, reason=row["last_error"], attempt=row["attempts"],
                    final=row["status"] == "dead_letter", failed_at=row["updated_at"])],
                metadata=_metadata(row, inject_headers())) for row in rows])
        for row in rows:
            log.warning("stale processing row reclaimed", extra={
                "session": session.value, "chat": mask_phone(row["chat_id"]), "attempt": row["attempts"],
                "final": row["status"] == "dead_letter", "purpose": row["purpose"]})

    async def _deliver(self, session: WhatsAppSession, row: asyncpg.Record) -> SendOutcome:
        """Send one claimed row; never raises: every way it can end is an outcome to record."""
        provider = self._providers.by_session[session]
        parent = extract_context({"traceparent": row["traceparent"]} if row["traceparent"] else {})
        with tracer("cicero.wa_gateway").start_as_current_span(
            f"whatsapp send {session.value}", context=parent, kind=trace.SpanKind.CLIENT,
            attributes={"cicero.idempotency_key": row["idempotency_key"], "cicero.provider": provider.name,
                        "cicero.attempt": row["attempts"]},
        ) as span:
            trace_headers = inject_headers()  # the result events continue this send's trace
            message = OutgoingMessage(row["idempotency_key"], session.value, row["chat_id"], row["body"])
            try:
                provider_id = await provider.send(message, utc_now())
            except ProviderError as exc:
                span.set_status(trace.StatusCode.ERROR, str(exc))
                if exc.unreachable:
                    self._gates[session].recheck()
                if exc.config_error:
                    log.error("whatsapp provider refused our configuration (token, key or URL); fix the "
                              "settings", extra={"session": session.value, "provider": provider.name,
                                                 "reason": mask_phone(str(exc))})
                return SendOutcome(row, trace_headers, error=str(exc), permanent=exc.permanent,
                                   retry_after_s=exc.retry_after_s)
            except Exception as exc:  # anything unforeseen is transient: bounded by the attempt limit
                span.set_status(trace.StatusCode.ERROR, repr(exc))
                return SendOutcome(row, trace_headers, error=repr(exc))
            return SendOutcome(row, trace_headers, provider_id=provider_id)

    async def _record(self, session: WhatsAppSession, outcomes: list[SendOutcome], lease: uuid.UUID | None
                      ) -> None:
        """A pass's results in one transaction: the rows (only those still ours), the session's gate, the events.

        A row is no longer ours when it was reclaimed after the processing timeout: its result is then
        not recorded a second time.
        """
        now = utc_now()
        provider = self._providers.by_session[session].name
        settings = self._settings
        sent = [o for o in outcomes if o.error is None]
        failed = [o for o in outcomes if o.error is not None]
        finals = {o.row["idempotency_key"]: is_final(o.row["attempts"], settings.wa_max_attempts, o.permanent)
                  for o in failed}
        retry_afters = [o.retry_after_s for o in failed if o.retry_after_s is not None]
        async with self._service.pool.acquire() as conn, conn.transaction():
            ours = await mark_sent(conn, now, [o.row["idempotency_key"] for o in sent], [o.provider_id for o in sent],
                                   [o.row["attempts"] for o in sent])
            ours |= await mark_failed(
                conn, now, [o.row["idempotency_key"] for o in failed],
                ["dead_letter" if finals[o.row["idempotency_key"]] else "pending" for o in failed],
                [now + next_attempt_delay(o.row["attempts"], settings.wa_retry_base_s, settings.wa_retry_max_s,
                                          o.retry_after_s) for o in failed],
                [o.reason for o in failed], [o.row["attempts"] for o in failed])
            await self._after_send(conn, session, lease, max(retry_afters) if retry_afters else None)
            appends = []
            for o in outcomes:
                key = o.row["idempotency_key"]
                if key not in ours:
                    continue
                event: Event = (
                    WhatsAppMessageSent(idempotency_key=key, session=session, chat_id=o.row["chat_id"],
                                        provider=provider, provider_message_id=o.provider_id or None,
                                        attempt=o.row["attempts"], sent_at=now)
                    if o.error is None else
                    WhatsAppMessageFailed(idempotency_key=key, session=session, chat_id=o.row["chat_id"],
                                          provider=provider, reason=o.reason, attempt=o.row["attempts"],
                                          final=finals[key], failed_at=now))
                appends.append(StreamAppend(f"wa:{key}", [event], metadata=_metadata(o.row, o.trace_headers)))
            await self._service.store.append_streams(conn, appends)
        for o in outcomes:
            self._log_outcome(session, o, o.row["idempotency_key"] in ours, finals.get(o.row["idempotency_key"]))

    def _log_outcome(self, session: WhatsAppSession, outcome: SendOutcome, recorded: bool, final: bool | None
                     ) -> None:
        row = outcome.row
        fields: dict[str, Any] = {"session": session.value, "chat": mask_phone(row["chat_id"]),
                                  "attempt": row["attempts"], "purpose": row["purpose"]}
        if not recorded:
            log.warning("send result arrived after the row was reclaimed; not recorded twice", extra=fields)
        elif outcome.error is None:
            log.info("whatsapp message sent", extra=fields)
        else:
            (log.error if final else log.warning)(
                "whatsapp send failed" + ("; dead letter" if final else "; will retry"),
                extra=fields | {"final": final, "reason": mask_phone(outcome.reason[:300])})

    async def _after_send(self, conn: asyncpg.Connection, session: WhatsAppSession, lease: uuid.UUID | None,
                          retry_after_s: float | None) -> None:
        """Let the session's next send go: after the pacing gap, or after the provider's Retry-After."""
        if lease is not None:
            hold_s = session_hold_s(self._settings.pacing_gap_for(session), retry_after_s)
            await pacing.release(conn, session.value, lease, hold_s)
        if retry_after_s is not None:
            await pacing.hold(conn, session.value, retry_after_s)


@dataclass(frozen=True)
class SendOutcome:
    row: asyncpg.Record
    trace_headers: dict[str, str]
    provider_id: str = ""
    error: str | None = None
    """None: the provider accepted the message."""
    permanent: bool = False
    retry_after_s: float | None = None

    @property
    def reason(self) -> str:
        return (self.error or "")[:REASON_MAX_CHARS]


def _metadata(row: asyncpg.Record, trace_headers: dict[str, str]) -> Metadata:
    return Metadata(correlation_id=row["correlation_id"],
                    causation_id=str(row["request_event_id"]) if row["request_event_id"] else None,
                    traceparent=trace_headers.get("traceparent"), tracestate=trace_headers.get("tracestate"))
