"""The whole system as separate processes: a fired tick becomes a WhatsApp message, traced end to end."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from cicero_runtime.testing import wait_for
from cicero_runtime.testing.otlp_receiver import OtlpReceiver
from cicero_runtime.testing.processes import bin_path, run_command

from .stack import REPO, SERVICES, Stack, running_stack

TICK_AT = "2026-03-10T14:05:00+07:00"
EXPECTED_KEY = "task:POLRES_DEMO:120363025550001111@g.us:2026-03-10-14@05"


@pytest.fixture
def otlp() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as receiver:
        yield receiver


@pytest_asyncio.fixture
async def stack(tmp_path: Path, amqp_url: str, otlp: OtlpReceiver) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path, amqp_url, env={"OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint}) as running:
        yield running


async def test_fired_tick_reaches_whatsapp_with_one_trace_across_five_services(stack: Stack, otlp: OtlpReceiver
                                                                               ) -> None:
    await stack.wait_healthy(timeout=30)

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

    fire_spans = [s for s in otlp.snapshot() if s.name == "fire post-fetch"]

    async def one_trace_spans_all_services() -> bool:
        spans = [s for s in otlp.snapshot() if s.name == "fire post-fetch"]
        if not spans:
            return False
        return otlp.services_in_trace(spans[0].trace_id) >= {f"cicero-{s}" for s in SERVICES}

    try:
        await wait_for(one_trace_spans_all_services, timeout=20, what="spans of all five services in one trace")
    except AssertionError:
        seen = {(s.service, s.name, s.trace_id[:8]) for s in otlp.snapshot()}
        raise AssertionError(f"spans seen: {sorted(seen)}") from None
    fire_spans = [s for s in otlp.snapshot() if s.name == "fire post-fetch"]
    trace_id = fire_spans[0].trace_id
    names = {(s.service, s.name) for s in otlp.snapshot() if s.trace_id == trace_id}
    print(f"trace {trace_id}: {len(names)} distinct spans across "
          f"{len(otlp.services_in_trace(trace_id))} services")
    assert ("cicero-wa-gateway", "whatsapp send broadcast") in names
    assert len(stack.messages()) == 2  # one per client group, nothing twice
