"""One post-fetch tick of the ingest service: N clients × P Instagram posts × L likers, against the simulator.

The ingest service runs as production wires it (``cicero_ingest.main.build``: relay, the ``ingest`` and
``ingest-fetch`` consumers on the real broker; W workers in this process share the work queue) on a fresh
PostgreSQL schema and a fresh bus namespace. The simulated RapidAPI platform runs as a separate process
(``cicero-rapidapi-sim``) on loopback, serving a dataset generated into a temporary directory, so its CPU is
not on the measured event loop. The clients are registered through the ``ingest`` consumer, then one
``TickFired`` (post-fetch phase) goes to the namespaced ``ingest.events`` queue and the clock runs until
every client's ``ClientFetchCompleted`` is in the event store.

Usage: ``python bench/ingest_tick.py [--clients 50] [--posts 10] [--likers 2000] [--workers 2]``.
The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aio_pika
import asyncpg
import httpx
from cicero_contracts.names import INGEST_EVENTS
from cicero_ingest.main import build
from cicero_ingest.settings import IngestSettings
from cicero_rapidapi_sim.settings import DEFAULT_API_KEY
from cicero_runtime.service import Service
from cicero_runtime.testing.contracts import envelope_bytes
from cicero_runtime.testing.fixtures import (
    create_service_schema,
    delete_namespace,
    drop_schema,
    ensure_database,
    service_settings,
    test_database_url,
)
from cicero_runtime.topology import BusNames

DEFAULT_CLIENTS = 50
DEFAULT_POSTS = 10
DEFAULT_LIKERS = 2000
DEFAULT_WORKERS = 2
TARGET_S = 60.0
TICK_TIMEOUT_S = 105.0
"""The tick fails after this (the whole run must stay near two minutes on the 2-core machine)."""
SIM_START_TIMEOUT_S = 60.0
RELAY_TIMEOUT_S = 20.0
POLL_INTERVAL_S = 0.05
PROGRESS_EVERY_S = 15.0

WIB = ZoneInfo("Asia/Jakarta")
SIM_TODAY = "2026-03-10"
TICK_AT = "2026-03-10T07:05:00Z"  # 14:05 WIB, the post-fetch run
FIRST_POST_WIB = datetime(2026, 3, 10, 0, 5, tzinfo=WIB)
POST_SPACING = timedelta(minutes=10)
MAX_POSTS = 60
"""Ten-minute spacing from 00:05 keeps every post on the simulated day and before the 14:05 tick, within the
feed's page bound (``max_pages`` × 12 a page)."""


@dataclass(frozen=True)
class Options:
    clients: int
    posts: int
    likers: int
    workers: int
    database_url: str
    amqp_url: str


# --- the dataset --------------------------------------------------------------------------------------

def username(n: int) -> str:
    return f"polres_{n:03d}"


def client_id(n: int) -> str:
    return f"POLRES_{n:03d}"


def dataset(clients: int, posts: int, likers: int) -> dict[str, Any]:
    """Clients' Instagram accounts with ``posts`` posts today, each liked by the unit's ``likers`` personnel.

    Only the dataset-file fields every simulator version reads (no page sizes, caps or other knobs): what
    the simulator serves per page is the simulator's own setting at run time.
    """
    accounts = []
    for n in range(clients):
        roster = [f"personel{n:03d}.{i:05d}" for i in range(likers)]
        account_posts = []
        for p in range(posts):
            shift = (p * 37) % likers if likers else 0  # each post lists the same roster in another order
            account_posts.append({
                "code": f"B{n:03d}x{p:03d}",
                "taken_at": (FIRST_POST_WIB + p * POST_SPACING).isoformat(),
                "caption": f"Giat {p} Polres {n:03d} #polri #presisi",
                "likers": roster[shift:] + roster[:shift],
            })
        accounts.append({"username": username(n), "user_id": f"77{n:05d}", "full_name": f"Polres {n:03d}",
                         "posts": account_posts})
    return {"instagram": accounts}


def client_registered(n: int) -> dict[str, Any]:
    return {"client_id": client_id(n), "name": f"Polres {n:03d}", "client_type": "ORG", "active": True,
            "instagram_username": username(n), "instagram_enabled": True}


def tick_fired() -> dict[str, Any]:
    return {"tick_id": f"post-fetch:{TICK_AT}", "schedule": "post-fetch", "phase": "post_fetch",
            "scheduled_for": TICK_AT, "fired_at": TICK_AT}


# --- CPU accounting (Linux /proc) ---------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SERVER_COMMANDS = {"postgres": "postgres", "beam.smp": "rabbitmq"}


def _stat_fields(pid: int | str) -> tuple[str, list[str]] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm, _, rest = raw.partition(" (")[2].rpartition(") ")
    return comm, rest.split()


def _cpu_of(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of another process; 0 when /proc is not there."""
    stat = _stat_fields(pid)
    return _cpu_of(stat[1]) if stat else 0.0


def server_cpu_s() -> dict[str, float]:
    """CPU seconds of the PostgreSQL and RabbitMQ processes alive now (a backend that exits is not counted)."""
    totals = dict.fromkeys(SERVER_COMMANDS.values(), 0.0)
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if entry.name.isdigit() and (stat := _stat_fields(entry.name)) and stat[0] in SERVER_COMMANDS:
                totals[SERVER_COMMANDS[stat[0]]] += _cpu_of(stat[1])
    return totals


def machine_cpu_s() -> tuple[float, float]:
    """CPU seconds (all cores) the machine spent working, and those the hypervisor stole from it."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, IndexError, ValueError):
        return 0.0, 0.0
    values += [0] * (10 - len(values))
    idle, steal, guest = values[3] + values[4], values[7], values[8] + values[9]  # guest is in user / nice
    return (sum(values) - idle - steal - guest) / CLOCK_TICKS, steal / CLOCK_TICKS


@dataclass(frozen=True)
class CpuMark:
    bench: float
    sim: float
    postgres: float
    rabbitmq: float
    machine: float
    steal: float

    @classmethod
    def now(cls, sim_pid: int) -> CpuMark:
        servers = server_cpu_s()
        return cls(time.process_time(), process_cpu_s(sim_pid), servers["postgres"], servers["rabbitmq"],
                   *machine_cpu_s())

    def __sub__(self, other: CpuMark) -> CpuMark:
        return CpuMark(self.bench - other.bench, self.sim - other.sim, self.postgres - other.postgres,
                       self.rabbitmq - other.rabbitmq, self.machine - other.machine, self.steal - other.steal)

    def summary(self, wall_s: float) -> str:
        other = max(0.0, self.machine - self.bench - self.sim - self.postgres - self.rabbitmq)
        return (f"bench process {self.bench:.1f}, simulator {self.sim:.1f}, PostgreSQL {self.postgres:.1f}, "
                f"RabbitMQ {self.rabbitmq:.1f}, other {other:.1f}; {self.machine / wall_s:.2f} of "
                f"{os.cpu_count()} cores busy, {self.steal:.1f} stolen by the hypervisor")


# --- the simulator process ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Simulator:
    process: asyncio.subprocess.Process
    base_url: str
    control: httpx.AsyncClient
    started: dict[str, Any]
    """The simulator's startup line: its URL and, where this version reports them, its likes paging."""

    def likers_listed(self, likers: int) -> int:
        """Likers of one post that /v1/likes lists: all, unless the simulator runs with a likes cap."""
        cap = self.started.get("likes_cap")
        return likers if cap is None else min(likers, int(cap))

    def likes_paging(self) -> str:
        size, cap = self.started.get("likes_page_size"), self.started.get("likes_cap")
        return (f"likes page size {size if size is not None else 'not reported'}, "
                f"cap {cap if cap is not None else 'none'}")

    async def reset_requests(self) -> None:
        (await self.control.delete("/_sim/requests")).raise_for_status()

    async def request_counts(self) -> tuple[int, dict[str, int]]:
        reply = await self.control.get("/_sim/requests")
        reply.raise_for_status()
        body = reply.json()
        return int(body["total"]), {str(k): int(v) for k, v in body["paths"].items()}


async def _stop_process(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), 10)
    except TimeoutError:
        process.kill()
        await process.wait()


@contextlib.asynccontextmanager
async def simulator_process(dataset_path: Path, workdir: Path) -> AsyncIterator[Simulator]:
    """``cicero-rapidapi-sim`` on a free loopback port; the URL comes from its startup JSON line."""
    started_file = workdir / "sim.stdout"
    with started_file.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cicero_rapidapi_sim.main", "--dataset", str(dataset_path), "--host",
            "127.0.0.1", "--port", "0", "--today", SIM_TODAY, "--api-key", DEFAULT_API_KEY,
            stdin=asyncio.subprocess.DEVNULL, stdout=out,
        )
    try:
        deadline = time.monotonic() + SIM_START_TIMEOUT_S
        started: dict[str, Any] = {}
        while not started:
            if process.returncode is not None:
                raise RuntimeError(f"the simulator exited with {process.returncode} before it started")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the simulator did not start within {SIM_START_TIMEOUT_S:.0f} s")
            first_line = started_file.read_text().partition("\n")
            if first_line[1]:
                started = json.loads(first_line[0])
            else:
                await asyncio.sleep(POLL_INTERVAL_S)
        base_url = str(started["url"])
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as control:
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if (await control.get("/_sim/health")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the simulator at {base_url} was not healthy in time")
                await asyncio.sleep(POLL_INTERVAL_S)
            yield Simulator(process, base_url, control, started)
    finally:
        await _stop_process(process)


# --- the run ------------------------------------------------------------------------------------------

def ingest_settings(opts: Options, schema: str, names: BusNames, sim: Simulator) -> IngestSettings:
    """Production defaults, except where the servers are: this schema and namespace, the simulator."""
    return service_settings(
        IngestSettings, opts.database_url, schema, names.namespace, amqp_url=opts.amqp_url,
        instagram_base_url=sim.base_url, tiktok_base_url=sim.base_url, rapidapi_key=DEFAULT_API_KEY,
        health_port=0,
    )


async def publish_tick(amqp_url: str, names: BusNames) -> None:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        tick = tick_fired()
        body = envelope_bytes("TickFired", tick, stream_id=f"tick:{tick['tick_id']}", producer="scheduler",
                              correlation_id=tick["tick_id"])
        await channel.default_exchange.publish(
            aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=names.queue(INGEST_EVENTS), mandatory=True)
    finally:
        await connection.close()


async def wait_for_completed(
    watcher: asyncpg.Connection, after: int, clients: int, started: float, sim: Simulator
) -> int:
    query = """SELECT count(*) FROM events WHERE global_position > $1 AND event_type = 'ClientFetchCompleted'"""
    next_report = started + PROGRESS_EVERY_S
    while True:
        done: int = await watcher.fetchval(query, after)
        now = time.perf_counter()
        if done >= clients:
            return done
        if sim.process.returncode is not None:
            raise RuntimeError(f"the simulator exited with {sim.process.returncode} during the tick "
                               f"({done} of {clients} clients fetched)")
        if now - started > TICK_TIMEOUT_S:
            raise TimeoutError(f"only {done} of {clients} clients fetched after {TICK_TIMEOUT_S:.0f} s")
        if now >= next_report:
            print(f"  ... {now - started:.0f} s: {done}/{clients} clients fetched", file=sys.stderr, flush=True)
            next_report += PROGRESS_EVERY_S
        await asyncio.sleep(POLL_INTERVAL_S)


async def check_result(watcher: asyncpg.Connection, after: int, opts: Options, likers_listed: int) -> None:
    """The tick did the whole job: each client once, every post, every liker listed, no fetch errors."""
    rows = await watcher.fetch(
        """SELECT payload->>'client_id' AS client, jsonb_array_length(payload->'posts') AS posts,
                  jsonb_array_length(payload->'errors') AS errors
           FROM events WHERE global_position > $1 AND event_type = 'ClientFetchCompleted'""", after)
    per_client = Counter(r["client"] for r in rows)
    problems = []
    if len(per_client) != opts.clients or set(per_client.values()) != {1}:
        problems.append(f"{len(rows)} ClientFetchCompleted for {len(per_client)} clients")
    if bad := [r["client"] for r in rows if r["posts"] != opts.posts or r["errors"]]:
        problems.append(f"{len(bad)} clients with a wrong post count or fetch errors, e.g. {bad[0]}")
    engaged = await watcher.fetchval("SELECT count(*) FROM engagement WHERE kind = 'likes'")
    if engaged != opts.clients * opts.posts * likers_listed:
        problems.append(f"{engaged} likes recorded, expected {opts.clients * opts.posts * likers_listed}")
    if problems:
        raise RuntimeError("the tick's result is wrong: " + "; ".join(problems))


async def bench(opts: Options) -> dict[str, object]:
    if opts.database_url == test_database_url():
        await ensure_database(opts.database_url)
    names = BusNames(f"bench{uuid.uuid4().hex[:10]}.")
    with tempfile.TemporaryDirectory(prefix="ingest-tick-") as tmp:
        workdir = Path(tmp)
        async with contextlib.AsyncExitStack() as stack:
            stack.push_async_callback(delete_namespace, opts.amqp_url, names)
            schema = await create_service_schema(opts.database_url, "ingest")
            stack.push_async_callback(drop_schema, opts.database_url, schema)

            started = time.perf_counter()
            dataset_path = workdir / "dataset.json"
            dataset_path.write_text(json.dumps(dataset(opts.clients, opts.posts, opts.likers)))
            sim = await stack.enter_async_context(simulator_process(dataset_path, workdir))
            size_mb = dataset_path.stat().st_size / 1e6
            print(f"simulator: pid {sim.process.pid} at {sim.base_url}, dataset {size_mb:.1f} MB "
                  f"({opts.clients * opts.posts * opts.likers:,} likes; {sim.likes_paging()}), written and "
                  f"ready after {time.perf_counter() - started:.1f} s", flush=True)

            settings = ingest_settings(opts, schema, names, sim)
            workers: list[Service] = []
            for _ in range(opts.workers):
                worker = build(settings)
                stack.push_async_callback(worker.stop)
                await worker.start(with_health=False, with_background=False)
                workers.append(worker)

            registrar = workers[0].make_consumer("ingest")
            for n in range(opts.clients):
                outcome = await registrar.process(envelope_bytes("ClientRegistered", client_registered(n)))
                if outcome != "handled":
                    raise RuntimeError(f"ClientRegistered for {client_id(n)}: {outcome}")

            watcher = await asyncpg.connect(opts.database_url, server_settings={"search_path": schema})
            stack.push_async_callback(watcher.close)
            before: int = await watcher.fetchval("SELECT coalesce(max(global_position), 0) FROM events")
            await sim.reset_requests()

            cpu_before = CpuMark.now(sim.process.pid)
            tick_started = time.perf_counter()
            await publish_tick(opts.amqp_url, names)
            await wait_for_completed(watcher, before, opts.clients, tick_started, sim)
            wall = time.perf_counter() - tick_started
            cpu = CpuMark.now(sim.process.pid) - cpu_before

            total_calls, per_path = await sim.request_counts()
            last: int = await watcher.fetchval("SELECT coalesce(max(global_position), 0) FROM events")

            async def published() -> bool:
                position = await watcher.fetchval("SELECT coalesce(max(position), 0) FROM relay_checkpoints")
                return bool(position >= last)

            relay_s: float | None = None
            relay_deadline = time.perf_counter() + RELAY_TIMEOUT_S
            while time.perf_counter() < relay_deadline:
                if await published():
                    relay_s = time.perf_counter() - tick_started
                    break
                await asyncio.sleep(POLL_INTERVAL_S)

            by_type = {r["event_type"]: r["n"] for r in await watcher.fetch(
                """SELECT event_type, count(*) AS n FROM events WHERE global_position > $1
                   GROUP BY event_type ORDER BY event_type""", before)}
            await check_result(watcher, before, opts, sim.likers_listed(opts.likers))

    events = sum(by_type.values())
    calls_per_client = total_calls / opts.clients
    verdict = "within" if wall <= TARGET_S else "OVER"
    print(f"tick: {opts.clients} clients x {opts.posts} posts x {opts.likers} likers, {opts.workers} worker(s) "
          f"in this process: {wall:.2f} s wall ({verdict} the {TARGET_S:.0f} s target)", flush=True)
    endpoints = ", ".join(f"{path} {n} = {n / opts.clients:.1f}" for path, n in sorted(per_path.items()))
    print(f"rapidapi calls: {total_calls} = {calls_per_client:.1f} per client ({endpoints} per client); "
          f"{total_calls / wall:.0f} calls/s", flush=True)
    print(f"events appended: {events} ({', '.join(f'{t} {n}' for t, n in by_type.items())})", flush=True)
    relay = f"{relay_s:.2f} s after the tick" if relay_s is not None else f"not within {RELAY_TIMEOUT_S:.0f} s"
    print(f"relay: every event published {relay}", flush=True)
    print(f"cpu during the tick (s): {cpu.summary(wall)}", flush=True)
    return {
        "bench": "ingest_tick",
        "clients": opts.clients,
        "posts_per_client": opts.posts,
        "likers_per_post": opts.likers,
        "workers": opts.workers,
        "wall_s": round(wall, 2),
        "calls_per_client": round(calls_per_client, 1),
        "events": events,
        "target_s": TARGET_S,
    }


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=DEFAULT_CLIENTS, help="clients registered and fetched")
    parser.add_argument("--posts", type=int, default=DEFAULT_POSTS, help="Instagram posts today per client")
    parser.add_argument("--likers", type=int, default=DEFAULT_LIKERS, help="likers of every post")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                        help="ingest service instances (in this process) competing for the fetch jobs")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.workers < 1 or args.likers < 0:
        parser.error("--clients and --workers must be >= 1, --likers >= 0")
    if not 1 <= args.posts <= MAX_POSTS:
        parser.error(f"--posts must be between 1 and {MAX_POSTS}")
    return Options(
        clients=args.clients, posts=args.posts, likers=args.likers, workers=args.workers,
        database_url=os.environ.get("DATABASE_URL") or test_database_url(),
        amqp_url=os.environ.get("AMQP_URL") or "amqp://guest:guest@127.0.0.1:5672/",
    )


async def run(opts: Options) -> dict[str, object]:
    """``bench`` with SIGTERM turned into cancellation, so a stopped run still removes what it created."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
    return await bench(opts)


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    try:
        result = asyncio.run(run(opts))
    except asyncio.CancelledError:
        print("ingest_tick: stopped (SIGTERM); everything it created was removed", file=sys.stderr)
        return 143
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
