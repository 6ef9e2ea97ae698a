"""Notifier: task-notification decisions for 1,000 clients in one tick.

1. Pure: ``task_decision.decide`` alone over the tick's 1,000 clients (facts built beforehand), best of
   several rounds — what the rules cost in Python.
2. Handler: the same tick as 1,000 ``ClientFetchCompleted`` envelopes handed one by one to the notifier
   consumer's ``process`` (as ``cicero_notifier.main.build`` wires it) on a fresh schema in the real
   PostgreSQL: decode, inbox claim, directory and state reads, the decision, the ledger insert, the
   ``WhatsAppMessageRequested`` appends and the state write, one transaction per event.

The tick is 14:05 WIB; every client has 2 WhatsApp groups, 10 posts today (6 Instagram, 4 TikTok) and the
state of its 13:05 fetch (slot 13@05 notified, a baseline without the newest post for every third client),
so every decision sends a scheduled list to both groups and a third of them carry a change. The setup
(clients and state written with SQL) is not timed. The run checks the requests it produced and fails if
they are wrong. Everything created is removed afterwards (schema, bus namespace), also when the run fails.

Usage: ``python bench/_notifier_decisions.py [--clients N] [--rounds R]``; the last line printed is JSON.
``bench_decisions()`` returns the same figures as a dict.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cicero_contracts.events.common import Platform, PostRef, TaskPost
from cicero_contracts.events.ingest import ClientFetchCompleted, FetchChanges
from cicero_contracts.events.scheduler import TickPhase
from cicero_notifier.main import build
from cicero_notifier.settings import NotifierSettings
from cicero_notifier.task_decision import Client, Fetch, TaskState, decide
from cicero_runtime.consumer import Outcome
from cicero_runtime.testing.contracts import event_envelope_bytes
from cicero_runtime.testing.fixtures import (
    create_service_schema,
    delete_namespace,
    drop_schema,
    ensure_database,
    service_settings,
    started_service,
    test_database_url,
)

DAY = date(2026, 3, 10)
TICK = datetime(2026, 3, 10, 7, 5, tzinfo=UTC)  # 14:05 WIB
PREVIOUS = TICK - timedelta(hours=1)
SLOT_BEFORE = "2026-03-10-13@05"
GROUPS_PER_CLIENT = 2


def client_facts(n: int) -> Client:
    return Client(f"POLRES_{n:04d}", f"Polres Bench {n}",
                  tuple(f"1203630{n:07d}{g:04d}@g.us" for g in range(GROUPS_PER_CLIENT)))


def todays_posts(n: int, count: int) -> tuple[TaskPost, ...]:
    posts = []
    for k in range(count):
        platform = Platform.INSTAGRAM if k < count * 6 // 10 else Platform.TIKTOK
        post_id = f"{n}-{k}"
        link = (f"https://www.instagram.com/p/B{post_id}/" if platform is Platform.INSTAGRAM
                else f"https://www.tiktok.com/@polres{n}/video/{post_id}")
        posts.append(TaskPost(platform=platform, post_id=post_id, link=link,
                              caption=f"Giat patroli dialogis ke-{k} bersama warga #polri #presisi",
                              published_at=datetime(2026, 3, 10, 0, 30, tzinfo=UTC) + timedelta(minutes=37 * k),
                              like_count=1200 + 37 * k, comment_count=4 + k))
    return tuple(posts)


def previous_baseline(n: int, posts: tuple[TaskPost, ...]) -> tuple[PostRef, ...]:
    """Every third client got a post since 13:05: its baseline lacks the newest one."""
    kept = posts[:-1] if n % 3 == 0 else posts
    return tuple(PostRef(platform=p.platform, post_id=p.post_id, link=p.link) for p in kept)


def tick_event(n: int, posts: tuple[TaskPost, ...]) -> ClientFetchCompleted:
    added = [PostRef(platform=posts[-1].platform, post_id=posts[-1].post_id, link=posts[-1].link)] if n % 3 == 0 else []
    return ClientFetchCompleted(client_id=client_facts(n).client_id, tick_id="post-fetch:2026-03-10T07:05:00Z",
                                phase=TickPhase.POST_FETCH, wib_date=DAY, fetched_at=TICK, posts=list(posts),
                                changes=FetchChanges(added=added))


# -- 1. the pure function -------------------------------------------------------------------------------
def bench_pure(clients: int, posts_per_client: int, rounds: int) -> dict[str, Any]:
    cases = []
    for n in range(clients):
        posts = todays_posts(n, posts_per_client)
        state = TaskState(last_notified_slot=SLOT_BEFORE, baseline_day=DAY, baseline=previous_baseline(n, posts),
                          last_fetched_at=PREVIOUS)
        cases.append((Fetch.of(tick_event(n, posts)), client_facts(n), state))
    best = float("inf")
    messages = 0
    for _ in range(rounds):
        started = time.perf_counter()
        messages = sum(len(decide(fetch, client, state).messages) for fetch, client, state in cases)
        best = min(best, time.perf_counter() - started)
    if messages != clients * GROUPS_PER_CLIENT:
        raise AssertionError(f"pure decisions produced {messages} messages, expected {clients * GROUPS_PER_CLIENT}")
    result = {"pure_decisions_per_s": round(clients / best), "pure_us_per_decision": round(best / clients * 1e6, 1)}
    print(f"pure decide(): {clients} clients × {posts_per_client} posts in {best * 1000:.1f} ms (best of {rounds}) = "
          f"{result['pure_decisions_per_s']} decisions/s, {result['pure_us_per_decision']} µs each")
    return result


# -- 2. the real handler path ---------------------------------------------------------------------------
async def bench_handler(clients: int, posts_per_client: int) -> dict[str, Any]:
    url = test_database_url()
    amqp_url = os.environ.get("AMQP_URL") or "amqp://guest:guest@127.0.0.1:5672/"
    await ensure_database(url)
    schema = await create_service_schema(url, "notifier")
    namespace = f"bench{uuid.uuid4().hex[:8]}."
    settings = service_settings(NotifierSettings, url, schema, namespace, amqp_url=amqp_url)
    service = build(settings)
    try:
        async with started_service(service):
            events = []
            async with service.pool.acquire() as conn, conn.transaction():
                for n in range(clients):
                    client, posts = client_facts(n), todays_posts(n, posts_per_client)
                    await conn.execute(
                        """INSERT INTO clients (client_id, name, client_type, active, whatsapp_groups)
                           VALUES ($1, $2, 'ORG', true, $3)""", client.client_id, client.name, list(client.groups))
                    await conn.execute(
                        """INSERT INTO client_state (client_id, last_counts, last_notified_slot, last_notified_at,
                                                     baseline_date, baseline, last_fetched_at)
                           VALUES ($1, '{}', $2, $3, $4, $5, $3)""",
                        client.client_id, SLOT_BEFORE, PREVIOUS, DAY,
                        [r.model_dump(mode="json") for r in previous_baseline(n, posts)])
                    events.append(event_envelope_bytes(tick_event(n, posts), event_id=uuid.uuid4()))
                await conn.execute("ANALYZE")
            consumer = service.make_consumer("notifier")
            cpu, started = time.process_time(), time.perf_counter()
            for body in events:
                if await consumer.process(body) != Outcome.HANDLED:
                    raise AssertionError("a tick event was not handled")
            seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
            requested = await service.pool.fetchval(
                "SELECT count(*) FROM events WHERE event_type = 'WhatsAppMessageRequested'")
            lists = await service.pool.fetchval(
                "SELECT count(*) FROM notifications WHERE purpose = 'task_list' AND slot = '2026-03-10-14@05'")
            baselines = await service.pool.fetchval(
                "SELECT count(*) FROM client_state WHERE last_fetched_at = $1 AND jsonb_array_length(baseline) = $2",
                TICK, posts_per_client)
    finally:
        await delete_namespace(amqp_url, service.names)
        await drop_schema(url, schema)
    expected = clients * GROUPS_PER_CLIENT
    if (requested, lists, baselines) != (expected, expected, clients):
        raise AssertionError(f"handler path: {requested} requests, {lists} lists, {baselines} baselines written; "
                             f"expected {expected}, {expected}, {clients}")
    result = {"handler_decisions_per_s": round(clients / seconds),
              "handler_ms_per_decision": round(seconds / clients * 1000, 2),
              "handler_cpu_ms_per_decision": round(cpu_s / clients * 1000, 2), "messages_requested": requested}
    print(f"handler: {clients} ClientFetchCompleted through consumer.process in {seconds:.2f}s = "
          f"{result['handler_decisions_per_s']} decisions/s ({result['handler_ms_per_decision']} ms each, "
          f"{result['handler_cpu_ms_per_decision']} ms CPU in this process), {requested} WhatsApp requests")
    return result


async def bench_decisions(clients: int = 1000, posts_per_client: int = 10, rounds: int = 5) -> dict[str, Any]:
    """Both figures for one tick of ``clients`` clients; printed as they are measured and returned."""
    result: dict[str, Any] = {"bench": "notifier_decisions", "clients": clients, "posts_per_client": posts_per_client}
    result |= bench_pure(clients, posts_per_client, rounds)
    result |= await bench_handler(clients, posts_per_client)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(bench_decisions(args.clients, args.posts, args.rounds))))


if __name__ == "__main__":
    main()
