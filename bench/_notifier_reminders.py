"""Notifier: the memory of one reminder run of 50,000 personal messages (docs/domain.md §5 "Reminders").

Setup (not measured, plain SQL into a fresh notifier schema): 200 units with reminders on, 250 opted-in people
each (50,000, every one with a WhatsApp number of their own, Instagram and TikTok handles), today's 10 task posts
per unit (6 Instagram, 4 TikTok, with links and captions) and each person's attendance (3 Instagram posts still to
like, TikTok done), so every person is due an ``initial`` reminder listing three links.

Measured: the notifier as ``cicero_notifier.main.build`` wires it runs in a **child process** (its relay
publishing to a fresh bus namespace, as in production), handles one 17:05 reminder ``TickFired`` through the
consumer's ``process``, and waits until its relay has published every request. The child reports its peak
resident set (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) and its resident set just before the tick, so
the growth caused by the run shows apart from what the process holds anyway. The parent then checks the
result (one ledger row and one ``WhatsAppMessageRequested`` per person) and removes everything it created,
also when the run fails.

Usage: ``python bench/_notifier_reminders.py [--people N] [--units U]``; the last line printed is JSON.
``bench_reminders()`` returns the same figures as a dict (``bench/notify.py`` merges them).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import sys
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
from cicero_contracts.events.scheduler import TickFired, TickPhase
from cicero_notifier.main import build
from cicero_notifier.settings import NotifierSettings
from cicero_runtime.consumer import Outcome
from cicero_runtime.testing.contracts import event_envelope_bytes
from cicero_runtime.testing.fixtures import (
    create_service_schema,
    delete_namespace,
    drop_schema,
    ensure_database,
    service_settings,
    test_database_url,
)
from cicero_runtime.topology import BusNames

DAY = date(2026, 3, 10)
TICK_AT = datetime(2026, 3, 10, 10, 5, tzinfo=UTC)  # 17:05 WIB
FETCHED_AT = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
DEFAULT_PEOPLE = 50_000
DEFAULT_UNITS = 200
IG_POSTS, TT_POSTS, IG_PENDING = 6, 4, 3
CHILD_TIMEOUT_S = 1800.0


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or test_database_url()


def amqp_url() -> str:
    return os.environ.get("AMQP_URL") or "amqp://guest:guest@127.0.0.1:5672/"


def settings_for(schema: str, namespace: str) -> NotifierSettings:
    return service_settings(NotifierSettings, database_url(), schema, namespace, amqp_url=amqp_url(), health_port=0)


def rss_mb() -> float:
    """This process's current resident set (Linux ``/proc``), in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """``ru_maxrss`` is in kilobytes on Linux."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- setup (parent) ---------------------------------------------------------------------------------------


async def fill(conn: asyncpg.Connection, people: int, units: int) -> None:
    """Units, people, today's task posts and attendance, set-based in SQL (seconds for 50,000 people)."""
    await conn.execute(
        """INSERT INTO clients (client_id, name, client_type, active, whatsapp_groups, reminders_enabled)
           SELECT format('POLRES_B%s', lpad(u::text, 4, '0')), format('Polres Bench %s', u), 'ORG', true,
                  ARRAY[format('1203630%s@g.us', lpad(u::text, 11, '0'))], true
           FROM generate_series(0, $1::int - 1) u""", units)
    await conn.execute(
        """INSERT INTO personnel (user_id, name, title, client_id, instagram, tiktok, whatsapp, active, exempt,
                                  wa_reminder_opt_in)
           SELECT format('9%s', lpad(n::text, 7, '0')), format('Personel Bench %s', n), 'BRIPDA',
                  format('POLRES_B%s', lpad((n % $2::int)::text, 4, '0')), format('ig_bench_%s', n),
                  format('tt_bench_%s', n), format('62812%s', lpad(n::text, 8, '0')), true, false, true
           FROM generate_series(0, $1::int - 1) n""", people, units)
    await conn.execute(
        """INSERT INTO reminder_task_posts (client_id, wib_date, fetched_at, posts)
           SELECT c.client_id, $1::date, $2::timestamptz, (
             SELECT jsonb_agg(jsonb_build_object(
                      'platform', CASE WHEN k < $3::int THEN 'instagram' ELSE 'tiktok' END,
                      'post_id', format('%s-%s', c.client_id, k),
                      'link', CASE WHEN k < $3::int THEN format('https://www.instagram.com/p/B%sx%s/', c.client_id, k)
                                   ELSE format('https://www.tiktok.com/@bench/video/73450%s%s', k, c.client_id) END,
                      'caption', format('Giat patroli dialogis ke-%s bersama warga #polri #presisi', k)) ORDER BY k)
             FROM generate_series(0, $3::int + $4::int - 1) k)
           FROM clients c""", DAY, FETCHED_AT, IG_POSTS, TT_POSTS)
    await conn.execute(
        """INSERT INTO reminder_attendance (wib_date, user_id, platform, scope_client_id, status, done, total,
                                            pending_post_ids, changed_at)
           SELECT $1::date, p.user_id, 'instagram', p.client_id, 'partial', $2::int - $3::int, $2::int,
                  ARRAY(SELECT format('%s-%s', p.client_id, k) FROM generate_series(0, $3::int - 1) k), $4::timestamptz
           FROM personnel p
           UNION ALL
           SELECT $1::date, p.user_id, 'tiktok', p.client_id, 'complete', $5::int, $5::int, '{}', $4::timestamptz
           FROM personnel p""",
        DAY, IG_POSTS, IG_PENDING, FETCHED_AT, TT_POSTS)
    await conn.execute("ANALYZE clients, personnel, reminder_task_posts, reminder_attendance")


async def run_child(schema: str, namespace: str) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--child", "--schema", schema, "--namespace", namespace,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), CHILD_TIMEOUT_S)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"the reminder run failed (exit {process.returncode}): {stderr.decode()[-2000:]}")
    result: dict[str, Any] = json.loads(stdout.decode().strip().splitlines()[-1])
    return result


async def bench_reminders(people: int = DEFAULT_PEOPLE, units: int = DEFAULT_UNITS) -> dict[str, Any]:
    url = database_url()
    if url == test_database_url():
        await ensure_database(url)
    names = BusNames(f"bench{uuid.uuid4().hex[:10]}.")
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(delete_namespace, amqp_url(), names)
        schema = await create_service_schema(url, "notifier")
        stack.push_async_callback(drop_schema, url, schema)
        conn = await asyncpg.connect(url, server_settings={"search_path": schema})
        stack.push_async_callback(conn.close)
        started = time.perf_counter()
        await fill(conn, people, units)
        setup_s = time.perf_counter() - started
        child = await run_child(schema, names.namespace)
        requested = await conn.fetchval(
            """SELECT count(*) FROM events WHERE event_type = 'WhatsAppMessageRequested'
                 AND payload->>'purpose' = 'reminder'""")
        ledger = await conn.fetchval("SELECT count(*) FROM notifications WHERE purpose = 'reminder'")
    if (requested, ledger) != (people, people):
        raise AssertionError(f"{requested} reminder requests and {ledger} ledger rows for {people} people")
    print(f"reminders: {people} people in {units} units (set up in {setup_s:.1f} s): one reminder tick handled in "
          f"{child['run_s']:.1f} s, all {requested} requests published after {child['published_s']:.1f} s; "
          f"notifier process RSS {child['rss_before_mb']:.0f} MB before the tick, peak {child['peak_rss_mb']:.0f} MB",
          flush=True)
    return {"reminder_people": people, "reminder_messages": requested, "reminder_run_s": child["run_s"],
            "reminder_published_s": child["published_s"], "reminder_rss_before_mb": child["rss_before_mb"],
            "reminder_peak_rss_mb": child["peak_rss_mb"]}


# -- the measured process (child) -------------------------------------------------------------------------


async def child(schema: str, namespace: str) -> dict[str, Any]:
    service = build(settings_for(schema, namespace))
    await service.start(with_consumers=False, with_health=False, with_background=False)
    try:
        consumer = service.make_consumer("notifier")
        tick = TickFired(tick_id=f"reminder:{TICK_AT.isoformat()}", schedule="reminder", phase=TickPhase.REMINDER,
                         scheduled_for=TICK_AT, fired_at=TICK_AT, mandatory=False, manual=False)
        body = event_envelope_bytes(tick, event_id=uuid.uuid4())
        before = rss_mb()
        started = time.perf_counter()
        if await consumer.process(body) != Outcome.HANDLED:
            raise AssertionError("the reminder tick was not handled")
        run_s = time.perf_counter() - started
        async with service.pool.acquire() as conn:
            last = await service.store.last_position(conn)
        await service.wait_published(last, timeout=CHILD_TIMEOUT_S)
        published_s = time.perf_counter() - started
    finally:
        await service.stop()
    return {"run_s": round(run_s, 2), "published_s": round(published_s, 2), "rss_before_mb": round(before, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--people", type=int, default=DEFAULT_PEOPLE)
    parser.add_argument("--units", type=int, default=DEFAULT_UNITS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    parser.add_argument("--namespace", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(args.schema, args.namespace))), flush=True)
        return
    if args.people < 1 or args.units < 1:
        parser.error("--people and --units must be at least 1")
    print(json.dumps({"bench": "notifier_reminders"} | asyncio.run(bench_reminders(args.people, args.units))))


if __name__ == "__main__":
    main()
