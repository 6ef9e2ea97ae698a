"""End-to-end throughput of the event pipeline, against the raw broker as a same-run yardstick.

The pipeline is what every service runs: appends to the event store, the outbox relay publishing with
confirms, and an ``EventConsumer`` whose handler writes a projection row in the inbox transaction. An
absolute rate says little on its own (it moves with the machine and with whatever else runs on it), so
the same process also measures what aio-pika alone achieves for confirmed publishing and acknowledged
consumption of the same messages, and the ratio of the two is the figure to watch.

Usage: ``python bench/pipeline.py [--events N] [--batch B] [--prefetch P] [--writers W]``.
``BENCH_EVENTS`` sets the default N; an explicit ``--events`` wins. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import aio_pika
import asyncpg
from aio_pika.abc import AbstractIncomingMessage
from cicero_contracts.events.scheduler import TickFired, TickPhase
from cicero_contracts.names import INGEST_EVENTS
from cicero_runtime.consumer import EventConsumer, HandlerContext
from cicero_runtime.db import create_pool
from cicero_runtime.event_store import EventStore, RecordedEvent
from cicero_runtime.relay import AmqpPublisher, OutboxRelay, to_message
from cicero_runtime.settings import RuntimeSettings
from cicero_runtime.testing.fixtures import (
    create_schema,
    delete_namespace,
    drop_schema,
    ensure_database,
    test_database_url,
)
from cicero_runtime.topology import BusNames, declare_topology
from faststream.rabbit import Channel, RabbitBroker

DEFAULT_EVENTS = 10_000
DEFAULT_BATCH = 100
DEFAULT_WRITERS = 4
POLL_INTERVAL_S = 0.02
T0 = datetime(2026, 3, 10, 7, 5, tzinfo=UTC)


@dataclass(frozen=True)
class Options:
    events: int
    batch: int
    prefetch: int
    """0 keeps the broker default (FastStream sets no QoS, so RabbitMQ does not limit unacked deliveries)."""
    writers: int
    database_url: str
    amqp_url: str


@dataclass(frozen=True)
class Timing:
    """Wall time decides the figure; this process's CPU time shows whether Python was the limit."""

    elapsed_s: float
    cpu_s: float
    appended_s: float = 0.0

    def cpu_us_per(self, events: int) -> float:
        return self.cpu_s / events * 1e6


def tick(n: int) -> TickFired:
    return TickFired(tick_id=f"bench:{n}", schedule="bench", phase=TickPhase.POST_FETCH,
                     scheduled_for=T0, fired_at=T0)


def sample_message() -> aio_pika.Message:
    """What the relay would send for one bench event, so the baseline moves the same bytes."""
    event = tick(0)
    recorded = RecordedEvent(
        global_position=1, stream_id="bench-0", stream_version=1, event_id=uuid.uuid4(),
        event_type=event.event_type, schema_version=event.schema_version, occurred_at=T0,
        payload=event.model_dump(mode="json"), metadata={"producer": "bench"}, recorded_at=T0,
    )
    return to_message(recorded, {})


async def wait_until(condition: Callable[[], Awaitable[bool]], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not await condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        await asyncio.sleep(POLL_INTERVAL_S)


def time_budget(events: int) -> float:
    """Generous enough for a slow machine, short enough that a stuck pipeline fails instead of hanging."""
    return max(60.0, events / 100)


async def run_pipeline(opts: Options, stack: contextlib.AsyncExitStack, names: BusNames) -> Timing:
    schema = await create_schema(opts.database_url, prefix="bench")
    stack.push_async_callback(drop_schema, opts.database_url, schema)
    pool = await create_pool(opts.database_url, schema)
    stack.push_async_callback(pool.close)
    await pool.execute("CREATE TABLE projection (event_id uuid PRIMARY KEY, tick_id text NOT NULL)")

    amqp = await aio_pika.connect_robust(opts.amqp_url)
    stack.push_async_callback(amqp.close)
    await declare_topology(amqp, names, retry_delay_ms=1000)

    store = EventStore("bench", schema)
    consumer = EventConsumer("bench", INGEST_EVENTS, pool, store, names)

    @consumer.on(TickFired)
    async def project(event: TickFired, ctx: HandlerContext) -> None:
        await ctx.conn.execute("INSERT INTO projection (event_id, tick_id) VALUES ($1, $2)",
                               ctx.envelope.event_id, event.tick_id)

    channel = Channel(prefetch_count=opts.prefetch) if opts.prefetch else None
    broker = RabbitBroker(opts.amqp_url, logger=None, default_channel=channel)
    consumer.attach(broker)
    stack.push_async_callback(broker.stop)
    stack.push_async_callback(consumer.stop)
    await broker.start()

    relay = OutboxRelay(pool, store, AmqpPublisher(amqp, names), opts.database_url)
    stop = asyncio.Event()
    relaying = asyncio.create_task(relay.run(stop), name="relay")

    async def stop_relay() -> None:
        stop.set()
        await asyncio.wait_for(relaying, 15)

    stack.push_async_callback(stop_relay)

    watcher = await asyncpg.connect(opts.database_url, server_settings={"search_path": schema})
    stack.push_async_callback(watcher.close)

    batches = iter(range(opts.events // opts.batch))

    async def writer() -> None:
        for index in batches:
            first = index * opts.batch
            async with pool.acquire() as conn:
                await store.append(conn, f"bench-{index}", [tick(first + i) for i in range(opts.batch)])

    async def all_projected() -> bool:
        count: int = await watcher.fetchval("SELECT count(*) FROM projection")
        return count >= opts.events

    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(writer() for _ in range(opts.writers)))
    appended = time.perf_counter() - started
    await wait_until(all_projected, time_budget(opts.events), "every event in the projection")
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started

    rows, distinct = await watcher.fetchrow("SELECT count(*), count(DISTINCT event_id) FROM projection")
    if (rows, distinct) != (opts.events, opts.events):
        raise RuntimeError(f"projection has {rows} rows ({distinct} distinct), expected {opts.events}")
    return Timing(elapsed_s=elapsed, cpu_s=cpu, appended_s=appended)


async def run_baseline(opts: Options, stack: contextlib.AsyncExitStack, queue_name: str) -> Timing:
    """Confirmed publishing in batches of B while another connection consumes with manual ack."""
    template = sample_message()
    publisher = await aio_pika.connect(opts.amqp_url)
    stack.push_async_callback(publisher.close)
    receiver = await aio_pika.connect(opts.amqp_url)
    stack.push_async_callback(receiver.close)

    consume_channel = await receiver.channel()
    if opts.prefetch:
        await consume_channel.set_qos(prefetch_count=opts.prefetch)
    queue = await consume_channel.declare_queue(queue_name, durable=True)
    publish_channel = await publisher.channel(publisher_confirms=True, on_return_raises=True)

    acked = 0
    done = asyncio.Event()

    async def on_message(message: AbstractIncomingMessage) -> None:
        nonlocal acked
        await message.ack()
        acked += 1
        if acked >= opts.events:
            done.set()

    await queue.consume(on_message)

    def message() -> aio_pika.Message:
        return aio_pika.Message(
            template.body, message_id=str(uuid.uuid4()), content_type=template.content_type,
            type=template.type, delivery_mode=aio_pika.DeliveryMode.PERSISTENT, timestamp=template.timestamp,
            headers=template.headers,
        )

    started, cpu_started = time.perf_counter(), time.process_time()
    for first in range(0, opts.events, opts.batch):
        size = min(opts.batch, opts.events - first)
        await asyncio.gather(*(
            publish_channel.default_exchange.publish(message(), routing_key=queue_name, mandatory=True)
            for _ in range(size)
        ))
    await asyncio.wait_for(done.wait(), time_budget(opts.events))
    return Timing(elapsed_s=time.perf_counter() - started, cpu_s=time.process_time() - cpu_started)


async def bench(opts: Options) -> dict[str, object]:
    if opts.database_url == test_database_url():
        await ensure_database(opts.database_url)
    names = BusNames(f"bench{uuid.uuid4().hex[:10]}.")
    baseline_queue = names.name("bench.baseline")
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(delete_namespace, opts.amqp_url, names, (baseline_queue,))
        async with contextlib.AsyncExitStack() as pipeline_stack:
            pipeline = await run_pipeline(opts, pipeline_stack, names)
        rate = opts.events / pipeline.elapsed_s
        prefetch = opts.prefetch or "broker default (unlimited)"
        print(f"pipeline: {opts.events} events in {pipeline.elapsed_s:.2f} s = {rate:.1f} events/s, "
              f"{pipeline.cpu_us_per(opts.events):.0f} us Python CPU per event (batch {opts.batch}, "
              f"{opts.writers} writers, prefetch {prefetch}; appends done after {pipeline.appended_s:.2f} s "
              f"= {opts.events / pipeline.appended_s:.1f} events/s)", flush=True)
        raw = await run_baseline(opts, stack, baseline_queue)
        baseline = opts.events / raw.elapsed_s
        print(f"baseline: {opts.events} messages in {raw.elapsed_s:.2f} s = {baseline:.1f} messages/s, "
              f"{raw.cpu_us_per(opts.events):.0f} us Python CPU per message (aio-pika confirmed publish "
              f"+ manual-ack consume, same body, batch {opts.batch})", flush=True)
    return {
        "bench": "pipeline",
        "events": opts.events,
        "events_per_s": round(rate, 1),
        "baseline_per_s": round(baseline, 1),
        "ratio": round(rate / baseline, 3),
    }


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    default_events = int(os.environ.get("BENCH_EVENTS") or DEFAULT_EVENTS)
    parser.add_argument("--events", type=int, default=default_events, help="events to push through")
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="events per append transaction")
    parser.add_argument("--prefetch", type=int, default=RuntimeSettings.model_fields["prefetch_count"].default,
                        help="consumer prefetch (default: what the services use); 0 = unlimited")
    parser.add_argument("--writers", type=int, default=DEFAULT_WRITERS, help="concurrent appending tasks")
    args = parser.parse_args(argv)
    if args.batch < 1 or args.events < args.batch or args.events % args.batch:
        parser.error("--events must be a positive multiple of --batch")
    if args.prefetch < 0 or args.writers < 1:
        parser.error("--prefetch must be >= 0 and --writers >= 1")
    return Options(
        events=args.events, batch=args.batch, prefetch=args.prefetch, writers=args.writers,
        database_url=os.environ.get("DATABASE_URL") or test_database_url(),
        amqp_url=os.environ.get("AMQP_URL") or "amqp://guest:guest@127.0.0.1:5672/",
    )


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    result = asyncio.run(bench(opts))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
