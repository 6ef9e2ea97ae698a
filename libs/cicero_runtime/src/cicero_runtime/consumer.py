"""Idempotent, failure-classifying event consumption (ARCHITECTURE rules 3 and 4).

Each message is decoded, upcast and validated at the edge, then handled inside one database transaction
that also claims the inbox row, so a redelivery is a no-op. Failures are classified:

* permanent (undecodable body, unknown type or version, invalid payload, ``PermanentError``) → parked in
  ``<queue>.dlq`` at once, with the reason in the ``x-failure-reason`` header;
* anything else is transient → republished to ``<queue>.retry`` (which returns it after the retry delay)
  until ``max_attempts``, then parked with the last reason.

The original is acknowledged only after the retry or dead-letter copy was confirmed by the broker;
if that publish fails the original is requeued, never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import aio_pika
import asyncpg
from cicero_contracts import REGISTRY, ContractError, Envelope, Event, EventRegistry
from cicero_contracts.names import QueueSpec
from faststream import AckPolicy
from faststream.rabbit import RabbitBroker, RabbitQueue
from faststream.rabbit.annotations import RabbitMessage
from opentelemetry import trace
from pydantic import ValidationError

from cicero_runtime import inbox
from cicero_runtime.event_store import EventStore, Metadata, RecordedEvent
from cicero_runtime.topology import BusNames
from cicero_runtime.tracing import extract_context, inject_headers, tracer

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)


class PermanentError(Exception):
    """A handler's verdict that retrying cannot help (bad data, a rule violated)."""


@dataclass
class HandlerContext:
    """What a handler may touch: its transaction, its store, and the envelope being handled."""

    conn: asyncpg.Connection
    store: EventStore
    envelope: Envelope

    def metadata(self) -> Metadata:
        """Metadata for events caused by this one: same correlation, this event as cause, current trace."""
        trace_headers = inject_headers()
        return Metadata(
            correlation_id=self.envelope.correlation_id or str(self.envelope.event_id),
            causation_id=str(self.envelope.event_id),
            traceparent=trace_headers.get("traceparent"),
            tracestate=trace_headers.get("tracestate"),
        )

    async def append(
        self, stream_id: str, events: list[Event], *, expected_version: int | None = None
    ) -> list[RecordedEvent]:
        return await self.store.append(
            self.conn, stream_id, events, expected_version=expected_version, metadata=self.metadata(),
            occurred_at=None,
        )


Handler = Callable[[Any, HandlerContext], Awaitable[None]]


@dataclass(frozen=True)
class BatchItem:
    """One fresh (not yet seen) event of a batch, with the metadata for whatever it causes."""

    envelope: Envelope
    event: Event
    metadata: Metadata


@dataclass
class BatchContext:
    """What a batch handler may touch: the batch's transaction and the service's store."""

    conn: asyncpg.Connection
    store: EventStore


BatchHandler = Callable[[list[BatchItem], BatchContext], Awaitable[None]]
"""Handles a whole micro-batch in its transaction: for projections whose writes are set-based."""


class Outcome:
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


async def _whole_message(message: Any) -> Any:
    """Hand the handler the message itself: cheaper than a context lookup, which costs a thread hop."""
    return message


def decode_envelope(body: bytes) -> Envelope:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError(f"body is not JSON: {exc}") from exc
    try:
        return Envelope.model_validate(data)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) + f" ({e['msg']})" for e in exc.errors())
        raise ContractError(f"invalid envelope: {fields}") from exc


class EventConsumer:
    """One consumer (inbox name) reading one queue and dispatching by event type."""

    def __init__(
        self,
        name: str,
        queue: QueueSpec,
        pool: asyncpg.Pool,
        store: EventStore,
        names: BusNames,
        *,
        max_attempts: int = 5,
        registry: EventRegistry = REGISTRY,
    ) -> None:
        self.name = name
        self.queue = queue
        self._pool = pool
        self._store = store
        self._names = names
        self._max_attempts = max_attempts
        self._registry = registry
        self._handlers: dict[str, Handler] = {}
        self._batch_handler: BatchHandler | None = None
        self._batch_types: set[str] = set()
        self._arrived: asyncio.Queue[RabbitMessage] = asyncio.Queue()
        self._broker: RabbitBroker | None = None
        self._batch_size = 100
        self._worker: asyncio.Task[None] | None = None

    def on(self, event_class: type[E]) -> Callable[[Callable[[E, HandlerContext], Awaitable[None]]], Handler]:
        if self._batch_handler is not None:
            raise RuntimeError(f"consumer {self.name} already has a batch handler")

        def register(func: Callable[[E, HandlerContext], Awaitable[None]]) -> Handler:
            self._handlers[event_class.event_type] = func
            return func

        return register

    def on_batch(self, handler: BatchHandler, *event_classes: type[Event]) -> None:
        """Hand every fresh event of these types in a micro-batch to ``handler`` at once, in arrival order.

        A consumer uses either ``on`` handlers or one batch handler: mixing them would reorder events.
        """
        if self._handlers:
            raise RuntimeError(f"consumer {self.name} already has per-event handlers")
        self._batch_handler = handler
        self._batch_types.update(cls.event_type for cls in event_classes)

    def _handles(self, event_type: str) -> bool:
        return event_type in self._handlers or event_type in self._batch_types

    def handled_types(self) -> frozenset[str]:
        """Event types this consumer records in its inbox (others it acknowledges and ignores): what a caller
        waiting for the consumer to catch up must wait on."""
        return frozenset(self._handlers) | frozenset(self._batch_types)

    async def process(self, body: bytes, headers: Mapping[str, Any] | None = None) -> str:
        """Decode, validate and handle one message body; raises on failure (classified by the caller)."""
        envelope = decode_envelope(body)
        if not self._handles(envelope.event_type):
            return Outcome.IGNORED
        event = self._registry.parse(envelope.event_type, envelope.schema_version, envelope.payload)
        async with self._pool.acquire() as conn, conn.transaction():
            if self._batch_handler is not None:
                fresh = await self._run_batch(conn, [(envelope, event, headers or {})])
                return Outcome.HANDLED if fresh else Outcome.DUPLICATE
            return await self._handle_in(conn, envelope, event, self._handlers[envelope.event_type],
                                         headers or {})

    async def _run_batch(
        self, conn: asyncpg.Connection, items: list[tuple[Envelope, Event, Mapping[str, Any]]]
    ) -> int:
        """Claim the inbox rows and give the fresh events to the batch handler; returns how many were fresh.

        Each event gets its own consumer span in the producer's trace, so a trace still shows every
        message; what the handler appends carries that span as its parent.
        """
        assert self._batch_handler is not None
        fresh_ids = await inbox.claim_many(conn, self.name, [(e.event_id, e.event_type) for e, _, _ in items])
        fresh: list[BatchItem] = []
        for envelope, event, headers in items:
            if envelope.event_id not in fresh_ids:
                continue
            fresh_ids.discard(envelope.event_id)  # a repeat inside the batch runs once
            with tracer("cicero.consumer").start_as_current_span(
                f"consume {envelope.event_type}", context=extract_context(headers), kind=trace.SpanKind.CONSUMER,
                attributes={"messaging.system": "rabbitmq", "messaging.message.id": str(envelope.event_id),
                            "cicero.consumer": self.name},
            ):
                context = HandlerContext(conn=conn, store=self._store, envelope=envelope)
                fresh.append(BatchItem(envelope, event, context.metadata()))
        if fresh:
            await self._batch_handler(fresh, BatchContext(conn=conn, store=self._store))
        return len(fresh)

    async def _handle_in(
        self, conn: asyncpg.Connection, envelope: Envelope, event: Event, handler: Handler,
        headers: Mapping[str, Any],
    ) -> str:
        """Claim the inbox row and run the handler inside the caller's transaction."""
        if not await inbox.claim(conn, self.name, envelope.event_id, envelope.event_type):
            return Outcome.DUPLICATE
        await self._run_handler(conn, envelope, event, handler, headers)
        return Outcome.HANDLED

    async def _run_handler(
        self, conn: asyncpg.Connection, envelope: Envelope, event: Event, handler: Handler,
        headers: Mapping[str, Any],
    ) -> None:
        """Run a handler in the producer's trace (the ``traceparent`` the relay put in the headers)."""
        with tracer("cicero.consumer").start_as_current_span(
            f"consume {envelope.event_type}", context=extract_context(headers), kind=trace.SpanKind.CONSUMER,
            attributes={"messaging.system": "rabbitmq", "messaging.message.id": str(envelope.event_id),
                        "cicero.consumer": self.name},
        ):
            await handler(event, HandlerContext(conn=conn, store=self._store, envelope=envelope))

    def attach(self, broker: RabbitBroker, batch_size: int = 100) -> None:
        """Subscribe to the (already declared) queue with manual acknowledgement.

        The subscriber only queues each delivery; one worker handles what has arrived in micro-batches,
        in arrival order, one transaction per batch (the commit is the expensive part). If anything in
        a batch fails, nothing of it was committed and each message is handled again on its own, so only
        the failing one is retried or parked.
        """
        queue_name = self._names.queue(self.queue)
        self._broker = broker
        self._batch_size = batch_size

        @broker.subscriber(RabbitQueue(queue_name, declare=False), ack_policy=AckPolicy.MANUAL,
                           decoder=_whole_message)
        async def on_message(message: Any) -> None:
            await self._arrived.put(message)

        self._worker = asyncio.create_task(self._run_batches(), name=f"consumer {self.name}")

    async def stop(self) -> None:
        """Stop handling; deliveries not yet acknowledged are redelivered by the broker (the inbox dedups)."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    async def _run_batches(self) -> None:
        while True:
            batch = [await self._arrived.get()]
            while len(batch) < self._batch_size and not self._arrived.empty():
                batch.append(self._arrived.get_nowait())
            try:
                await self.deliver_batch(batch)
            except Exception:
                log.exception("batch delivery failed; its messages will be redelivered",
                              extra={"consumer": self.name})

    async def deliver_batch(self, batch: list[RabbitMessage]) -> None:
        assert self._broker is not None
        ready: list[tuple[RabbitMessage, Envelope, Event]] = []
        for message in batch:
            try:
                envelope = decode_envelope(message.body)
                if not self._handles(envelope.event_type):
                    await message.ack()
                    continue
                event = self._registry.parse(envelope.event_type, envelope.schema_version, envelope.payload)
            except (ContractError, ValidationError):
                await self.deliver(self._broker, message)  # classifies and parks it
                continue
            ready.append((message, envelope, event))
        if not ready:
            return
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                if self._batch_handler is not None:
                    await self._run_batch(conn, [(e, ev, m.headers or {}) for m, e, ev in ready])
                else:
                    fresh = await inbox.claim_many(conn, self.name,
                                                   [(e.event_id, e.event_type) for _, e, _ in ready])
                    for message, envelope, event in ready:
                        if envelope.event_id in fresh:
                            fresh.discard(envelope.event_id)  # a repeat inside the batch runs once
                            await self._run_handler(conn, envelope, event, self._handlers[envelope.event_type],
                                                    message.headers or {})
        except Exception:
            for message, *_ in ready:
                await self.deliver(self._broker, message)
            return
        for message, *_ in ready:
            await message.ack()

    async def deliver(self, broker: RabbitBroker, message: RabbitMessage) -> None:
        headers = dict(message.headers or {})
        attempt = int(headers.get("x-attempt", 1))
        try:
            outcome = await self.process(message.body, message.headers)
            log.debug("message %s", outcome, extra={"consumer": self.name})
        except (ContractError, PermanentError, ValidationError) as exc:
            await self._forward(broker, message, headers, self._names.dead_letter_queue(self.queue),
                                attempt, f"permanent: {exc}", type(exc).__name__)
        except Exception as exc:
            if attempt >= self._max_attempts:
                await self._forward(broker, message, headers, self._names.dead_letter_queue(self.queue),
                                    attempt, f"gave up after {attempt} attempts: {exc!r}", type(exc).__name__)
            else:
                log.warning("transient failure, will retry",
                            extra={"consumer": self.name, "attempt": attempt, "error": repr(exc)})
                await self._forward(broker, message, headers, self._names.retry_queue(self.queue),
                                    attempt + 1, repr(exc), type(exc).__name__, next_attempt=True)
        await message.ack()

    async def _forward(
        self,
        broker: RabbitBroker,
        message: RabbitMessage,
        headers: dict[str, Any],
        queue: str,
        attempt: int,
        reason: str,
        error_class: str,
        *,
        next_attempt: bool = False,
    ) -> None:
        raw: aio_pika.IncomingMessage = message.raw_message
        new_headers = {
            **headers,
            "x-attempt": attempt,
            "x-failure-reason": reason[:2000],
            "x-failure-class": error_class,
            "x-consumer": self.name,
            "x-original-routing-key": headers.get("x-original-routing-key", raw.routing_key or ""),
        }
        try:
            await broker.publish(
                message.body, queue=queue, headers=new_headers, persist=True, mandatory=True,
                message_id=raw.message_id, correlation_id=raw.correlation_id,
                content_type=raw.content_type, message_type=raw.type,
            )
        except Exception:
            log.exception("could not forward failed message; requeueing it", extra={"queue": queue})
            await message.nack(requeue=True)
            raise
        if not next_attempt:
            log.error("message parked in dead-letter queue",
                      extra={"consumer": self.name, "queue": queue, "reason": reason[:500]})
