"""The whole system as separate processes: a fired tick becomes a WhatsApp message, traced end to end."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from cicero_runtime.testing import wait_for
from cicero_runtime.testing.fixtures import admin_url, delete_namespace
from cicero_runtime.testing.otlp_receiver import OtlpReceiver
from cicero_runtime.testing.processes import ManagedProcess, bin_path, free_port, run_command
from cicero_runtime.topology import BusNames

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("attendance", "ingest", "notifier", "wa-gateway", "scheduler")
TICK_AT = "2026-03-10T14:05:00+07:00"
EXPECTED_KEY = "task:POLRES_DEMO:120363025550001111@g.us:2026-03-10-14@05"


@dataclass
class Stack:
    env: dict[str, str]
    wa_file: Path
    receiver: OtlpReceiver
    processes: dict[str, ManagedProcess]
    health_ports: dict[str, int]

    def cli(self, service: str, *args: str) -> str:
        result = run_command([bin_path(f"cicero-{service}"), *args], self.env)
        assert result.returncode == 0, f"cicero-{service} {' '.join(args)} failed:\n{result.stderr[-3000:]}"
        return result.stdout

    def messages(self) -> list[dict[str, str]]:
        if not self.wa_file.exists():
            return []
        return [json.loads(line) for line in self.wa_file.read_text(encoding="utf-8").splitlines() if line]

    def diagnostics(self) -> str:
        return "\n".join(f"--- {name}\n{p.log_tail()}" for name, p in self.processes.items())


@pytest.fixture
def otlp() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as receiver:
        yield receiver


@pytest_asyncio.fixture
async def stack(tmp_path: Path, amqp_url: str, otlp: OtlpReceiver) -> AsyncIterator[Stack]:
    database = f"cicero_e2e_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(admin_url())
    await admin.execute(f'CREATE DATABASE "{database}"')
    namespace = f"e2e{uuid.uuid4().hex[:8]}."
    sim_port = free_port()
    base_env = {
        "DATABASE_URL": admin_url().rsplit("/", 1)[0] + f"/{database}",
        "AMQP_URL": amqp_url,
        "CICERO_NAMESPACE": namespace,
        "CICERO_SQL_DIR": str(REPO / "sql"),
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint,
        "LOG_FORMAT": "json",
        "HEALTH_PORT": "0",
        "API_PORT": "0",
        "RETRY_DELAY_MS": "500",
        "SCHEDULER_CLOCK_ENABLED": "false",
        "INSTAGRAM_BASE_URL": f"http://127.0.0.1:{sim_port}",
        "TIKTOK_BASE_URL": f"http://127.0.0.1:{sim_port}",
        "RAPIDAPI_KEY": "e2e-key",
        "WA_PROVIDER": "file",
        "WA_FILE_PATH": str(tmp_path / "whatsapp.jsonl"),
    }
    processes = {"rapidapi-sim": ManagedProcess(
        "rapidapi-sim",
        [bin_path("cicero-rapidapi-sim"), "--dataset", str(REPO / "fakes/rapidapi-sim/data/e2e.json"),
         "--port", str(sim_port), "--api-key", "e2e-key"],
        {}, tmp_path / "logs" / "rapidapi-sim.log",
    )}
    health_ports = {name: free_port() for name in SERVICES}
    for name in SERVICES:
        processes[name] = ManagedProcess(name, [bin_path(f"cicero-{name}"), "run"],
                                         {**base_env, "HEALTH_PORT": str(health_ports[name])},
                                         tmp_path / "logs" / f"{name}.log")
    stack = Stack(base_env, tmp_path / "whatsapp.jsonl", otlp, processes, health_ports)
    try:
        for name in SERVICES:
            stack.cli(name, "migrate")
        for process in processes.values():
            process.start()
        yield stack
    finally:
        for process in processes.values():
            process.stop()
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
        await delete_namespace(amqp_url, BusNames(namespace))


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


async def test_fired_tick_reaches_whatsapp_with_one_trace_across_five_services(stack: Stack) -> None:
    for name, port in stack.health_ports.items():
        await wait_for(lambda port=port: healthy(port), timeout=30, what=f"{name} healthy")  # type: ignore[misc]

    imported = stack.cli("attendance", "import-clients", str(REPO / "examples/clients.csv"))
    assert "2 registered" in imported

    started = time.monotonic()
    fired = stack.cli("scheduler", "fire", "post-fetch", "--at", TICK_AT)
    assert "post-fetch:2026-03-10T07:05:00Z: fired" in fired

    def expected_message() -> dict[str, str] | None:
        return next((m for m in stack.messages() if m["idempotency_key"] == EXPECTED_KEY), None)

    try:
        message = await wait_for(expected_message, timeout=30, what="the task list in the WhatsApp file")
    except AssertionError:
        raise AssertionError(stack.diagnostics()) from None
    elapsed = time.monotonic() - started
    print(f"\ntick → WhatsApp file: {elapsed:.2f} s")
    assert message["chat_id"] == "120363025550001111@g.us"
    assert message["session"] == "broadcast"
    text = message["text"]
    assert text.startswith("Mohon ijin Komandan,")
    assert "Polres Demo" in text and "Instagram: 3 konten" in text and "TikTok: 2 konten" in text
    assert "https://www.instagram.com/p/C9demo0815a/" in text

    # the same tick fired again changes nothing: claimed once, no second message
    again = run_command([bin_path("cicero-scheduler"), "fire", "post-fetch", "--at", TICK_AT], stack.env)
    assert again.returncode == 3 and "already fired" in again.stdout

    fire_spans = [s for s in stack.receiver.snapshot() if s.name == "fire post-fetch"]

    async def one_trace_spans_all_services() -> bool:
        spans = [s for s in stack.receiver.snapshot() if s.name == "fire post-fetch"]
        if not spans:
            return False
        return stack.receiver.services_in_trace(spans[0].trace_id) >= {f"cicero-{s}" for s in SERVICES}

    try:
        await wait_for(one_trace_spans_all_services, timeout=20, what="spans of all five services in one trace")
    except AssertionError:
        seen = {(s.service, s.name, s.trace_id[:8]) for s in stack.receiver.snapshot()}
        raise AssertionError(f"spans seen: {sorted(seen)}") from None
    fire_spans = [s for s in stack.receiver.snapshot() if s.name == "fire post-fetch"]
    trace_id = fire_spans[0].trace_id
    names = {(s.service, s.name) for s in stack.receiver.snapshot() if s.trace_id == trace_id}
    print(f"trace {trace_id}: {len(names)} distinct spans across "
          f"{len(stack.receiver.services_in_trace(trace_id))} services")
    assert ("cicero-wa-gateway", "whatsapp send broadcast") in names
    assert len(stack.messages()) == 2  # one per client group, nothing twice
