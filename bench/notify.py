"""Notifications: the WhatsApp gateway's delivery throughput (and the notifier's decisions, when present).

Sections, each an ``async def bench_<name>() -> dict`` whose figures are merged into the last line:

* ``gateway`` (this file): N ``WhatsAppMessageRequested`` (default 2,000, each to its own chat, half
  ``broadcast`` groups, half ``operator`` numbers) published beforehand (not timed) to the gateway's queue on
  a fresh bus namespace; then the gateway built by ``cicero_wa_gateway.main.build`` with production settings
  apart from the server addresses (provider ``waha``, pacing off) is started with its relay, consumer and
  delivery worker, against the fake WhatsApp provider run as a **separate process** on loopback (its CPU is
  not on the measured event loop). Timed from the service's start (a fraction of a second of it is
  connecting) until all N outbox rows are ``sent``; then checked: N deliveries at the fake, none twice, N
  ``WhatsAppMessageSent`` events.
* ``decisions``: ``bench/_notifier_decisions.py`` (``bench_decisions``), run when that file exists.
* ``reminders``: ``bench/_notifier_reminders.py`` (``bench_reminders``): one reminder run of 50,000 personal
  messages (``--people``) in a measured child process; ``reminder_peak_rss_mb`` is that process's peak
  resident set (``getrusage``), ``reminder_rss_before_mb`` what it held just before the tick.

Usage: ``python bench/notify.py [--only gateway|decisions|reminders] [--messages N] [--people N]``. The last
line printed is JSON.
Everything created (schema, namespace, fake process) is removed afterwards, also when the run fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import importlib.util
import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import httpx
from cicero_contracts.names import WA_GATEWAY_REQUESTS
from cicero_runtime.testing.contracts import envelope_bytes
from cicero_runtime.testing.fixtures import (
    create_service_schema,
    delete_namespace,
    drop_schema,
    ensure_database,
    service_settings,
    test_database_url,
)
from cicero_runtime.topology import BusNames, declare_topology
from cicero_wa_gateway.main import build
from cicero_wa_gateway.settings import GatewaySettings
from pydantic import SecretStr

DEFAULT_MESSAGES = 2_000
PUBLISH_BATCH = 200
POLL_INTERVAL_S = 0.05
RUN_TIMEOUT_S = 180.0
Section = Callable[[], Awaitable[dict[str, Any]]]


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or test_database_url()


def amqp_url() -> str:
    return os.environ.get("AMQP_URL") or "amqp://guest:guest@127.0.0.1:5672/"


@contextlib.asynccontextmanager
async def fake_provider() -> AsyncIterator[dict[str, str]]:
    """``cicero_runtime.testing.fake_whatsapp`` as its own process; yields its first line (url, credentials)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cicero_runtime.testing.fake_whatsapp", "--port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 20)
        if not line:
            raise RuntimeError("the fake WhatsApp provider exited before it was ready")
        yield json.loads(line)
    finally:
        if process.returncode is None:
            process.terminate()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(process.wait(), 10)
            if process.returncode is None:
                process.kill()
                await process.wait()


def request(n: int) -> bytes:
    operator = n % 2 == 1
    payload = {
        "idempotency_key": f"bench:{n}", "session": "operator" if operator else "broadcast",
        "chat_id": f"628{n:010d}@c.us" if operator else f"1203630{n:011d}@g.us",
        "text": f"Mohon ijin Komandan,\npesan uji {n}", "purpose": "bench", "client_id": "POLRES_BENCH",
        "requested_at": "2026-03-10T07:05:00Z",
    }
    return envelope_bytes("WhatsAppMessageRequested", payload, stream_id=f"bench:{n}", producer="notifier")


async def publish_all(url: str, names: BusNames, bodies: list[bytes], retry_delay_ms: int) -> None:
    """Onto the gateway's queue (declared first, as the service would), confirmed by the broker."""
    connection = await aio_pika.connect(url)
    try:
        await declare_topology(connection, names, retry_delay_ms)
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        queue = names.queue(WA_GATEWAY_REQUESTS)
        for start in range(0, len(bodies), PUBLISH_BATCH):
            await asyncio.gather(*(
                channel.default_exchange.publish(
                    aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key=queue, mandatory=True)
                for body in bodies[start:start + PUBLISH_BATCH]))
    finally:
        await connection.close()


async def fake_stats(base_url: str) -> dict[str, int]:
    async with httpx.AsyncClient(timeout=10) as client:
        stats: dict[str, int] = (await client.get(f"{base_url}/_fake/stats")).json()
        return stats


async def bench_gateway(messages: int = DEFAULT_MESSAGES) -> dict[str, Any]:
    url, broker = database_url(), amqp_url()
    if url == test_database_url():
        await ensure_database(url)
    names = BusNames(f"bench{uuid.uuid4().hex[:10]}.")
    bodies = [request(n) for n in range(messages)]
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(delete_namespace, broker, names)
        schema = await create_service_schema(url, "wa_gateway")
        stack.push_async_callback(drop_schema, url, schema)
        fake = await stack.enter_async_context(fake_provider())
        settings = service_settings(
            GatewaySettings, url, schema, names.namespace, amqp_url=broker, health_port=0, wa_provider="waha",
            wa_waha_base_url=fake["url"], wa_waha_api_key=SecretStr(fake["waha_api_key"]), wa_pacing_gap_s=0.0)
        watcher = await asyncpg.connect(url, server_settings={"search_path": schema})
        stack.push_async_callback(watcher.close)
        published = time.perf_counter()
        await publish_all(broker, names, bodies, settings.retry_delay_ms)
        published_s = time.perf_counter() - published

        service = build(settings)
        stack.push_async_callback(service.stop)
        cpu_started, started = time.process_time(), time.perf_counter()
        await service.start(with_health=False)
        start_s = time.perf_counter() - started
        accepted_s: float | None = None
        while True:
            accepted, sent = await watcher.fetchrow(
                "SELECT count(*), count(*) FILTER (WHERE status = 'sent') FROM wa_outbox")
            now = time.perf_counter() - started
            if accepted_s is None and accepted == messages:
                accepted_s = now
            if sent == messages:
                break
            if now > RUN_TIMEOUT_S:
                raise TimeoutError(f"only {sent} of {messages} messages sent after {RUN_TIMEOUT_S:.0f} s")
            await asyncio.sleep(POLL_INTERVAL_S)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_started

        stats = await fake_stats(fake["url"])
        sent_events = await watcher.fetchval("SELECT count(*) FROM events WHERE event_type = 'WhatsAppMessageSent'")
        failed_events = await watcher.fetchval(
            "SELECT count(*) FROM events WHERE event_type = 'WhatsAppMessageFailed'")
        if stats["deliveries"] != messages or stats["keys_delivered_twice"] or sent_events != messages:
            raise RuntimeError(f"wrong result: {stats['deliveries']} deliveries at the fake "
                               f"({stats['keys_delivered_twice']} keys twice), {sent_events} Sent events "
                               f"for {messages} messages")

    rate = messages / wall
    print(f"gateway: {messages} queued requests through consumer → outbox → waha provider (fake, own process) "
          f"all sent {wall:.2f} s after the service's start = {rate:.0f} messages/s (pacing off, batch "
          f"{settings.wa_batch_size})", flush=True)
    print(f"  (published beforehand in {published_s:.2f} s); started in {start_s:.2f} s, all accepted into the "
          f"outbox after {accepted_s or wall:.2f} s; {failed_events} failed attempts; this process's CPU "
          f"{cpu / messages * 1000:.2f} ms per message", flush=True)
    return {"gateway_messages": messages, "gateway_messages_per_s": round(rate, 1), "gateway_wall_s": round(wall, 2),
            "gateway_cpu_ms_per_message": round(cpu / messages * 1000, 3)}


def _section(module: str, function: str) -> Section | None:
    """``function`` of ``bench/<module>.py`` when that file exists."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    if importlib.util.find_spec(module) is None:
        return None
    section: Section = getattr(importlib.import_module(module), function)
    return section


def decisions_section() -> Section | None:
    """The notifier's decision throughput, from ``bench/_notifier_decisions.py`` when that file exists."""
    return _section("_notifier_decisions", "bench_decisions")


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--only", choices=("gateway", "decisions", "reminders"))
    parser.add_argument("--messages", type=int, default=DEFAULT_MESSAGES, help="messages through the gateway")
    parser.add_argument("--people", type=int, default=50_000, help="people (messages) in the reminder run")
    args = parser.parse_args(argv)
    if args.messages < 1 or args.people < 1:
        parser.error("--messages and --people must be at least 1")
    sections: dict[str, Section] = {"gateway": lambda: bench_gateway(args.messages)}
    if (decisions := decisions_section()) is not None:
        sections["decisions"] = decisions
    elif args.only == "decisions":
        parser.error("bench/_notifier_decisions.py is not there (yet)")
    if (reminders := _section("_notifier_reminders", "bench_reminders")) is not None:
        sections["reminders"] = lambda: reminders(args.people)  # type: ignore[call-arg]
    result: dict[str, Any] = {}
    ran = []
    for name, section in sections.items():
        if args.only in (None, name):
            result |= await section()
            ran.append(name)
    print(json.dumps({"bench": "notify", "sections": ran} | {k: v for k, v in result.items() if k != "bench"}),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
