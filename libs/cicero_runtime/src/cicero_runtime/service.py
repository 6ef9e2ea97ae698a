"""The bootstrap every service shares: settings → logging, tracing, pool, bus, relay, health, consumers.

A service builds a ``Service`` with its name and schema, registers its consumers' handlers, and hands
it to ``run_cli`` which provides the common ``migrate`` / ``run`` / ``health`` commands.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import aio_pika
import asyncpg
from aio_pika.abc import AbstractRobustConnection
from cicero_contracts.names import QueueSpec
from faststream.rabbit import Channel, RabbitBroker, RabbitQueue
from pydantic import BaseModel, ValidationError

from cicero_runtime.consumer import EventConsumer
from cicero_runtime.db import create_pool
from cicero_runtime.event_store import EventStore
from cicero_runtime.health import HealthServer, probe
from cicero_runtime.logs import configure_logging
from cicero_runtime.migrate import migrate
from cicero_runtime.relay import AmqpPublisher, OutboxRelay
from cicero_runtime.settings import RuntimeSettings
from cicero_runtime.topology import BusNames, declare_topology
from cicero_runtime.tracing import setup_tracing, shutdown_tracing

log = logging.getLogger(__name__)

T = TypeVar("T")
BackgroundTask = Callable[["Service", asyncio.Event], Coroutine[Any, Any, None]]
Responder = Callable[[bytes], Awaitable[BaseModel]]
"""Answers one request body with a reply model; it should answer every request, never raise."""


class Service:
    """One running service process and the resources it owns."""

    def __init__(self, name: str, default_schema: str, settings: RuntimeSettings) -> None:
        self.name = name
        self.settings = settings
        self.schema = settings.db_schema or default_schema
        self.sql_label = default_schema
        self.names = BusNames(settings.namespace)
        self.store = EventStore(producer=name, schema=self.schema)
        self._consumer_specs: list[tuple[str, QueueSpec, Callable[[EventConsumer], None]]] = []
        self._batch_sizes: dict[str, int] = {}
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self._background: list[BackgroundTask] = []
        self._responders: list[tuple[str, Responder]] = []
        self.consumers: list[EventConsumer] = []
        self.stop_event = asyncio.Event()
        self._pool: asyncpg.Pool | None = None
        self._amqp: AbstractRobustConnection | None = None
        self.broker: RabbitBroker | None = None
        self.relay: OutboxRelay | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._health: HealthServer | None = None

    # -- wiring -------------------------------------------------------------------------------------
    def consumer(
        self, inbox_name: str, queue: QueueSpec, register: Callable[[EventConsumer], None],
        *, batch_size: int | None = None,
    ) -> None:
        """Declare a consumer; ``register`` adds its handlers once the pool exists.

        ``batch_size=1`` suits handlers that do slow outside work (HTTP): each message commits on its own.
        """
        self._consumer_specs.append((inbox_name, queue, register))
        if batch_size is not None:
            self._batch_sizes[inbox_name] = batch_size

    def responder(self, queue: str, handler: Responder) -> None:
        """Answer requests sent with ``broker.request`` to ``queue`` (namespaced); the returned model is
        published to the request's ``reply_to``. Runs with the consumers.

        The queue is neither durable nor kept without a consumer: a request while no responder runs is
        returned unroutable at once, rather than answered long after its caller gave up.
        """
        self._responders.append((queue, handler))

    def declared_consumers(self) -> list[tuple[str, QueueSpec, Callable[[EventConsumer], None]]]:
        """The consumers as wired (inbox name, queue, handler registration), for tools that must know what a
        service consumes without starting it."""
        return list(self._consumer_specs)

    def on_stop(self, close: Callable[[], Awaitable[None]]) -> None:
        """Release an adapter (an HTTP client, a Redis connection) when the service stops."""
        self._closers.append(close)

    def make_consumer(self, inbox_name: str) -> EventConsumer:
        """The consumer exactly as ``run`` wires it; tests call its ``process`` without a broker."""
        for name, queue, register in self._consumer_specs:
            if name == inbox_name:
                consumer = EventConsumer(name, queue, self.pool, self.store, self.names,
                                         max_attempts=self.settings.max_attempts)
                register(consumer)
                return consumer
        raise KeyError(f"no consumer {inbox_name!r} in service {self.name}")

    def background(self, task: BackgroundTask) -> None:
        """A long-running loop (delivery worker, scheduler clock) started with the service."""
        self._background.append(task)

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("service not started")
        return self._pool

    # -- lifecycle ----------------------------------------------------------------------------------
    async def start(
        self, *, with_relay: bool = True, with_consumers: bool = True, with_health: bool = True,
        with_background: bool = True,
    ) -> None:
        self._pool = await self._with_retries("database", lambda: create_pool(self.settings.database_url,
                                                                               self.schema))
        self._amqp = await self._with_retries("broker", lambda: aio_pika.connect_robust(self.settings.amqp_url))
        await declare_topology(self._amqp, self.names, self.settings.retry_delay_ms)
        if with_relay:
            self.relay = OutboxRelay(
                self.pool, self.store, AmqpPublisher(self._amqp, self.names), self.settings.database_url,
                batch_size=self.settings.relay_batch_size, poll_interval_s=self.settings.relay_poll_interval_s,
            )
            self._tasks.append(asyncio.create_task(self.relay.run(self.stop_event), name="relay"))
        if with_consumers and (self._consumer_specs or self._responders):
            self.broker = RabbitBroker(
                self.settings.amqp_url,
                default_channel=Channel(prefetch_count=self.settings.prefetch_count),
                logger=logging.getLogger(f"cicero.{self.name}.broker"),
                log_level=logging.DEBUG,
            )
            await self.broker.connect()
            for inbox_name, _, _ in self._consumer_specs:
                consumer = self.make_consumer(inbox_name)
                consumer.attach(self.broker,
                                batch_size=self._batch_sizes.get(inbox_name, self.settings.consumer_batch_size))
                self.consumers.append(consumer)
            for queue, handler in self._responders:
                _attach_responder(self.broker, self.names.name(queue), handler)
            await self.broker.start()
        for task in self._background if with_background else []:
            self._tasks.append(asyncio.create_task(task(self, self.stop_event), name=task.__name__))
        if with_health:
            self._health = HealthServer(
                {"database": self._check_database, "broker": self._check_broker},
                port=self.settings.health_port,
            )
            await self._health.start()
        log.info("service started", extra={"schema": self.schema, "namespace": self.settings.namespace})

    @contextlib.asynccontextmanager
    async def one_shot(self, *, publishing: bool) -> AsyncIterator[Service]:
        """The service for a one-shot command (or a test): pool, store and topology, no consumers, health
        or loops; with ``publishing`` its relay runs too, so ``wait_published`` can see events out."""
        await self.start(with_relay=publishing, with_consumers=False, with_health=False, with_background=False)
        try:
            yield self
        finally:
            await self.stop()

    async def _with_retries(self, what: str, connect: Callable[[], Awaitable[T]]) -> T:
        """Wait for a dependency that is still starting (compose, a rebooting broker), then give up clearly."""
        deadline = asyncio.get_running_loop().time() + self.settings.startup_timeout_s
        delay = 0.5
        while True:
            try:
                return await connect()
            except (OSError, asyncpg.PostgresError, aio_pika.exceptions.AMQPException) as exc:
                if asyncio.get_running_loop().time() + delay > deadline:
                    raise ConnectionError(f"{what} unreachable after {self.settings.startup_timeout_s:.0f}s: {exc}"
                                          ) from exc
                log.warning("waiting for %s: %s", what, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def wait_published(self, position: int, timeout: float = 30.0) -> None:
        """Block until the relay (this process's, or the running service's) published up to ``position``.

        One-shot commands (``fire``, ``import-clients``) use this so they return only once their events
        are on the bus, whether or not the long-running service is up.
        """
        if self.relay is None:
            raise RuntimeError("started without a relay")
        relay = self.relay

        async def published() -> bool:
            return await relay.checkpoint() >= position

        deadline = asyncio.get_running_loop().time() + timeout
        while not await published():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"events up to position {position} not published within {timeout}s")
            await asyncio.sleep(0.05)

    async def _check_database(self) -> None:
        async with self.pool.acquire() as conn:
            await conn.fetchval("SELECT 1")

    async def _check_broker(self) -> None:
        if self._amqp is None or self._amqp.is_closed:
            raise ConnectionError("broker connection closed")

    async def stop(self) -> None:
        self.stop_event.set()
        if self._health is not None:
            await self._health.stop()
        for consumer in self.consumers:
            await consumer.stop()
        if self.broker is not None:
            await self.broker.stop()
        for task in self._tasks:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, 10)
        for close in self._closers:
            try:
                await close()
            except Exception:
                log.exception("closing an adapter failed")
        if self._amqp is not None:
            await self._amqp.close()
        if self._pool is not None:
            await self._pool.close()
        log.info("service stopped")

    async def run_forever(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop_event.set)
        await self.start()
        try:
            await self.stop_event.wait()
        finally:
            await self.stop()


async def _raw_body(message: Any) -> bytes:
    body: bytes = message.body
    return body


def _attach_responder(broker: RabbitBroker, queue: str, handler: Responder) -> None:
    @broker.subscriber(RabbitQueue(queue, durable=False, auto_delete=True), decoder=_raw_body)
    async def respond(body: bytes) -> bytes:
        reply = await handler(body)
        return reply.model_dump_json().encode()


Command = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


def run_cli(
    name: str,
    default_schema: str,
    build: Callable[[RuntimeSettings], Service],
    settings_factory: Callable[[], RuntimeSettings] = RuntimeSettings,
    extra_commands: Callable[[argparse._SubParsersAction[Any], Callable[[], Service]], None] | None = None,
    argv: list[str] | None = None,
) -> int:
    """The console-script entry point shared by every service."""
    parser = argparse.ArgumentParser(prog=f"cicero-{name}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the service until SIGTERM")
    sub.add_parser("migrate", help="apply the database migrations of this service")
    sub.add_parser("health", help="exit 0 when the running service reports healthy")
    try:
        settings = settings_factory()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors())
        print(f"cicero-{name}: invalid settings: {problems}", file=sys.stderr)
        return 2

    def make_service() -> Service:
        return build(settings)

    if extra_commands is not None:
        extra_commands(sub, make_service)
    args = parser.parse_args(argv)
    # a long-running service logs to stdout (containers); a one-shot command keeps stdout for its result
    configure_logging(f"cicero-{name}", settings.log_format, settings.log_level,
                      stream=sys.stdout if args.command == "run" else sys.stderr)

    if args.command == "health":
        ok, detail = probe(settings.health_port)
        print(detail)
        return 0 if ok else 1
    setup_tracing(f"cicero-{name}", settings.otel_exporter_otlp_endpoint, settings.otel_service_namespace)
    try:
        if args.command == "migrate":
            schema = settings.db_schema or default_schema
            applied = asyncio.run(
                migrate(settings.database_url, schema, Path(settings.sql_dir) / default_schema, default_schema)
            )
            print(f"{schema}: {len(applied)} migration(s) applied" + "".join(f"\n  {a}" for a in applied))
            return 0
        if args.command == "run":
            asyncio.run(make_service().run_forever())
            return 0
        handler: Command = args.handler
        return asyncio.run(handler(args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        log.exception("command failed")
        print(f"cicero-{name} {args.command}: {exc}", file=sys.stderr)
        return 1
    finally:
        shutdown_tracing()
