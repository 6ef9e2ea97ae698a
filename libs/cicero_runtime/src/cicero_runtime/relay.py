"""The outbox relay (ARCHITECTURE rule 2): tail the event store in position order and publish.

Each batch is published with publisher confirms, persistent and mandatory (a returned message raises);
the checkpoint advances only after every message of the batch was confirmed. A failure leaves the
checkpoint where it was and the batch is published again later, so nothing committed is lost (consumers
dedup the repeats through their inbox). One relay per schema publishes at a time (a session advisory
lock), woken by LISTEN/NOTIFY with a polling fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aio_pika
import asyncpg
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection
from cicero_contracts import REGISTRY, EventRegistry
from opentelemetry import trace

from cicero_runtime.db import advisory_key, connect
from cicero_runtime.event_store import EventStore, RecordedEvent
from cicero_runtime.topology import BusNames, declare_exchange
from cicero_runtime.tracing import extract_context, inject_headers, tracer
from cicero_runtime.wakeup import wait_any

log = logging.getLogger(__name__)


def to_message(event: RecordedEvent, headers: dict[str, str]) -> aio_pika.Message:
    body = event.envelope().model_dump_json().encode()
    return aio_pika.Message(
        body,
        message_id=str(event.event_id),
        correlation_id=event.metadata.get("correlation_id"),
        content_type="application/json",
        type=event.event_type,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        timestamp=event.occurred_at,
        headers={
            **headers,
            "x-event-type": event.event_type,
            "x-schema-version": event.schema_version,
            "x-producer": str(event.metadata.get("producer", "")),
        },
    )


class AmqpPublisher:
    """Confirmed, mandatory publishing to the events exchange over a robust connection."""

    def __init__(self, connection: AbstractRobustConnection, names: BusNames) -> None:
        self._connection = connection
        self._names = names
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None

    async def _ensure_exchange(self) -> AbstractExchange:
        if self._channel is None or self._channel.is_closed or self._exchange is None:
            self._channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
            self._exchange = await declare_exchange(self._channel, self._names)
        return self._exchange

    async def publish(self, messages: list[tuple[str, aio_pika.Message]], timeout: float = 30.0) -> None:
        """Publish all and wait for every confirm; raises if any was nacked, returned or timed out."""
        exchange = await self._ensure_exchange()
        results = await asyncio.gather(
            *(exchange.publish(m, routing_key=rk, mandatory=True, timeout=timeout) for rk, m in messages),
            return_exceptions=True,
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            await self.reset()
            raise failures[0]

    async def reset(self) -> None:
        channel, self._channel, self._exchange = self._channel, None, None
        if channel is not None and not channel.is_closed:
            with contextlib.suppress(Exception):
                await channel.close()


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        store: EventStore,
        publisher: AmqpPublisher,
        database_url: str,
        *,
        name: str = "bus",
        batch_size: int = 500,
        poll_interval_s: float = 1.0,
        registry: EventRegistry = REGISTRY,
    ) -> None:
        self._pool = pool
        self._store = store
        self._publisher = publisher
        self._database_url = database_url
        self.name = name
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._registry = registry
        self._wakeup = asyncio.Event()

    async def checkpoint(self) -> int:
        async with self._pool.acquire() as conn:
            value = await conn.fetchval(
                "SELECT position FROM relay_checkpoints WHERE relay_name = $1", self.name
            )
        return int(value or 0)

    async def publish_pending(self) -> int:
        """One pass: publish every committed event after the checkpoint; returns how many were published."""
        total = 0
        while True:
            async with self._pool.acquire() as conn:
                start = await conn.fetchval(
                    "SELECT position FROM relay_checkpoints WHERE relay_name = $1", self.name
                ) or 0
                batch = await self._store.read_after(conn, start, self._batch_size)
            if not batch:
                return total
            await self._publisher.publish([self._prepare(e) for e in batch])
            last = batch[-1].global_position
            async with self._pool.acquire() as conn:
                await conn.execute(
                    """INSERT INTO relay_checkpoints (relay_name, position) VALUES ($1, $2)
                       ON CONFLICT (relay_name) DO UPDATE SET position = $2, updated_at = now()""",
                    self.name,
                    last,
                )
            total += len(batch)

    def _prepare(self, event: RecordedEvent) -> tuple[str, aio_pika.Message]:
        parent = extract_context(event.metadata)
        with tracer("cicero.relay").start_as_current_span(
            f"publish {event.event_type}", context=parent, kind=trace.SpanKind.PRODUCER,
            attributes={"messaging.system": "rabbitmq", "messaging.message.id": str(event.event_id),
                        "cicero.stream_id": event.stream_id},
        ):
            headers = inject_headers()
        return self._registry.routing_key_for(event.event_type), to_message(event, headers)

    async def run(self, stop: asyncio.Event) -> None:
        """Publish forever (until ``stop``), as the single leader of this schema's relay."""
        backoff = 0.2
        while not stop.is_set():
            try:
                await self._run_as_leader(stop)
                backoff = 0.2
            except (TimeoutError, OSError, asyncpg.PostgresError, aio_pika.exceptions.AMQPException) as exc:
                log.warning("relay interrupted, retrying", extra={"error": repr(exc), "relay": self.name})
            except Exception:
                log.exception("relay failed, retrying", extra={"relay": self.name})
            if not stop.is_set():
                await wait_any([stop], backoff)
                backoff = min(backoff * 2, 10.0)

    async def _run_as_leader(self, stop: asyncio.Event) -> None:
        conn = await connect(self._database_url, self._store.schema)
        try:
            key = advisory_key("cicero-relay", self._store.schema, self.name)
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
                if await self._wait(stop):
                    return
            await conn.add_listener(self._store.notify_channel, self._on_notify)
            log.info("relay is leader", extra={"relay": self.name, "schema": self._store.schema})
            while not stop.is_set():
                self._wakeup.clear()
                await self.publish_pending()
                await self._wait(stop)
        finally:
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    def _on_notify(self, *_: object) -> None:
        self._wakeup.set()

    async def _wait(self, stop: asyncio.Event) -> bool:
        """Sleep until notified, polled or stopped; True when stopping."""
        await wait_any([self._wakeup, stop], self._poll_interval_s)
        return stop.is_set()


