"""Two ingest workers on the real broker share a tick's fetch jobs: every client is fetched exactly once."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import aio_pika
from cicero_contracts.names import INGEST_EVENTS
from cicero_ingest.main import build
from cicero_ingest.settings import IngestSettings
from cicero_rapidapi_sim.server import RunningSimulator
from cicero_runtime.testing import wait_for
from cicero_runtime.testing.contracts import envelope_bytes
from cicero_runtime.topology import BusNames

CLIENTS = 50


def dataset(clients: int) -> dict[str, Any]:
    return {"instagram": [
        {"username": f"polres_{n:02d}", "user_id": f"77{n:05d}", "posts": [
            {"code": f"C{n:02d}post{p}", "taken_at": f"2026-03-10T0{8 + p}:00:00+07:00", "caption": f"Giat {p}",
             "likers": [f"user{n}_{i}" for i in range(3)]} for p in range(2)]}
        for n in range(clients)
    ]}


def client(n: int) -> dict[str, Any]:
    return {"client_id": f"POLRES_{n:02d}", "name": f"Polres {n:02d}", "client_type": "ORG", "active": True,
            "instagram_username": f"polres_{n:02d}", "instagram_enabled": True}


async def test_two_workers_fetch_each_of_50_clients_exactly_once_per_tick(
    database_url: str, amqp_url: str, ingest_schema: str, namespace: str, bus_names: BusNames, sim: RunningSimulator,
    settings_for: Callable[..., IngestSettings],
) -> None:
    sim.replace_dataset(dataset(CLIENTS), today="2026-03-10")
    settings = settings_for(sim, database_url, ingest_schema, namespace, amqp_url=amqp_url, health_port=0,
                               relay_poll_interval_s=0.2)
    workers = [build(settings), build(settings)]
    for worker in workers:
        await worker.start(with_health=False, with_background=False)
    try:
        registrar = workers[0].make_consumer("ingest")
        for n in range(CLIENTS):
            assert await registrar.process(envelope_bytes("ClientRegistered", client(n))) == "handled"
        sim.reset_requests()

        tick_id = uuid.uuid4()
        tick = {"tick_id": "post-fetch:2026-03-10T07:05:00Z", "schedule": "post-fetch", "phase": "post_fetch",
                "scheduled_for": "2026-03-10T07:05:00Z", "fired_at": "2026-03-10T07:05:01Z"}
        connection = await aio_pika.connect(amqp_url)
        try:
            channel = await connection.channel()
            for _ in range(2):  # delivered twice: the second is a duplicate and enqueues nothing
                await channel.default_exchange.publish(
                    aio_pika.Message(envelope_bytes("TickFired", tick, event_id=tick_id)),
                    routing_key=bus_names.queue(INGEST_EVENTS))
        finally:
            await connection.close()

        async def completed() -> list[str]:
            async with workers[0].pool.acquire() as conn:
                rows = await conn.fetch(
                    "SELECT payload->>'client_id' AS c FROM events WHERE event_type = 'ClientFetchCompleted'")
            return [r["c"] for r in rows]

        await wait_for(lambda: _at_least(completed(), CLIENTS), timeout=60, what="50 clients fetched")
        done = Counter(await completed())
        assert len(done) == CLIENTS and set(done.values()) == {1}, "a client was fetched twice or not at all"
        posts_calls = Counter(r.query.get("username_or_id_or_url") for r in sim.state.faults.log()
                              if r.path == "/v1/posts")
        assert len(posts_calls) == CLIENTS and set(posts_calls.values()) == {1}
        async with workers[0].pool.acquire() as conn:
            jobs = await conn.fetchval("SELECT count(*) FROM events WHERE event_type = 'ClientFetchRequested'")
        assert jobs == CLIENTS
    finally:
        for worker in workers:
            await worker.stop()


async def _at_least(rows: Any, count: int) -> bool:
    return len(await rows) >= count
