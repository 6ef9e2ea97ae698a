"""The WhatsApp outbox and delivery worker (DOMAIN §6): idempotent intake, retries with backoff, dead letters."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cicero_contracts import ContractError
from cicero_contracts.events.whatsapp import WhatsAppMessageRequested, WhatsAppSession
from cicero_contracts.schema_files import load_example
from cicero_runtime.clock import utc_now
from cicero_runtime.consumer import BatchContext, BatchItem, Outcome, decode_envelope
from cicero_runtime.db import connect
from cicero_runtime.event_store import Metadata
from cicero_runtime.service import Service
from cicero_runtime.testing import wait_for
from cicero_runtime.testing.contracts import appended_events, envelope_bytes
from cicero_wa_gateway.delivery import DeliveryWorker
from cicero_wa_gateway.main import build
from cicero_wa_gateway.outbox import NOTIFY_CHANNEL_PREFIX, on_requests
from cicero_wa_gateway.providers import FileProvider, OutgoingMessage, ProviderError, SessionProviders
from cicero_wa_gateway.retry_policy import is_final, retry_delay
from cicero_wa_gateway.settings import GatewaySettings

KEY = "task:POLRES_DEMO:120363025550001111@g.us:2026-03-10-14@05"
SESSION = WhatsAppSession.BROADCAST  # the example request's session


class ScriptedProvider:
    """An in-process double of the provider interface: fails with the queued errors, then succeeds."""

    name = "scripted"

    def __init__(self, *failures: BaseException, is_ready: bool = True) -> None:
        self.failures = list(failures)
        self.is_ready = is_ready
        self.ready_calls = 0
        self.attempts: list[OutgoingMessage] = []

    async def ready(self) -> bool:
        self.ready_calls += 1
        return self.is_ready

    async def send(self, message: OutgoingMessage, now: datetime) -> str:
        self.attempts.append(message)
        if self.failures:
            raise self.failures.pop(0)
        return f"scripted-{len(self.attempts)}"


# -- retry policy ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("attempt", "seconds"), [
    (0, 30), (1, 30), (2, 60), (3, 120), (4, 240), (5, 480), (6, 960), (7, 1920), (8, 3600), (9, 3600), (50, 3600),
])
def test_retry_delay_doubles_from_30s_up_to_an_hour(attempt: int, seconds: int) -> None:
    assert retry_delay(attempt) == timedelta(seconds=seconds)


@pytest.mark.parametrize(("attempt", "base", "cap", "seconds"), [(1, 2, 10, 2), (3, 2, 10, 8), (4, 2, 10, 10)])
def test_retry_delay_base_and_cap_are_configurable(attempt: int, base: float, cap: float, seconds: float) -> None:
    assert retry_delay(attempt, base, cap) == timedelta(seconds=seconds)


@pytest.mark.parametrize(("attempt", "permanent", "final"), [
    (1, False, False), (4, False, False), (5, False, True), (6, False, True), (1, True, True), (4, True, True),
])
def test_is_final_after_max_attempts_or_a_permanent_error(attempt: int, permanent: bool, final: bool) -> None:
    assert is_final(attempt, 5, permanent) is final


# -- intake ------------------------------------------------------------------------------------------------


async def outbox(service: Service) -> list[dict[str, Any]]:
    return [dict(r) for r in await service.pool.fetch("SELECT * FROM wa_outbox ORDER BY created_at")]


async def request(service: Service, event_id: uuid.UUID | None = None, **changes: Any) -> str:
    payload = None if not changes else load_example("WhatsAppMessageRequested", 1) | changes
    return await service.make_consumer("wa-gateway").process(
        envelope_bytes("WhatsAppMessageRequested", payload, event_id=event_id))


async def test_the_example_request_becomes_one_pending_outbox_row(gateway: Service) -> None:
    event_id = uuid.uuid4()
    before = utc_now()
    assert await request(gateway, event_id) == Outcome.HANDLED
    (row,) = await outbox(gateway)
    assert row["idempotency_key"] == KEY
    assert (row["session"], row["chat_id"], row["purpose"], row["client_id"]) == (
        "broadcast", "120363025550001111@g.us", "task_list", "POLRES_DEMO")
    assert row["body"] == "Mohon ijin Komandan,\nDaftar tugas Polres Demo"
    assert (row["status"], row["attempts"], row["last_error"]) == ("pending", 0, None)
    assert row["next_attempt_at"] <= utc_now() and row["next_attempt_at"] >= before - timedelta(seconds=5)
    assert row["request_event_id"] == event_id
    assert row["correlation_id"] == "corr-test"
    assert await appended_events(gateway) == []  # intake records no result


async def test_the_same_idempotency_key_again_is_accepted_and_ignored(gateway: Service) -> None:
    assert await request(gateway) == Outcome.HANDLED
    assert await request(gateway, text="Mohon ijin Komandan,\nteks lain") == Outcome.HANDLED  # another event id
    (row,) = await outbox(gateway)
    assert row["body"] == "Mohon ijin Komandan,\nDaftar tugas Polres Demo"  # the first request wins
    assert await request(gateway, idempotency_key=KEY + "-other") == Outcome.HANDLED
    assert len(await outbox(gateway)) == 2


async def test_a_new_row_wakes_the_worker_through_notify(gateway: Service, gateway_settings: GatewaySettings
                                                         ) -> None:
    listener = await connect(gateway_settings.database_url, gateway.schema)
    woken: list[str] = []
    await listener.add_listener(NOTIFY_CHANNEL_PREFIX + gateway.schema, lambda *args: woken.append(args[2]))
    try:
        await request(gateway)
        await wait_for(lambda: woken, timeout=5, what="a NOTIFY on the outbox channel")
    finally:
        await listener.close()


async def test_a_batch_keeps_the_request_order_per_chat_and_the_first_of_a_key_wins(gateway: Service) -> None:
    items = []
    for key, text in [("z-first", "satu"), ("a-second", "dua"), ("z-first", "lagi"), ("m-third", "tiga")]:
        envelope = decode_envelope(envelope_bytes("WhatsAppMessageRequested", load_example(
            "WhatsAppMessageRequested", 1) | {"idempotency_key": key, "text": text}))
        event = WhatsAppMessageRequested.model_validate(envelope.payload)
        items.append(BatchItem(envelope, event, Metadata(correlation_id="corr-batch")))
    async with gateway.pool.acquire() as conn, conn.transaction():  # one statement: one created_at for all
        await on_requests(items, BatchContext(conn=conn, store=gateway.store))
    rows = {r["idempotency_key"]: r for r in await outbox(gateway)}
    assert sorted(rows) == ["a-second", "m-third", "z-first"] and rows["z-first"]["body"] == "satu"
    provider = ScriptedProvider()
    delivery = worker(gateway, provider)
    for _ in range(3):  # the same chat: one message a pass, in the order requested
        assert await claimed(delivery) == 1
    assert [m.idempotency_key for m in provider.attempts] == ["z-first", "a-second", "m-third"]


async def test_a_request_with_an_invalid_chat_id_is_a_permanent_error(gateway: Service) -> None:
    for chat_id in ("6281234567890", "grup@g.us", "6281234567890@s.whatsapp.net"):
        with pytest.raises(ContractError, match="chat_id"):  # parked in the dead-letter queue at once
            await request(gateway, chat_id=chat_id)
    assert await outbox(gateway) == []
    assert await gateway.pool.fetchval("SELECT count(*) FROM inbox") == 0


# -- delivery ----------------------------------------------------------------------------------------------


def file_lines(path: str) -> list[str]:
    """The file provider's output, one JSON object a line (none before the first message)."""
    file = Path(path)
    return file.read_text(encoding="utf-8").splitlines() if file.exists() else []


def worker(service: Service, provider: Any) -> DeliveryWorker:
    """A worker with ``provider`` on every session, asking its readiness on every pass."""
    settings = service.settings.model_copy(update={"wa_ready_check_interval_s": 0.0})
    return DeliveryWorker(service, SessionProviders.same_for_all(provider), settings)  # type: ignore[arg-type]


async def claimed(delivery: DeliveryWorker, session: WhatsAppSession = SESSION) -> int:
    return (await delivery.deliver_due(session)).claimed


async def age_outbox(service: Service) -> None:
    """Make every pending row due now (the test stands in for the passing of the retry delay)."""
    await service.pool.execute("UPDATE wa_outbox SET next_attempt_at = now() - interval '1 second'")


async def test_the_file_provider_writes_one_json_line_and_sent_is_recorded(
    gateway: Service, gateway_settings: GatewaySettings,
) -> None:
    event_id = uuid.uuid4()
    await request(gateway, event_id)
    delivery = worker(gateway, FileProvider(Path(gateway_settings.wa_file_path)))
    assert await claimed(delivery) == 1
    lines = file_lines(gateway_settings.wa_file_path)
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["text"] == "Mohon ijin Komandan,\nDaftar tugas Polres Demo"
    assert (line["chat_id"], line["session"], line["idempotency_key"]) == (
        "120363025550001111@g.us", "broadcast", KEY)
    (row,) = await outbox(gateway)
    assert (row["status"], row["attempts"], row["provider_message_id"]) == ("sent", 1, line["message_id"])
    (sent,) = await appended_events(gateway)
    assert sent.event_type == "WhatsAppMessageSent"
    assert sent.stream_id == f"wa:{KEY}"
    assert sent.payload["idempotency_key"] == KEY
    assert (sent.payload["provider"], sent.payload["provider_message_id"]) == ("file", line["message_id"])
    assert sent.payload["attempt"] == 1
    assert sent.metadata["causation_id"] == str(event_id)
    assert sent.metadata["correlation_id"] == "corr-test"
    # nothing left to do: a second pass sends nothing twice
    assert await claimed(delivery) == 0
    assert len(file_lines(gateway_settings.wa_file_path)) == 1


@pytest.mark.parametrize("error", [ProviderError("HTTP 503 from provider"), ConnectionResetError("reset by peer")])
async def test_a_transient_failure_puts_the_row_back_with_a_30s_delay(gateway: Service, error: Exception) -> None:
    await request(gateway)
    provider = ScriptedProvider(error)
    before = utc_now()
    assert await claimed(worker(gateway, provider)) == 1
    after = utc_now()
    (row,) = await outbox(gateway)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert before + timedelta(seconds=30) <= row["next_attempt_at"] <= after + timedelta(seconds=30)
    assert ("503" in row["last_error"]) or ("reset by peer" in row["last_error"])
    (failed,) = await appended_events(gateway)
    assert failed.event_type == "WhatsAppMessageFailed"
    assert (failed.payload["attempt"], failed.payload["final"], failed.payload["provider"]) == (1, False, "scripted")
    # not due yet: nothing is claimed before the delay has passed
    assert await claimed(worker(gateway, provider)) == 0
    assert len(provider.attempts) == 1


async def test_five_failed_attempts_end_in_the_dead_letters(gateway: Service) -> None:
    await request(gateway)
    provider = ScriptedProvider(*(ProviderError(f"HTTP 503 #{n}") for n in range(1, 7)))
    delivery = worker(gateway, provider)
    delays = []
    for attempt in range(1, 6):
        before = utc_now()
        assert await claimed(delivery) == 1, attempt
        (row,) = await outbox(gateway)
        assert row["attempts"] == attempt
        delays.append(round((row["next_attempt_at"] - before).total_seconds()))
        await age_outbox(gateway)
    assert delays[:4] == [30, 60, 120, 240]
    (row,) = await outbox(gateway)
    assert row["status"] == "dead_letter"
    assert row["last_error"] == "HTTP 503 #5"
    failed = await appended_events(gateway)
    assert [(e.payload["attempt"], e.payload["final"]) for e in failed] == [
        (1, False), (2, False), (3, False), (4, False), (5, True)]
    # a dead letter is never tried again, even when "due"
    assert await claimed(delivery) == 0
    assert len(provider.attempts) == 5


async def test_a_permanent_error_goes_to_the_dead_letters_at_once(gateway: Service) -> None:
    await request(gateway)
    provider = ScriptedProvider(ProviderError("number not on WhatsApp", permanent=True))
    assert await claimed(worker(gateway, provider)) == 1
    (row,) = await outbox(gateway)
    assert (row["status"], row["attempts"], row["last_error"]) == ("dead_letter", 1, "number not on WhatsApp")
    (failed,) = await appended_events(gateway)
    assert (failed.payload["attempt"], failed.payload["final"]) == (1, True)
    await age_outbox(gateway)
    assert await claimed(worker(gateway, provider)) == 0


async def test_a_retry_that_succeeds_records_its_attempt(gateway: Service) -> None:
    await request(gateway)
    provider = ScriptedProvider(ProviderError("HTTP 429"))
    delivery = worker(gateway, provider)
    await claimed(delivery)
    await age_outbox(gateway)
    assert await claimed(delivery) == 1
    (row,) = await outbox(gateway)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 2, None)
    assert [(e.event_type, e.payload["attempt"]) for e in await appended_events(gateway)] == [
        ("WhatsAppMessageFailed", 1), ("WhatsAppMessageSent", 2)]


async def test_a_stale_processing_row_is_reclaimed_and_a_fresh_one_is_not(gateway: Service) -> None:
    await request(gateway)
    await request(gateway, idempotency_key=KEY + "-fresh")
    # two rows claimed by a worker that died: one 6 minutes ago, one 1 minute ago
    await gateway.pool.execute(
        """UPDATE wa_outbox SET status = 'processing', attempts = 1,
           updated_at = now() - CASE WHEN idempotency_key = $1 THEN interval '6 minutes'
                                     ELSE interval '1 minute' END""", KEY)
    provider = ScriptedProvider()
    assert await claimed(worker(gateway, provider)) == 1
    assert [m.idempotency_key for m in provider.attempts] == [KEY]
    rows = {r["idempotency_key"]: r for r in await outbox(gateway)}
    assert (rows[KEY]["status"], rows[KEY]["attempts"]) == ("sent", 2)
    assert rows[KEY + "-fresh"]["status"] == "processing"  # its worker may still be sending it
    abandoned, sent = await appended_events(gateway)  # the abandoned attempt is reported, then the new one
    assert (abandoned.event_type, abandoned.payload["attempt"], abandoned.payload["final"]) == (
        "WhatsAppMessageFailed", 1, False)
    assert "no result within 300 s of attempt 1" in abandoned.payload["reason"]
    assert (sent.event_type, sent.payload["attempt"]) == ("WhatsAppMessageSent", 2)


async def test_a_provider_that_is_not_ready_holds_messages(gateway: Service) -> None:
    await request(gateway)
    provider = ScriptedProvider(is_ready=False)
    delivery = worker(gateway, provider)
    assert (await delivery.deliver_pass(SESSION)).claimed == 0
    assert provider.ready_calls == 1 and provider.attempts == []
    (row,) = await outbox(gateway)
    assert (row["status"], row["attempts"]) == ("pending", 0)  # not claimed, not counted as an attempt
    provider.is_ready = True
    assert (await delivery.deliver_pass(SESSION)).claimed == 1
    assert (await outbox(gateway))[0]["status"] == "sent"


async def test_the_run_loop_holds_while_not_ready_and_sends_once_ready(gateway: Service) -> None:
    provider = ScriptedProvider(is_ready=False)
    delivery = worker(gateway, provider)
    stop = asyncio.Event()
    running = asyncio.create_task(delivery.run(gateway, stop))
    try:
        await wait_for(lambda: provider.ready_calls >= 1, timeout=5, what="a first pass")
        await request(gateway)  # NOTIFY wakes the loop for a second pass
        await wait_for(lambda: provider.ready_calls >= 2, timeout=5, what="a pass after the request")
        assert provider.attempts == []
        (row,) = await outbox(gateway)
        assert (row["status"], row["attempts"]) == ("pending", 0)
        provider.is_ready = True
        await gateway.pool.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL_PREFIX + gateway.schema)
        await wait_for(lambda: gateway.pool.fetchval("SELECT status = 'sent' FROM wa_outbox"), timeout=5,
                       what="the held message sent")
        assert len(provider.attempts) == 1
    finally:
        stop.set()
        await asyncio.wait_for(running, 5)


async def test_the_service_as_built_delivers_a_request_to_the_file(gateway_settings: GatewaySettings) -> None:
    service = build(gateway_settings)
    await service.start(with_relay=False, with_consumers=False, with_health=False, with_background=True)
    try:
        await request(service)
        await wait_for(lambda: file_lines(gateway_settings.wa_file_path), timeout=5, what="the message in the file")
        (line,) = file_lines(gateway_settings.wa_file_path)
        assert json.loads(line)["idempotency_key"] == KEY
        await wait_for(lambda: service.pool.fetchval("SELECT count(*) = 1 FROM events"), timeout=5,
                       what="WhatsAppMessageSent recorded")
        (sent,) = await appended_events(service)
        assert sent.event_type == "WhatsAppMessageSent"
    finally:
        await service.stop()
