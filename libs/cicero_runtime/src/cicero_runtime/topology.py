"""Declare the bus: the durable topic exchange and, per consumer queue, a delayed-retry and a dead-letter queue.

A failed message goes to ``<queue>.retry``, whose TTL dead-letters it back to ``<queue>`` after the
retry delay; a message that can never succeed is parked in ``<queue>.dlq`` with its reason in headers.
Every service declares the whole topology at start so every routing key is routable whichever starts first.
"""

from __future__ import annotations

from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange
from cicero_contracts.names import CONSUMER_QUEUES, EVENTS_EXCHANGE, QueueSpec


@dataclass(frozen=True)
class BusNames:
    """Names on the broker for one deployment namespace (empty in production, random in tests)."""

    namespace: str = ""

    def name(self, base: str) -> str:
        return f"{self.namespace}{base}"

    @property
    def exchange(self) -> str:
        return self.name(EVENTS_EXCHANGE)

    def queue(self, spec: QueueSpec) -> str:
        return self.name(spec.name)

    def retry_queue(self, spec: QueueSpec) -> str:
        return self.name(spec.retry_queue)

    def dead_letter_queue(self, spec: QueueSpec) -> str:
        return self.name(spec.dead_letter_queue)


async def declare_exchange(channel: AbstractChannel, names: BusNames) -> AbstractExchange:
    return await channel.declare_exchange(names.exchange, aio_pika.ExchangeType.TOPIC, durable=True)


async def declare_consumer_queue(
    channel: AbstractChannel, names: BusNames, spec: QueueSpec, retry_delay_ms: int
) -> None:
    exchange = await declare_exchange(channel, names)
    queue = await channel.declare_queue(names.queue(spec), durable=True)
    for pattern in spec.bindings:
        await queue.bind(exchange, routing_key=pattern)
    await channel.declare_queue(
        names.retry_queue(spec),
        durable=True,
        arguments={
            "x-message-ttl": retry_delay_ms,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": names.queue(spec),
        },
    )
    await channel.declare_queue(names.dead_letter_queue(spec), durable=True)


async def declare_topology(
    connection: aio_pika.abc.AbstractConnection,
    names: BusNames,
    retry_delay_ms: int,
    queues: tuple[QueueSpec, ...] = CONSUMER_QUEUES,
) -> None:
    """Idempotent: declaring with the same arguments again is a no-op on the broker."""
    channel = await connection.channel()
    try:
        await declare_exchange(channel, names)
        for spec in queues:
            await declare_consumer_queue(channel, names, spec, retry_delay_ms)
    finally:
        await channel.close()
