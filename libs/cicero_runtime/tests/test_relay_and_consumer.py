"""Relay and consumer against the real broker: outages lose nothing, failures are classified."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import ClassVar

import aio_pika
import asyncpg
import pytest
import pytest_asyncio
from cicero_contracts import EventRegistry
from cicero_contracts.events.scheduler import TickFired, TickPhase
from cicero_contracts.names import INGEST_EVENTS
from cicero_runtime.consumer import BatchContext, BatchItem, EventConsumer, HandlerContext
from cicero_runtime.event_store import EventStore
from cicero_runtime.relay import AmqpPublisher, OutboxRelay
from cicero_runtime.testing import wait_for
from cicero_runtime.testing.bus import drain
from cicero_runtime.testing.tcp_proxy import TcpProxy
from cicero_runtime.topology import BusNames, declare_topology
from faststream.rabbit import RabbitBroker

T0 = datetime(2026, 3, 10, 7, 5, tzinfo=UTC)


def tick(n: int, schedule: str = "test") -> TickFired:
    return TickFired(tick_id=f"{schedule}:{n}", schedule=schedule, phase=TickPhase.POST_FETCH,
                     scheduled_for=T0, fired_at=T0)


def applying_consumer(pool: asyncpg.Pool, store: EventStore, names: BusNames, max_attempts: int = 3
                      ) -> EventConsumer:
    consumer = EventConsumer("test-consumer", INGEST_EVENTS, pool, store, names, max_attempts=max_attempts)

    @consumer.on(TickFired)
    async def apply(event: TickFired, ctx: HandlerContext) -> None:
        if event.schedule == "always-fails":
            raise RuntimeError("downstream unavailable")
        await ctx.conn.execute("INSERT INTO applied (event_id, tick_id) VALUES ($1, $2)",
                               ctx.envelope.event_id, event.tick_id)

    return consumer


@pytest_asyncio.fixture
async def applied_table(pool: asyncpg.Pool) -> None:
    await pool.execute("CREATE TABLE applied (event_id uuid NOT NULL, tick_id text NOT NULL)")


@pytest_asyncio.fixture
async def broker(amqp_url: str) -> AsyncIterator[RabbitBroker]:
    b = RabbitBroker(amqp_url, logger=None)
    yield b
    await b.stop()


async def test_relay_loses_nothing_when_the_broker_connection_is_cut(
    pool: asyncpg.Pool, schema: str, database_url: str, amqp_url: str, bus_names: BusNames,
    applied_table: None, broker: RabbitBroker,
) -> None:
    proxy = TcpProxy("127.0.0.1", int(amqp_url.rsplit(":", 1)[1].split("/")[0]))
    await proxy.start()
    relay_amqp = await aio_pika.connect_robust(
        f"amqp://guest:guest@127.0.0.1:{proxy.port}/", reconnect_interval=0.2
    )
    await declare_topology(relay_amqp, bus_names, retry_delay_ms=200)
    store = EventStore("test", schema)
    relay = OutboxRelay(pool, store, AmqpPublisher(relay_amqp, bus_names), database_url,
                        batch_size=50, poll_interval_s=0.2)
    consumer = applying_consumer(pool, store, bus_names)
    consumer.attach(broker)
    await broker.start()
    stop = asyncio.Event()
    relaying = asyncio.create_task(relay.run(stop))
    total, cuts = 3000, 0
    try:
        for start in range(0, total, 100):
            async with pool.acquire() as conn:
                await store.append(conn, f"s-{start}", [tick(start + i) for i in range(100)])
            checkpoint = await relay.checkpoint()
            if cuts < 3 and 0 < checkpoint < total and start >= 600 * (cuts + 1):
                proxy.cut()  # mid-relay: batches are in flight
                cuts += 1
        await wait_for(lambda: pool.fetchval("SELECT count(DISTINCT event_id) = $1 FROM applied", total),
                       timeout=60, what="every event applied")
        async with pool.acquire() as conn:
            rows, distinct = await conn.fetchrow("SELECT count(*), count(DISTINCT event_id) FROM applied")
            last = await store.last_position(conn)
        assert cuts == 3
        assert (rows, distinct) == (total, total), "an event was applied twice or lost"
        await wait_for(lambda: _eq(relay.checkpoint(), last), timeout=10, what="checkpoint at the end")
    finally:
        stop.set()
        await asyncio.wait_for(relaying, 15)
        await relay_amqp.close()
        await proxy.stop()


async def _eq(value: object, expected: int) -> bool:
    return await value == expected  # type: ignore[misc]


async def publish_raw(amqp_url: str, queue: str, body: bytes, message_id: str | None = None) -> None:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        await channel.default_exchange.publish(
            aio_pika.Message(body, message_id=message_id, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=queue,
        )
    finally:
        await connection.close()




def envelope(event: TickFired, event_id: uuid.UUID | None = None, **payload_changes: object) -> bytes:
    payload = event.model_dump(mode="json") | payload_changes
    return json.dumps({
        "event_id": str(event_id or uuid.uuid4()), "event_type": "TickFired", "schema_version": 1,
        "occurred_at": "2026-03-10T07:05:00Z", "producer": "test", "stream_id": "tick:x",
        "stream_version": 1, "payload": {k: v for k, v in payload.items() if v is not None},
    }).encode()


async def test_bad_messages_are_parked_with_their_reason_and_the_consumer_goes_on(
    pool: asyncpg.Pool, schema: str, amqp_url: str, bus_names: BusNames, applied_table: None,
    broker: RabbitBroker,
) -> None:
    connection = await aio_pika.connect_robust(amqp_url)
    await declare_topology(connection, bus_names, retry_delay_ms=100)
    await connection.close()
    store = EventStore("test", schema)
    consumer = applying_consumer(pool, store, bus_names, max_attempts=3)
    consumer.attach(broker)
    await broker.start()
    queue = bus_names.queue(INGEST_EVENTS)
    dlq = bus_names.dead_letter_queue(INGEST_EVENTS)

    await publish_raw(amqp_url, queue, envelope(tick(1), phase=None))          # invalid payload
    await publish_raw(amqp_url, queue, b"not json at all")                       # undecodable
    await publish_raw(amqp_url, queue, envelope(tick(2, "always-fails")))       # transient, never recovers
    duplicate_id = uuid.uuid4()
    await publish_raw(amqp_url, queue, envelope(tick(3), duplicate_id))          # good, twice
    await publish_raw(amqp_url, queue, envelope(tick(3), duplicate_id))
    await publish_raw(amqp_url, queue, envelope(tick(4)))                        # good

    parked: list[aio_pika.abc.AbstractIncomingMessage] = []

    async def three_parked() -> bool:
        parked.extend(await drain(amqp_url, dlq))
        return len(parked) >= 3

    await wait_for(three_parked, timeout=20, what="three messages in the dead-letter queue")
    await wait_for(lambda: pool.fetchval("SELECT count(*) = 2 FROM applied"), timeout=10, what="good ones")

    reasons = {str(m.headers["x-failure-class"]): m.headers for m in parked}
    invalid = reasons["InvalidPayload"]
    assert "phase" in str(invalid["x-failure-reason"]) and invalid["x-attempt"] == 1
    assert "not JSON" in str(reasons["ContractError"]["x-failure-reason"])
    gave_up = reasons["RuntimeError"]
    assert gave_up["x-attempt"] == 3
    assert "gave up after 3 attempts" in str(gave_up["x-failure-reason"])
    assert "downstream unavailable" in str(gave_up["x-failure-reason"])
    assert sorted(r["tick_id"] for r in await pool.fetch("SELECT tick_id FROM applied")) == ["test:3", "test:4"]
    assert await drain(amqp_url, bus_names.retry_queue(INGEST_EVENTS)) == []


class _Unroutable(TickFired):
    event_type: ClassVar[str] = "Unroutable"
    routing_key: ClassVar[str] = "nowhere.Unroutable"


async def test_a_returned_message_keeps_the_checkpoint_where_it_was(
    pool: asyncpg.Pool, schema: str, database_url: str, amqp_url: str, bus_names: BusNames
) -> None:
    connection = await aio_pika.connect_robust(amqp_url)
    try:
        await declare_topology(connection, bus_names, retry_delay_ms=200)
        store = EventStore("test", schema)
        relay = OutboxRelay(pool, store, AmqpPublisher(connection, bus_names), database_url,
                            registry=EventRegistry((TickFired, _Unroutable)))
        async with pool.acquire() as conn:
            await store.append(conn, "ok", [tick(1)])
            await store.append(conn, "lost", [_Unroutable(**tick(2).model_dump())])
        with pytest.raises(aio_pika.exceptions.DeliveryError):
            await relay.publish_pending()
        assert await relay.checkpoint() == 0, "a batch with a returned message must be published again"
        assert len(await drain(amqp_url, bus_names.queue(INGEST_EVENTS))) == 1  # the routable one arrived
    finally:
        await connection.close()


async def test_a_batch_handler_sees_each_fresh_event_once_and_a_poisoned_batch_falls_back_to_one_by_one(
    pool: asyncpg.Pool, schema: str, amqp_url: str, bus_names: BusNames, applied_table: None,
    broker: RabbitBroker,
) -> None:
    connection = await aio_pika.connect_robust(amqp_url)
    await declare_topology(connection, bus_names, retry_delay_ms=100)
    await connection.close()
    consumer = EventConsumer("batch-consumer", INGEST_EVENTS, pool, EventStore("test", schema), bus_names,
                             max_attempts=2)
    sizes: list[int] = []

    async def apply_batch(items: list[BatchItem], ctx: BatchContext) -> None:
        if any(isinstance(i.event, TickFired) and i.event.schedule == "poison" for i in items):
            raise RuntimeError("poisoned batch")
        sizes.append(len(items))
        for item in items:
            assert item.metadata.causation_id == str(item.envelope.event_id)
        await ctx.conn.executemany("INSERT INTO applied (event_id, tick_id) VALUES ($1, $2)",
                                   [(i.envelope.event_id, i.event.tick_id) for i in items])  # type: ignore[attr-defined]

    consumer.on_batch(apply_batch, TickFired)
    with pytest.raises(RuntimeError, match="batch handler"):
        consumer.on(TickFired)
    queue = bus_names.queue(INGEST_EVENTS)
    duplicate = uuid.uuid4()
    for n in range(200):  # queued before the consumer starts, so batches fill up
        await publish_raw(amqp_url, queue, envelope(tick(n), duplicate if n in (10, 150) else None))
        if n == 100:
            await publish_raw(amqp_url, queue, envelope(tick(n, "poison")))
    consumer.attach(broker, batch_size=50)
    await broker.start()

    parked: list[aio_pika.abc.AbstractIncomingMessage] = []

    async def poison_parked() -> bool:
        parked.extend(await drain(amqp_url, bus_names.dead_letter_queue(INGEST_EVENTS)))
        return len(parked) == 1

    await wait_for(poison_parked, timeout=20, what="the poisoned message in the dead-letter queue")
    await wait_for(lambda: pool.fetchval("SELECT count(*) = 199 FROM applied"), timeout=10, what="the rest")
    assert "poisoned batch" in str(parked[0].headers["x-failure-reason"])
    assert await pool.fetchval("SELECT count(DISTINCT event_id) FROM applied") == 199  # the duplicate once
    assert max(sizes) > 1  # really batched
