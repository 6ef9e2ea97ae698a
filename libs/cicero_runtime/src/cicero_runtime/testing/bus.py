"""Look at what is in a queue on the real broker (tests)."""

from __future__ import annotations

import aio_pika
from aio_pika.abc import AbstractIncomingMessage


async def drain(amqp_url: str, queue: str) -> list[AbstractIncomingMessage]:
    """Take every message currently in ``queue`` (acknowledged on receipt)."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        q = await channel.get_queue(queue, ensure=True)
        messages = []
        while (message := await q.get(fail=False, no_ack=True)) is not None:
            messages.append(message)
        return messages
    finally:
        await connection.close()
