"""Admin commands over WhatsApp through every service as separate processes (DOMAIN §6).

A WAHA-style webhook delivers what an operator typed to the gateway, which records it as
WhatsAppMessageReceived; the notifier identifies the sender from its copy of the directory and answers
through the operator session: ``rekap#`` gets attendance's recap back, ``fetch#`` makes ingest fetch the unit
now (and the unit's groups get the task list the slot rules demand). A number nobody registered gets nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest_asyncio
from cicero_runtime.clock import WIB
from cicero_runtime.testing.processes import free_port

from .stack import REPO, QuietProbe, Stack, consumer_edges, running_stack

WAHA_KEY = "e2e-waha-key"
OPERATOR = "6281234567890"
"""POLRES_DEMO's operator in examples/clients.csv (written there as 081234567890)."""
STRANGER = "6289900000001"
GROUP = "120363025550001111@g.us"
SENT_AT = datetime(2026, 3, 10, 10, 10, tzinfo=WIB)


@pytest_asyncio.fixture
async def stack(tmp_path: Path, amqp_url: str) -> AsyncIterator[tuple[Stack, int]]:
    port = free_port()
    env = {"WA_WEBHOOK_PORT": str(port), "WA_WEBHOOK_HOST": "127.0.0.1", "WA_WAHA_WEBHOOK_KEY": WAHA_KEY}
    async with running_stack(tmp_path, amqp_url, env=env) as running:
        yield running, port


def waha_message(sender: str, text: str) -> dict[str, Any]:
    timestamp = int(SENT_AT.timestamp())
    return {"id": f"evt_{uuid.uuid4().hex[:8]}", "timestamp": timestamp * 1000, "event": "message",
            "session": "default", "payload": {
                "id": f"false_{sender}@c.us_{uuid.uuid4().hex[:12].upper()}", "timestamp": timestamp,
                "from": f"{sender}@c.us", "fromMe": False, "body": text, "hasMedia": False}}


async def test_operators_commands_are_answered_and_strangers_get_nothing(stack: tuple[Stack, int]) -> None:
    system, port = stack
    await system.wait_healthy(timeout=60)
    system.cli("attendance", "import-clients", str(REPO / "examples/clients.csv"))
    system.cli("attendance", "import-personnel", str(REPO / "examples/personnel.csv"))
    probe = QuietProbe(consumer_edges())
    conn = await asyncpg.connect(system.database_url)
    try:
        await probe.wait(conn, system, "the directory import", timeout=60)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for sender, text in ((STRANGER, "rekap#POLRES_DEMO"), (OPERATOR, "rekap#POLRES_DEMO#2026-03-10"),
                                 (OPERATOR, "fetch#POLRES_DEMO")):
                answer = await client.post("/webhooks/waha", json=waha_message(sender, text),
                                           headers={"X-Api-Key": WAHA_KEY})
                assert answer.status_code == 200, answer.text
            refused = await client.post("/webhooks/waha", json=waha_message(OPERATOR, "menu"),
                                        headers={"X-Api-Key": "wrong"})
            assert refused.status_code == 401
        await probe.wait(conn, system, "the commands", timeout=60)
    finally:
        await conn.close()

    messages = system.messages()
    to_operator = [m for m in messages if m["chat_id"] == f"{OPERATOR}@c.us"]
    assert all(m["session"] == "operator" for m in to_operator)
    recaps = [m for m in to_operator if "Rekap" in m["text"] and "Polres Demo" in m["text"]]
    assert len(recaps) == 1, [m["text"][:120] for m in to_operator]
    assert "10 Maret 2026" in recaps[0]["text"]
    fetch_replies = [m for m in to_operator if m["idempotency_key"].startswith("cmd:") and "POLRES_DEMO" in m["text"]]
    assert len(fetch_replies) == 1, [m["text"][:120] for m in to_operator]
    # the manual fetch at 10:10 WIB is the 10@05 slot's first fetch: the unit's group gets its task list
    lists = [m for m in messages if m["chat_id"] == GROUP and m["idempotency_key"].startswith("task:")]
    assert [m["idempotency_key"] for m in lists] == [f"task:POLRES_DEMO:{GROUP}:2026-03-10-10@05"]
    assert not [m for m in messages if m["chat_id"] == f"{STRANGER}@c.us"], "an unknown number got an answer"
    assert len({m["idempotency_key"] for m in messages}) == len(messages), "a message went out twice"
