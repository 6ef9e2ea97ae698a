"""Complaint replies (DOMAIN §5): e-mail at once and at most once, WhatsApp through the ledger, SMTP failures
retried or not as the server says, and reported to the admins."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from cicero_contracts.schema_files import load_example
from cicero_notifier.email_outbox import EmailWorker
from cicero_notifier.mailer import Mailer
from cicero_notifier.main import build
from cicero_notifier.settings import NotifierSettings
from cicero_runtime.consumer import Outcome
from cicero_runtime.service import Service
from cicero_runtime.testing import wait_for
from cicero_runtime.testing.contracts import assert_matches_contract, envelope_bytes
from cicero_runtime.testing.fixtures import service_settings, started_service
from cicero_runtime.testing.smtp_sink import SmtpSink, smtp_sink
from cicero_runtime.topology import BusNames

USER = "75020001"
KEY = f"complaint:LAP-2026-0042:{USER}"
CLOCK = datetime(2026, 3, 10, 8, 13, tzinfo=UTC)


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@dataclass
class World:
    service: Service
    settings: NotifierSettings
    sink: SmtpSink
    sleeps: Sleeps
    worker: EmailWorker

    async def handle(self, payload: dict[str, Any] | None = None, event_id: uuid.UUID | None = None) -> str:
        consumer = self.service.make_consumer("notifier")
        return await consumer.process(envelope_bytes("ComplaintReplyRequested", payload, event_id=event_id))

    async def events(self) -> list[dict[str, Any]]:
        async with self.service.pool.acquire() as conn:
            recorded = await self.service.store.read_after(conn, 0, 1000)
        for event in recorded:
            assert_matches_contract(event)
        return [{"type": e.event_type, "stream": e.stream_id, "payload": e.payload, "metadata": e.metadata}
                for e in recorded]

    async def email_log(self) -> list[dict[str, Any]]:
        return [dict(r) for r in await self.service.pool.fetch("SELECT * FROM email_log ORDER BY created_at")]


async def register(service: Service, **changes: Any) -> None:
    payload = load_example("PersonnelRegistered") | {"user_id": USER, "name": "Siti Aminah", "title": "BRIPDA",
                                                      "email": "Siti.Aminah@Example.org",
                                                      "whatsapp": "6281298765432"} | changes
    consumer = service.make_consumer("notifier")
    assert await consumer.process(envelope_bytes("PersonnelRegistered", payload)) == Outcome.HANDLED


@pytest_asyncio.fixture
async def world(database_url: str, amqp_url: str, namespace: str, bus_names: BusNames,
                notifier_schema: str) -> AsyncIterator[World]:
    async with smtp_sink() as sink:
        settings = service_settings(NotifierSettings, database_url, notifier_schema, namespace, amqp_url=amqp_url,
                                    smtp_host=sink.host, smtp_port=sink.port, smtp_max_attempts=3,
                                    smtp_retry_base_s=1.5, health_port=0)
        async with started_service(build(settings)) as service:
            sleeps = Sleeps()
            worker = EmailWorker(service, Mailer(settings, sleep=sleeps), settings, clock=lambda: CLOCK)
            yield World(service, settings, sink, sleeps, worker)


async def test_email_and_whatsapp_go_out_once(world: World) -> None:
    await register(world.service)
    event_id = uuid.uuid4()
    assert await world.handle(event_id=event_id) == Outcome.HANDLED

    (row,) = await world.email_log()
    assert (row["email_key"], row["status"], row["recipient"], row["purpose"]) == (
        KEY, "pending", "siti.aminah@example.org", "complaint_reply")
    assert (row["correlation_id"], row["causation_id"]) == ("corr-test", str(event_id))
    (request,) = await world.events()
    assert (request["type"], request["stream"]) == ("WhatsAppMessageRequested", "complaint:LAP-2026-0042")
    payload = request["payload"]
    assert (payload["idempotency_key"], payload["session"], payload["chat_id"], payload["purpose"]) == (
        KEY, "operator", "6281298765432@c.us", "complaint_reply")
    assert payload["client_id"] == "POLRES_DEMO" and payload["requested_at"] == "2026-03-10T08:12:00Z"
    assert payload["text"].splitlines()[:3] == ["*Tindak Lanjut Laporan Cicero*", "",
                                                "Yth. Bapak/Ibu BRIPDA Siti Aminah,"]
    assert "akun Instagram sudah diperbarui" in payload["text"]
    ledger = await world.service.pool.fetchrow("SELECT * FROM notifications WHERE idempotency_key = $1", KEY)
    assert ledger is not None and (ledger["purpose"], ledger["user_id"]) == ("complaint_reply", USER)

    assert await world.worker.send_pending() == 1
    (mail,) = world.sink.received
    assert mail.rcpt_tos == ("siti.aminah@example.org",)
    assert mail.message["Subject"] == "Tindak Lanjut Laporan Cicero"
    assert mail.text.splitlines()[:5] == ["Yth. Bapak/Ibu BRIPDA Siti Aminah,", "",
                                          "Berikut tindak lanjut atas laporan Anda (nomor LAP-2026-0042):", "",
                                          "Laporan Anda sudah kami tindak lanjuti: akun Instagram sudah diperbarui."]
    (row,) = await world.email_log()
    assert (row["status"], row["attempts"], row["finished_at"], row["failure"]) == ("sent", 1, CLOCK, None)

    # the same event again, and another event for the same complaint: nothing more goes out
    assert await world.handle(event_id=event_id) == Outcome.DUPLICATE
    assert await world.handle() == Outcome.HANDLED
    assert await world.worker.send_pending() == 0
    assert len(world.sink.received) == 1
    assert len(await world.email_log()) == 1
    assert len(await world.events()) == 1


async def test_a_given_subject_is_used(world: World) -> None:
    await register(world.service, whatsapp=None)
    payload = load_example("ComplaintReplyRequested") | {"subject": "Balasan Laporan Akun TikTok"}
    await world.handle(payload)
    await world.worker.send_pending()
    assert world.sink.received[0].message["Subject"] == "Balasan Laporan Akun TikTok"
    assert await world.events() == []  # no number, no WhatsApp


async def test_without_an_address_only_whatsapp(world: World) -> None:
    await register(world.service, email=None)
    await world.handle()
    assert await world.email_log() == []
    assert [e["type"] for e in await world.events()] == ["WhatsAppMessageRequested"]


async def test_an_invalid_address_is_skipped(world: World) -> None:
    await register(world.service, email="siti at example")
    await world.handle()
    assert await world.email_log() == []
    assert [e["type"] for e in await world.events()] == ["WhatsAppMessageRequested"]


async def test_no_channel_at_all_is_reported(world: World) -> None:
    await register(world.service, email="", whatsapp="123")
    assert await world.handle() == Outcome.HANDLED
    (alert,) = await world.events()
    assert alert["type"] == "OperationalAlertRaised"
    assert alert["payload"]["severity"] == "warning" and alert["payload"]["client_id"] == "POLRES_DEMO"
    assert "LAP-2026-0042" in alert["payload"]["summary"] and USER in alert["payload"]["summary"]


async def test_an_unknown_person_is_a_transient_failure_that_writes_nothing(world: World) -> None:
    event_id = uuid.uuid4()
    with pytest.raises(LookupError, match=USER):
        await world.handle(event_id=event_id)
    assert await world.email_log() == [] and await world.events() == []
    await register(world.service)
    assert await world.handle(event_id=event_id) == Outcome.HANDLED  # the retry completes
    assert len(await world.email_log()) == 1


async def test_a_451_is_retried_with_backoff_then_delivered(world: World) -> None:
    await register(world.service, whatsapp=None)
    world.sink.script.data_replies.append("451 4.3.0 coba lagi nanti")
    await world.handle()
    await world.worker.send_pending()
    assert world.sleeps.delays == [1.5]
    assert len(world.sink.received) == 1
    (row,) = await world.email_log()
    assert (row["status"], row["attempts"]) == ("sent", 2)
    assert await world.events() == []  # delivered in the end: nothing for the admins


async def test_a_550_is_not_retried_and_is_reported(world: World) -> None:
    await register(world.service, whatsapp=None)
    world.sink.script.refused_recipients["siti.aminah@example.org"] = "550 5.1.1 mailbox tidak ada"
    event_id = uuid.uuid4()
    await world.handle(event_id=event_id)
    await world.worker.send_pending()
    assert world.sink.handler.rcpt_commands == 1 and world.sleeps.delays == []
    (row,) = await world.email_log()
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert row["failure"] == "550 5.1.1 mailbox tidak ada"
    (alert,) = await world.events()
    assert (alert["type"], alert["stream"]) == ("OperationalAlertRaised", f"email:{KEY}")
    assert alert["payload"]["summary"] == f"E-mail {KEY} ke s***@example.org ditolak server, tidak dicoba ulang"
    assert alert["payload"]["details"] == ["550 5.1.1 mailbox tidak ada"]
    assert alert["metadata"]["causation_id"] == str(event_id)
    # a failed e-mail is never tried again
    assert await world.worker.send_pending() == 0


async def test_a_server_that_keeps_failing_is_given_up_and_reported(world: World) -> None:
    await register(world.service, whatsapp=None)
    world.sink.script.data_replies.extend(["421 4.3.2 sedang sibuk"] * 3)
    await world.handle()
    await world.worker.send_pending()
    assert world.sleeps.delays == [1.5, 3.0]
    assert world.sink.received == []
    (row,) = await world.email_log()
    assert (row["status"], row["attempts"]) == ("failed", 3)
    (alert,) = await world.events()
    assert alert["payload"]["summary"].endswith("gagal setelah 3 percobaan")
    assert alert["payload"]["severity"] == "error"


async def test_an_interrupted_send_is_never_repeated(world: World) -> None:
    await register(world.service, whatsapp=None)
    await world.handle()
    # the process died after claiming the row (maybe after the server accepted it)
    started = CLOCK - timedelta(seconds=world.settings.email_sending_stale_s + 1)
    await world.service.pool.execute("UPDATE email_log SET status = 'sending', started_at = $1", started)
    assert await world.worker.send_pending() == 0
    assert world.sink.received == []
    (row,) = await world.email_log()
    assert row["status"] == "failed" and "tidak diketahui" in row["failure"]
    (alert,) = await world.events()
    assert "tidak pasti terkirim" in alert["payload"]["summary"]
    # reported once
    assert await world.worker.settle_interrupted() == 0


async def test_a_send_still_in_progress_is_left_alone(world: World) -> None:
    await register(world.service, whatsapp=None)
    await world.handle()
    await world.service.pool.execute("UPDATE email_log SET status = 'sending', started_at = $1", CLOCK)
    assert await world.worker.settle_interrupted() == 0
    assert (await world.email_log())[0]["status"] == "sending"


async def test_the_running_worker_sends_as_soon_as_the_reply_is_committed(world: World) -> None:
    await register(world.service, whatsapp=None)
    stop = asyncio.Event()
    task = asyncio.create_task(world.worker.run(world.service, stop))
    try:
        await world.handle()
        await wait_for(lambda: world.sink.received, timeout=4, what="the complaint e-mail")  # the poll is 5 s
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert (await world.email_log())[0]["status"] == "sent"
