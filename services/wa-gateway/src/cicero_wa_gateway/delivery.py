"""The delivery worker: claim due outbox rows, send through the provider, record the result as events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import asyncpg
from cicero_contracts.events.whatsapp import WhatsAppMessageFailed, WhatsAppMessageSent, WhatsAppSession
from cicero_runtime.clock import utc_now
from cicero_runtime.db import connect
from cicero_runtime.event_store import Metadata
from cicero_runtime.logs import mask_phone
from cicero_runtime.service import Service
from cicero_runtime.tracing import extract_context, inject_headers, tracer
from opentelemetry import trace

from cicero_wa_gateway.outbox import NOTIFY_CHANNEL_PREFIX, claim_due
from cicero_wa_gateway.providers import OutgoingMessage, Provider, ProviderError
from cicero_wa_gateway.retry_policy import is_final, retry_delay
from cicero_wa_gateway.settings import GatewaySettings

log = logging.getLogger(__name__)


class DeliveryWorker:
    def __init__(self, service: Service, provider: Provider, settings: GatewaySettings) -> None:
        self._service = service
        self._provider = provider
        self._settings = settings
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
                sent = await self.deliver_pass()
                if sent == 0:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._wait(stop), timeout=1.0)
            except Exception:
                log.exception("delivery pass failed; retrying")
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=1.0)
        if listener is not None:
            await listener.close()

    async def _wait(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(self._wakeup.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def deliver_pass(self) -> int:
        """One pass of the loop: nothing is claimed while the provider is not ready (messages wait)."""
        if not await self._provider.ready():
            return 0
        return await self.deliver_due()

    async def deliver_due(self, limit: int = 20) -> int:
        now = utc_now()
        stale = now - timedelta(seconds=self._settings.wa_processing_timeout_s)
        async with self._service.pool.acquire() as conn:
            rows = await claim_due(conn, now, stale, limit)
        for row in rows:
            await self._deliver(row)
        return len(rows)

    async def _deliver(self, row: asyncpg.Record) -> None:
        parent = extract_context({"traceparent": row["traceparent"]} if row["traceparent"] else {})
        with tracer("cicero.wa_gateway").start_as_current_span(
            f"whatsapp send {row['session']}", context=parent, kind=trace.SpanKind.CLIENT,
            attributes={"cicero.idempotency_key": row["idempotency_key"], "cicero.provider": self._provider.name,
                        "cicero.attempt": row["attempts"]},
        ) as span:
            message = OutgoingMessage(row["idempotency_key"], row["session"], row["chat_id"], row["body"])
            try:
                provider_id = await self._provider.send(message, utc_now())
            except ProviderError as exc:
                span.set_status(trace.StatusCode.ERROR, str(exc))
                await self._record_failure(row, str(exc), exc.permanent)
                return
            except Exception as exc:  # network errors and the like are transient
                span.set_status(trace.StatusCode.ERROR, repr(exc))
                await self._record_failure(row, repr(exc), False)
                return
            await self._record_sent(row, provider_id)

    def _metadata(self, row: asyncpg.Record) -> Metadata:
        headers = inject_headers()
        return Metadata(correlation_id=row["correlation_id"],
                        causation_id=str(row["request_event_id"]) if row["request_event_id"] else None,
                        traceparent=headers.get("traceparent"), tracestate=headers.get("tracestate"))

    async def _record_sent(self, row: asyncpg.Record, provider_id: str) -> None:
        now = utc_now()
        async with self._service.pool.acquire() as conn, conn.transaction():
            updated = await conn.execute(
                """UPDATE wa_outbox SET status = 'sent', provider_message_id = $2, last_error = NULL,
                   updated_at = $3 WHERE idempotency_key = $1 AND status = 'processing' AND attempts = $4""",
                row["idempotency_key"], provider_id, now, row["attempts"],
            )
            if not _changed(updated):
                log.warning("send result arrived after the row was reclaimed; not recorded twice",
                            extra={"attempt": row["attempts"]})
                return
            await self._service.store.append(conn, f"wa:{row['idempotency_key']}", [WhatsAppMessageSent(
                idempotency_key=row["idempotency_key"], session=WhatsAppSession(row["session"]),
                chat_id=row["chat_id"], provider=self._provider.name, provider_message_id=provider_id,
                attempt=row["attempts"], sent_at=now,
            )], metadata=self._metadata(row))
        log.info("whatsapp message sent", extra={"chat": mask_phone(row["chat_id"]), "attempt": row["attempts"],
                                                 "purpose": row["purpose"]})

    async def _record_failure(self, row: asyncpg.Record, reason: str, permanent: bool) -> None:
        now = utc_now()
        attempt: int = row["attempts"]
        final = is_final(attempt, self._settings.wa_max_attempts, permanent)
        next_at = now + retry_delay(attempt, self._settings.wa_retry_base_s, self._settings.wa_retry_max_s)
        async with self._service.pool.acquire() as conn, conn.transaction():
            updated = await conn.execute(
                """UPDATE wa_outbox SET status = $2, next_attempt_at = $3, last_error = $4, updated_at = $5
                   WHERE idempotency_key = $1 AND status = 'processing' AND attempts = $6""",
                row["idempotency_key"], "dead_letter" if final else "pending", next_at, reason[:1000], now,
                attempt,
            )
            if not _changed(updated):
                return
            await self._service.store.append(conn, f"wa:{row['idempotency_key']}", [WhatsAppMessageFailed(
                idempotency_key=row["idempotency_key"], session=WhatsAppSession(row["session"]),
                chat_id=row["chat_id"], provider=self._provider.name, reason=reason[:1000], attempt=attempt,
                final=final, failed_at=now,
            )], metadata=self._metadata(row))
        log.warning("whatsapp send failed", extra={"chat": mask_phone(row["chat_id"]), "attempt": attempt,
                                                   "final": final, "reason": mask_phone(reason[:300])})


def _changed(status: str) -> bool:
    """A row still ours: it was not reclaimed by another worker after the processing timeout."""
    return not status.endswith(" 0")
