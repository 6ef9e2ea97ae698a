"""The gateway as main.py wires it (real PostgreSQL and RabbitMQ) against the fake provider server:
failures, timeouts and rate limits end in ``sent`` or ``dead_letter`` with nothing delivered twice,
redelivered requests send once, a provider that is not ready holds messages, pacing spaces the sends of a
session across replicas without delaying other sessions, stale rows are reclaimed."""

from __future__ import annotations

import contextlib
import itertools
import logging
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any

import aio_pika
import pytest
from cicero_contracts.events.whatsapp import WhatsAppSession
from cicero_contracts.names import WA_GATEWAY_REQUESTS
from cicero_contracts.schema_files import load_example
from cicero_runtime.event_store import RecordedEvent
from cicero_runtime.service import Service
from cicero_runtime.testing import wait_for
from cicero_runtime.testing.contracts import appended_events, envelope_bytes
from cicero_runtime.testing.fake_whatsapp import FakeWhatsApp, Reply
from cicero_runtime.topology import BusNames
from cicero_wa_gateway.delivery import DeliveryWorker
from cicero_wa_gateway.main import build
from cicero_wa_gateway.providers import build_providers
from cicero_wa_gateway.settings import GatewaySettings
from pydantic import SecretStr

MakeSettings = Callable[..., GatewaySettings]


@pytest.fixture
def make_settings(gateway_settings: GatewaySettings, fake: FakeWhatsApp) -> MakeSettings:
    """Production wiring against the fake, with delays shrunk so retries happen within a second.

    The HTTP timeout stays at a second: an accepted send whose answer a loaded machine delays past the
    timeout is retried and delivered twice (the ambiguity every timeout has; the idempotency header is
    there for providers that dedupe), which would make "never delivered twice" flaky."""

    def make(**overrides: Any) -> GatewaySettings:
        fast: dict[str, Any] = {
            "wa_provider": "waha", "wa_waha_base_url": fake.url, "wa_waha_api_key": SecretStr(fake.waha_api_key),
            "wa_cloud_base_url": fake.url, "wa_cloud_token": SecretStr(fake.cloud_token),
            "wa_cloud_phone_number_id": fake.phone_number_id, "wa_http_timeout_s": 1.0, "wa_retry_base_s": 0.1,
            "wa_retry_max_s": 0.4, "wa_poll_interval_s": 0.1, "wa_ready_check_interval_s": 0.1,
            "relay_poll_interval_s": 0.2, "health_port": 0,
        }
        return gateway_settings.model_copy(update=fast | overrides)

    return make


@contextlib.asynccontextmanager
async def running(settings: GatewaySettings) -> AsyncIterator[Service]:
    """The whole service: consumer on RabbitMQ, delivery worker, relay."""
    service = build(settings)
    await service.start(with_health=False)
    try:
        yield service
    finally:
        await service.stop()


def request_body(key: str, *, session: str = "operator", chat_id: str | None = None, text: str | None = None,
                 event_id: uuid.UUID | None = None) -> bytes:
    payload = load_example("WhatsAppMessageRequested", 1) | {
        "idempotency_key": key, "session": session, "text": text or f"Mohon ijin Komandan, pesan {key}",
        "chat_id": chat_id or ("6281200000000@c.us" if session == "operator" else "120363000000000000@g.us")}
    return envelope_bytes("WhatsAppMessageRequested", payload, event_id=event_id)


async def publish(amqp_url: str, names: BusNames, bodies: list[bytes]) -> None:
    """Onto the gateway's queue as the relay would put them, confirmed by the broker."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        for body in bodies:
            await channel.default_exchange.publish(
                aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=names.queue(WA_GATEWAY_REQUESTS), mandatory=True)
    finally:
        await connection.close()


async def rows_by_key(service: Service) -> dict[str, dict[str, Any]]:
    return {r["idempotency_key"]: dict(r) for r in await service.pool.fetch("SELECT * FROM wa_outbox")}


async def events_by_key(service: Service) -> dict[str, list[RecordedEvent]]:
    found: dict[str, list[RecordedEvent]] = defaultdict(list)
    for event in await appended_events(service):
        found[event.payload["idempotency_key"]].append(event)
    return found


async def all_settled(service: Service, count: int) -> bool:
    settled: int = await service.pool.fetchval(
        "SELECT count(*) FROM wa_outbox WHERE status IN ('sent', 'dead_letter')")
    return settled == count


def assert_events_match_rows(rows: dict[str, dict[str, Any]], events: dict[str, list[RecordedEvent]]) -> None:
    """One Sent per sent message; a Failed per failed attempt, numbered 1, 2, …; final once, on dead letter."""
    assert set(events) <= set(rows)
    for key, row in rows.items():
        history = events.get(key, [])
        failed = [e for e in history if e.event_type == "WhatsAppMessageFailed"]
        sent = [e for e in history if e.event_type == "WhatsAppMessageSent"]
        assert [e.payload["attempt"] for e in history] == list(range(1, row["attempts"] + 1)), key
        assert len(sent) == (1 if row["status"] == "sent" else 0), key
        if sent:
            assert history[-1] is sent[0] and sent[0].payload["provider_message_id"] == row["provider_message_id"]
        finals = [e for e in failed if e.payload["final"]]
        assert len(finals) == (1 if row["status"] == "dead_letter" else 0), key
        if finals:
            assert history[-1] is finals[0] and finals[0].payload["reason"] == row["last_error"]


# -- failures, timeouts and rate limits -----------------------------------------------------------------


async def test_40_messages_through_failures_timeouts_and_rate_limits_end_sent_or_dead_never_twice(
    gateway: Service, make_settings: MakeSettings, fake: FakeWhatsApp, amqp_url: str, bus_names: BusNames,
) -> None:
    keys = [f"msg-{n:02d}" for n in range(38)] + ["rejected", "doomed"]
    fake.script(*itertools.islice(itertools.cycle([
        Reply.fail(500), Reply.timeout(1.5), Reply.accept(), Reply.rate_limit(retry_after_s=0.6), Reply.fail(502),
        Reply.accept(), Reply.timeout(1.5), Reply.fail(503),
    ]), 24))
    fake.script(Reply.reject(400), key="rejected")
    fake.script(*(Reply.fail(500) for _ in range(6)), key="doomed")
    bodies = [request_body(key, session="operator" if n % 2 else "broadcast",
                           chat_id=f"62812000{n:05d}@c.us" if n % 2 else f"1203630000000{n:05d}@g.us")
              for n, key in enumerate(keys)]
    async with running(make_settings(wa_batch_size=8)):
        await publish(amqp_url, bus_names, bodies)
        await wait_for(lambda: all_settled(gateway, len(keys)), timeout=40, what="every message sent or dead")

    rows = await rows_by_key(gateway)
    assert set(rows) == set(keys)
    assert (rows["rejected"]["status"], rows["rejected"]["attempts"]) == ("dead_letter", 1)
    assert "HTTP 400" in rows["rejected"]["last_error"]
    assert (rows["doomed"]["status"], rows["doomed"]["attempts"]) == ("dead_letter", 5)
    assert {k for k, r in rows.items() if r["status"] == "sent"} == set(keys) - {"rejected", "doomed"}
    delivered = fake.delivery_counts()
    assert set(delivered.values()) == {1}, "a message was delivered twice"
    assert set(delivered) == {k for k, r in rows.items() if r["status"] == "sent"}
    assert_events_match_rows(rows, await events_by_key(gateway))
    replies = [r.reply for r in fake.requests()]
    assert replies.count("timeout") >= 5 and replies.count("rate_limit") >= 2 and replies.count("fail") >= 9

    # a 429's Retry-After (longer than any backoff here): that message is not tried again before it
    by_key = defaultdict(list)
    for r in fake.requests():
        by_key[r.idempotency_key].append(r)
    limited = [(r, by_key[r.idempotency_key]) for r in fake.requests() if r.reply == "rate_limit"]
    for request, attempts in limited:
        later = attempts[attempts.index(request) + 1]
        assert later.arrived_at - request.arrived_at >= 0.6


async def test_a_rate_limit_holds_the_whole_session_for_its_retry_after(
    gateway: Service, make_settings: MakeSettings, fake: FakeWhatsApp, amqp_url: str, bus_names: BusNames,
) -> None:
    fake.script(Reply.rate_limit(retry_after_s=1.0), key="first")
    chat = "6281277777777@c.us"  # one chat: its messages go one at a time, in order
    async with running(make_settings()):
        await publish(amqp_url, bus_names, [request_body(k, chat_id=chat) for k in ("first", "second", "third")])
        await wait_for(lambda: all_settled(gateway, 3), timeout=10, what="all three sent")
    limited, *rest = fake.requests()
    assert (limited.idempotency_key, limited.reply) == ("first", "rate_limit")
    assert all(r.arrived_at - limited.arrived_at >= 1.0 for r in rest)
    assert sorted(r.idempotency_key for r in rest) == ["first", "second", "third"]
    assert set(fake.delivery_counts().values()) == {1}


async def test_permanent_errors_dead_letter_at_once(
    gateway: Service, make_settings: MakeSettings, fake: FakeWhatsApp, amqp_url: str, bus_names: BusNames,
) -> None:
    fake.script(Reply.reject(400), key="refused")
    fake.script(Reply.reject(404), key="unknown")
    settings = make_settings(wa_provider="cloud")  # the Cloud API cannot reach groups: refused before sending
    async with running(settings):
        await publish(amqp_url, bus_names, [request_body("refused"), request_body("unknown"),
                                            request_body("group", session="broadcast")])
        await wait_for(lambda: all_settled(gateway, 3), timeout=10, what="three dead letters")
    rows = await rows_by_key(gateway)
    assert {k: (r["status"], r["attempts"]) for k, r in rows.items()} == {
        "refused": ("dead_letter", 1), "unknown": ("dead_letter", 1), "group": ("dead_letter", 1)}
    assert "cannot send to groups" in rows["group"]["last_error"]
    assert "(131026)" in rows["refused"]["last_error"]
    assert [r.idempotency_key for r in fake.requests()].count("group") == 0
    assert fake.deliveries() == []
    assert_events_match_rows(rows, await events_by_key(gateway))


# -- duplicates ---------------------------------------------------------------------------------------------


async def test_a_redelivered_request_and_a_repeated_key_send_once(
    gateway: Service, make_settings: MakeSettings, fake: FakeWhatsApp, amqp_url: str, bus_names: BusNames,
) -> None:
    event_id = uuid.uuid4()
    same = request_body("recap:POLRES_DEMO:2026-03-10", event_id=event_id)
    again = request_body("recap:POLRES_DEMO:2026-03-10", text="teks lain, kunci sama")  # a new event id
    async with running(make_settings()):
        await publish(amqp_url, bus_names, [same, same, again, request_body("sentinel")])
        await wait_for(lambda: all_settled(gateway, 2), timeout=10, what="both messages sent")

        async def all_consumed() -> bool:
            inbox: int = await gateway.pool.fetchval("SELECT count(*) FROM inbox")
            connection = await aio_pika.connect(amqp_url)
            try:
                queue = await (await connection.channel()).declare_queue(
                    bus_names.queue(WA_GATEWAY_REQUESTS), passive=True)
                return inbox == 3 and queue.declaration_result.message_count == 0
            finally:
                await connection.close()

        await wait_for(all_consumed, timeout=10, what="all four deliveries consumed")
    assert fake.delivery_counts() == {"recap:POLRES_DEMO:2026-03-10": 1, "sentinel": 1}
    (delivery,) = [d for d in fake.deliveries() if d.request.idempotency_key != "sentinel"]
    assert delivery.request.text == "Mohon ijin Komandan, pesan recap:POLRES_DEMO:2026-03-10"  # the first wins
    events = await events_by_key(gateway)
    assert [e.event_type for e in events["recap:POLRES_DEMO:2026-03-10"]] == ["WhatsAppMessageSent"]


# -- readiness --------------------------------------------------------------------------------------------


async def test_a_provider_that_is_not_ready_holds_messages_until_it_is(
    gateway: Service, make_settings: MakeSettings, fake: FakeWhatsApp, amqp_url: str, bus_names: BusNames,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.set_ready(False, "ops")
    settings = make_settings(wa_waha_sessions={"operator": "ops"})  # broadcast stays on "default"
    with caplog.at_level(logging.INFO, logger="cicero_wa_gateway.readiness"):
        async with running(settings):
            await publish(amqp_url, bus_names, [request_body(f"held-{n}") for n in range(3)]
                          + [request_body("group-1", session="broadcast")])
            await wait_for(lambda: all_settled(gateway, 1), timeout=10, what="the broadcast message sent")
            await wait_for(lambda: fake.readiness_checks("ops") >= 4, timeout=10, what="several readiness polls")
            rows = await rows_by_key(gateway)
            assert {k: (r["status"], r["attempts"]) for k, r in rows.items() if k.startswith("held")} == {
                f"held-{n}": ("pending", 0) for n in range(3)}  # not claimed, no attempt counted
            assert [r.idempotency_key for r in fake.requests()] == ["group-1"]
            fake.set_ready(True, "ops")
            await wait_for(lambda: all_settled(gateway, 4), timeout=10, what="the held messages sent")
    assert set(fake.delivery_counts().values()) == {1} and len(fake.deliveries()) == 4
    assert all(r["attempts"] == 1 for r in (await rows_by_key(gateway)).values())
    operator = [r.getMessage() for r in caplog.records if getattr(r, "session", None) == "operator"]
    assert operator == ["whatsapp provider not ready; holding this session's messages", "whatsapp provider ready"]


# -- pacing ------------------------------------------------------------------------------------------------


async def test_pacing_spaces_a_sessions_sends_across_two_replicas_and_other_sessions_go_on(
    gateway: Service, make_settings: MakeSettings, fake: FakeWhatsApp, amqp_url: str, bus_names: BusNames,
) -> None:
    gap = 0.4
    settings = make_settings(wa_pacing_gap_broadcast_s=gap, wa_waha_sessions={"broadcast": "blast"})
    broadcast = [request_body(f"b-{n}", session="broadcast", chat_id=f"1203630000000{n:05d}@g.us")
                 for n in range(4)]
    operator = [request_body(f"o-{n}", chat_id=f"62812000{n:05d}@c.us") for n in range(5)]
    async with running(settings), running(settings):
        await publish(amqp_url, bus_names, broadcast + operator)
        await wait_for(lambda: all_settled(gateway, 9), timeout=15, what="all nine sent")
    arrivals = sorted(r.arrived_at for r in fake.requests() if r.session == "blast")
    assert len(arrivals) == 4
    spacing = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert all(s >= gap for s in spacing), spacing
    operator_arrivals = [r.arrived_at for r in fake.requests() if r.session == "default"]
    assert len(operator_arrivals) == 5
    assert max(operator_arrivals) < arrivals[2], "the paced broadcast session held up the operator session"
    assert set(fake.delivery_counts().values()) == {1}


async def test_the_pacing_gate_is_shared_by_workers_not_kept_in_memory(
    gateway: Service, make_settings: MakeSettings, fake: FakeWhatsApp,
) -> None:
    settings = make_settings(wa_pacing_gap_s=30.0)
    consumer = gateway.make_consumer("wa-gateway")
    for n in range(2):
        await consumer.process(request_body(f"p-{n}", chat_id=f"62812000{n:05d}@c.us"))
    providers = [build_providers(settings), build_providers(settings)]
    first, second = (DeliveryWorker(gateway, p, settings) for p in providers)
    try:
        assert (await first.deliver_pass(WhatsAppSession.OPERATOR)).claimed == 1
        held = await second.deliver_pass(WhatsAppSession.OPERATOR)  # another replica: the same gate
        assert held.claimed == 0 and 29.0 < (held.wait_s or 0) <= 30.0
        assert (await first.deliver_pass(WhatsAppSession.OPERATOR)).claimed == 0
        assert (await second.deliver_pass(WhatsAppSession.BROADCAST)).claimed == 0  # nothing due, not held
        gate = await gateway.pool.fetchrow("SELECT lease_id FROM wa_sessions WHERE session = 'operator'")
        assert gate["lease_id"] is None  # the lease ended with the send
    finally:
        for p in providers:
            await p.close()
    assert len(fake.deliveries()) == 1


# -- stale rows ---------------------------------------------------------------------------------------------


async def test_stale_processing_rows_are_reclaimed_by_the_running_service(
    gateway: Service, make_settings: MakeSettings, fake: FakeWhatsApp,
) -> None:
    consumer = gateway.make_consumer("wa-gateway")
    await consumer.process(request_body("stale-retry"))
    await consumer.process(request_body("stale-last", chat_id="6281299999999@c.us"))
    await gateway.pool.execute(  # claimed 6 minutes ago by a worker that died
        """UPDATE wa_outbox SET status = 'processing', updated_at = now() - interval '6 minutes',
                                attempts = CASE WHEN idempotency_key = 'stale-last' THEN 5 ELSE 1 END""")
    async with running(make_settings()):
        await wait_for(lambda: all_settled(gateway, 2), timeout=10, what="both rows settled")
    rows = await rows_by_key(gateway)
    assert (rows["stale-retry"]["status"], rows["stale-retry"]["attempts"]) == ("sent", 2)
    assert (rows["stale-last"]["status"], rows["stale-last"]["attempts"]) == ("dead_letter", 5)
    assert rows["stale-last"]["last_error"] == (
        "no result within 300 s of attempt 5 (its worker stopped); no attempts left")
    assert list(fake.delivery_counts()) == ["stale-retry"]
    events = await events_by_key(gateway)
    assert [(e.event_type, e.payload["attempt"]) for e in events["stale-retry"]] == [
        ("WhatsAppMessageFailed", 1), ("WhatsAppMessageSent", 2)]
    (last,) = events["stale-last"]  # attempts 1-4 happened before this test's history
    assert (last.event_type, last.payload["attempt"], last.payload["final"]) == ("WhatsAppMessageFailed", 5, True)
    assert last.payload["reason"] == rows["stale-last"]["last_error"]
