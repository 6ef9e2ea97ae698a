"""The whole system as separate processes, shared by the end-to-end tests.

A fresh database and bus namespace, the RapidAPI simulator, the five services (each its own process), and
the `file` WhatsApp provider writing one JSON line per message. ``QuietProbe`` tells when the system has
finished reacting to what a test did, from the services' own tables: that is what a test waits on instead
of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import asyncpg
from cicero_contracts import REGISTRY
from cicero_runtime.consumer import EventConsumer
from cicero_runtime.service import Service
from cicero_runtime.settings import RuntimeSettings
from cicero_runtime.testing import wait_for
from cicero_runtime.testing.fixtures import admin_url, delete_namespace
from cicero_runtime.testing.processes import ManagedProcess, bin_path, free_port, run_command
from cicero_runtime.topology import BusNames

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("attendance", "ingest", "notifier", "wa-gateway", "scheduler")
SCHEMAS = {"scheduler": "scheduler", "ingest": "ingest", "attendance": "attendance", "notifier": "notifier",
           "wa-gateway": "wa_gateway"}
"""Each service's own Postgres schema in the e2e database (the services' defaults)."""
SIM_KEY = "e2e-key"


@dataclass
class Stack:
    env: dict[str, str]
    database_url: str
    wa_file: Path
    sim_url: str
    processes: dict[str, ManagedProcess]
    health_ports: dict[str, int]

    def cli(self, service: str, *args: str) -> str:
        result = run_command([bin_path(f"cicero-{service}"), *args], self.env)
        assert result.returncode == 0, f"cicero-{service} {' '.join(args)} failed:\n{result.stderr[-3000:]}"
        return result.stdout

    def messages(self) -> list[dict[str, str]]:
        """Every WhatsApp message the gateway handed to the provider, in order."""
        if not self.wa_file.exists():
            return []
        return [json.loads(line) for line in self.wa_file.read_text(encoding="utf-8").splitlines() if line]

    def diagnostics(self, lines: int = 40) -> str:
        return "\n".join(f"--- {name}\n{p.log_tail(lines)}" for name, p in self.processes.items())

    async def wait_healthy(self, timeout: float = 60.0) -> None:
        """Every service answers its health check and the simulator serves (a fetch before would fail)."""
        await wait_for(lambda: answers_ok(f"{self.sim_url}/_sim/health"), timeout=timeout, what="the simulator up")
        for name, port in self.health_ports.items():
            await wait_for(lambda port=port: answers_ok(f"http://127.0.0.1:{port}/health"),  # type: ignore[misc]
                           timeout=timeout, what=f"{name} healthy")


def answers_ok(url: str) -> bool:
    """A GET of ``url`` answers 200 (a health check); refused or failing is not yet."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextlib.asynccontextmanager
async def running_stack(
    tmp_path: Path, amqp_url: str, *, env: Mapping[str, str] | None = None, sim_args: Sequence[str] = (),
) -> AsyncIterator[Stack]:
    """Migrate a fresh database, start the simulator and the five services; tear everything down after.

    ``env`` adds to (or overrides) the services' environment; ``sim_args`` are extra simulator flags.
    """
    database = f"cicero_e2e_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(admin_url())
    await admin.execute(f'CREATE DATABASE "{database}"')
    namespace = f"e2e{uuid.uuid4().hex[:8]}."
    sim_port = free_port()
    sim_url = f"http://127.0.0.1:{sim_port}"
    database_url = admin_url().rsplit("/", 1)[0] + f"/{database}"
    base_env = {
        "DATABASE_URL": database_url,
        "AMQP_URL": amqp_url,
        "CICERO_NAMESPACE": namespace,
        "CICERO_SQL_DIR": str(REPO / "sql"),
        "LOG_FORMAT": "json",
        "HEALTH_PORT": "0",
        "API_PORT": "0",
        "RETRY_DELAY_MS": "500",
        "SCHEDULER_CLOCK_ENABLED": "false",
        "INSTAGRAM_BASE_URL": sim_url,
        "TIKTOK_BASE_URL": sim_url,
        "RAPIDAPI_KEY": SIM_KEY,
        "WA_PROVIDER": "file",
        "WA_FILE_PATH": str(tmp_path / "whatsapp.jsonl"),
        **(env or {}),
    }
    processes = {"rapidapi-sim": ManagedProcess(
        "rapidapi-sim",
        [bin_path("cicero-rapidapi-sim"), "--dataset", str(REPO / "fakes/rapidapi-sim/data/e2e.json"),
         "--port", str(sim_port), "--api-key", SIM_KEY, *sim_args],
        {}, tmp_path / "logs" / "rapidapi-sim.log",
    )}
    health_ports = {name: free_port() for name in SERVICES}
    for name in SERVICES:
        processes[name] = ManagedProcess(name, [bin_path(f"cicero-{name}"), "run"],
                                         {**base_env, "HEALTH_PORT": str(health_ports[name])},
                                         tmp_path / "logs" / f"{name}.log")
    stack = Stack(base_env, database_url, tmp_path / "whatsapp.jsonl", sim_url, processes, health_ports)
    try:
        await _migrate_all(stack)
        for process in processes.values():
            process.start()
        yield stack
    finally:
        for process in processes.values():
            process.stop()
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
        await delete_namespace(amqp_url, BusNames(namespace))


async def _migrate_all(stack: Stack) -> None:
    """Every service's ``migrate`` at once: each takes its own schema's lock, so they do not collide."""
    env = {**os.environ, **stack.env}
    procs = [await asyncio.create_subprocess_exec(bin_path(f"cicero-{name}"), "migrate", env=env,
                                                  stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
             for name in SERVICES]
    for name, proc in zip(SERVICES, procs, strict=True):
        _, stderr = await proc.communicate()
        assert proc.returncode == 0, f"cicero-{name} migrate failed:\n{stderr.decode()[-3000:]}"


# --- waiting until the system is quiet ------------------------------------------------------------------


@dataclass(frozen=True)
class Edge:
    """Events of these types reach this consumer's inbox (its queue binds them and it has a handler)."""

    schema: str
    consumer: str
    event_types: tuple[str, ...]


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: ``*`` is exactly one word, ``#`` zero or more."""
    def match(p: list[str], k: list[str]) -> bool:
        if not p:
            return not k
        if p[0] == "#":
            return any(match(p[1:], k[i:]) for i in range(len(k) + 1))
        return bool(k) and (p[0] == "*" or p[0] == k[0]) and match(p[1:], k[1:])

    return match(pattern.split("."), routing_key.split("."))


def _service_builds() -> list[tuple[str, Callable[[RuntimeSettings], Service], type[RuntimeSettings]]]:
    from cicero_attendance.main import build as attendance
    from cicero_attendance.settings import AttendanceSettings
    from cicero_ingest.main import build as ingest
    from cicero_ingest.settings import IngestSettings
    from cicero_notifier.main import build as notifier
    from cicero_notifier.settings import NotifierSettings
    from cicero_wa_gateway.main import build as gateway
    from cicero_wa_gateway.settings import GatewaySettings

    return [("ingest", ingest, IngestSettings), ("attendance", attendance, AttendanceSettings),
            ("notifier", notifier, NotifierSettings), ("wa_gateway", gateway, GatewaySettings)]


def consumer_edges() -> list[Edge]:
    """Which event types each consumer records in its inbox, read from the services' own wiring.

    Waiting only on edges that really have a handler matters: an event a consumer ignores never gets an
    inbox row, and an event it handles but we forgot would let the wait end while it is still in flight.
    Building the services (without starting them) keeps this in step with their code.
    """
    edges = []
    for schema, build, settings_class in _service_builds():
        service = build(settings_class())
        for name, queue, register in service.declared_consumers():
            consumer = EventConsumer(name, queue, cast(asyncpg.Pool, None), service.store, service.names)
            register(consumer)
            handled = sorted(
                t for t in consumer.handled_types()
                if t in REGISTRY and any(topic_matches(b, REGISTRY.routing_key_for(t)) for b in queue.bindings)
            )
            edges.append(Edge(schema, name, tuple(handled)))
    return edges


@dataclass
class QuietProbe:
    """The system is quiet when every event any service stored has been consumed by every consumer that
    handles it, and the WhatsApp outbox has nothing left to send.

    Why that suffices: a handler's outputs commit in the transaction that writes its inbox row, and the
    gateway's Sent/Failed events commit with the outbox row's final status, so nothing can still be in
    flight when every stored event is in every interested inbox and no outbox row is pending. Positions
    already seen quiet are remembered, so each check reads only what is new.
    """

    edges: list[Edge]
    producers: tuple[str, ...] = tuple(SCHEMAS.values())
    _quiet_upto: dict[str, int] = field(default_factory=dict)

    async def pending(self, conn: asyncpg.Connection) -> list[str]:
        """What is still in flight (empty when quiet), described for a failure message."""
        found: list[str] = []
        tops: dict[str, int] = {}
        for producer in self.producers:
            tops[producer] = await conn.fetchval(f"SELECT coalesce(max(global_position), 0) FROM {producer}.events")
            since = self._quiet_upto.get(producer, 0)
            for edge in self.edges:
                rows = await conn.fetch(
                    f"""SELECT e.event_type, e.payload FROM {producer}.events e
                        WHERE e.global_position > $1 AND e.global_position <= $2 AND e.event_type = ANY($3::text[])
                          AND NOT EXISTS (SELECT 1 FROM {edge.schema}.inbox i
                                          WHERE i.consumer = $4 AND i.event_id = e.event_id)
                        ORDER BY e.global_position LIMIT 3""",
                    since, tops[producer], list(edge.event_types), edge.consumer)
                found += [f"{producer} {r['event_type']} not yet consumed by {edge.consumer}: {str(r['payload'])[:200]}"
                          for r in rows]
        outbox = await conn.fetch(
            """SELECT idempotency_key, status, attempts, last_error FROM wa_gateway.wa_outbox
               WHERE status NOT IN ('sent', 'dead_letter') LIMIT 5""")
        found += [f"outbox {r['idempotency_key']} {r['status']} after {r['attempts']} attempt(s): {r['last_error']}"
                  for r in outbox]
        if not found:
            self._quiet_upto.update(tops)
        return found

    async def wait(self, conn: asyncpg.Connection, stack: Stack, what: str, timeout: float = 30.0) -> None:
        left: list[str] = []

        async def quiet() -> bool:
            left[:] = await self.pending(conn)
            return not left

        try:
            await wait_for(quiet, timeout=timeout, interval=0.1, what=f"quiet after {what}")
        except AssertionError:
            raise AssertionError(f"not quiet {timeout:.0f}s after {what}:\n" + "\n".join(left[:20])
                                 + "\n" + stack.diagnostics(25)) from None
