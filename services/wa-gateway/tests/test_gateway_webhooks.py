"""Inbound WhatsApp webhooks (DOMAIN §6 "Inbound messages"): authenticity, parsing, exactly-once recording."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from cicero_contracts.events.whatsapp import WhatsAppMessageReceived, WhatsAppSession
from cicero_runtime.identifiers import InvalidIdentifier
from cicero_runtime.service import Service
from cicero_runtime.testing import wait_for
from cicero_runtime.testing.contracts import appended_events
from cicero_runtime.testing.fixtures import service_settings
from cicero_runtime.testing.processes import free_port
from cicero_runtime.topology import BusNames
from cicero_runtime.tracing import setup_tracing
from cicero_wa_gateway.inbound import (
    MalformedWebhook,
    cloud_signature,
    from_unix,
    key_valid,
    masked,
    parse_cloud,
    parse_waha,
    personal_id,
    signature_valid,
    subscription_challenge,
)
from cicero_wa_gateway.main import build
from cicero_wa_gateway.settings import GatewaySettings
from cicero_wa_gateway.webhooks import create_app, serve_webhooks
from pydantic import SecretStr

APP_SECRET = "cloud-app-secret-test"
VERIFY_TOKEN = "verify-me-test"
WAHA_KEY = "waha-key-test"
SENDER = "6281234567890"
GROUP = "120363025550001111@g.us"
T_SENT = 1773126600  # 2026-03-10T07:10:00Z
SENT_AT = datetime(2026, 3, 10, 7, 10, tzinfo=UTC)
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


# -- payloads as the providers send them --------------------------------------------------------------------


def cloud_message(message_id: str = "wamid.TEST1", sender: str = SENDER, body: str = "notifwa#on",
                  **changes: Any) -> dict[str, Any]:
    message = {"from": sender, "id": message_id, "timestamp": str(T_SENT), "type": "text", "text": {"body": body}}
    return message | changes


def cloud_payload(*messages: dict[str, Any], statuses: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": "PNID"},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": "Budi"}, "wa_id": SENDER}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = statuses
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}]}


def waha_payload(event: str = "message", session: str = "default", **message: Any) -> dict[str, Any]:
    payload = {"id": f"false_{SENDER}@c.us_3EB0AAAA", "timestamp": T_SENT, "from": f"{SENDER}@c.us",
               "fromMe": False, "to": "6289900001111@c.us", "body": "recap POLRES_A", "hasMedia": False} | message
    return {"id": "evt_01", "timestamp": T_SENT * 1000, "event": event, "session": session,
            "me": {"id": "6289900001111@c.us"}, "payload": payload}


def raw(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


SESSIONS = {"blast": WhatsAppSession.BROADCAST}


# -- authenticity (pure) ------------------------------------------------------------------------------------


def test_cloud_signature_is_hmac_sha256_hex_of_the_body() -> None:
    # RFC 4231 test case 2
    assert cloud_signature("Jefe", b"what do ya want for nothing?") == (
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")


@pytest.mark.parametrize(("header", "valid"), [
    (cloud_signature(APP_SECRET, b'{"a":1}'), True),
    (cloud_signature(APP_SECRET, b'{"a":1}').upper().replace("SHA256=", "sha256="), True),  # hex case
    (None, False),
    ("", False),
    (cloud_signature(APP_SECRET, b'{"a":2}'), False),  # another body
    (cloud_signature("other-secret", b'{"a":1}'), False),
    (cloud_signature(APP_SECRET, b'{"a":1}').removeprefix("sha256="), False),  # no prefix
    ("sha1=" + cloud_signature(APP_SECRET, b'{"a":1}').removeprefix("sha256="), False),
    ("sha256=é", False),  # not ASCII: refused, not a TypeError
])
def test_signature_valid(header: str | None, valid: bool) -> None:
    assert signature_valid(APP_SECRET, b'{"a":1}', header) is valid


@pytest.mark.parametrize(("given", "valid"), [
    (WAHA_KEY, True), (None, False), ("", False), (WAHA_KEY + "x", False), (WAHA_KEY.upper(), False), ("ü", False),
])
def test_key_valid(given: str | None, valid: bool) -> None:
    assert key_valid(WAHA_KEY, given) is valid


@pytest.mark.parametrize(("params", "challenge"), [
    ({"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}, "1158201444"),
    ({"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN}, ""),
    ({"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"}, None),
    ({"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}, None),
    ({"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}, None),
    ({"hub.mode": "subscribe", "hub.challenge": "1"}, None),
])
def test_subscription_challenge(params: dict[str, str], challenge: str | None) -> None:
    assert subscription_challenge(params, VERIFY_TOKEN) == challenge


# -- identifiers and time (pure) ----------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "expected"), [
    (SENDER, f"{SENDER}@c.us"),
    (f"{SENDER}@c.us", f"{SENDER}@c.us"),
    (f"{SENDER}@s.whatsapp.net", f"{SENDER}@c.us"),
    (f"{SENDER}:12@s.whatsapp.net", f"{SENDER}@c.us"),  # linked-device suffix
    (f"+{SENDER}", f"{SENDER}@c.us"),
    ("81312345678", "81312345678@c.us"),  # a Japanese number stays Japanese, never becomes 6281…
    ("08123456789", None),  # providers send international digits: a local form is not guessed at
    ("123456789012345@lid", None),
    ("status@broadcast", None),
    (GROUP, None),
    ("1234567", None),
    ("1234567890123456", None),
    ("", None),
])
def test_personal_id(given: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(InvalidIdentifier):
            personal_id(given)
    else:
        assert personal_id(given) == expected


def test_a_refused_id_is_masked_in_the_error() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        personal_id("6281234567890@lid")
    assert SENDER not in str(caught.value) and "62812****890" in str(caught.value)


@pytest.mark.parametrize(("given", "hidden", "shown"), [
    (f"{SENDER}@c.us", SENDER, "62812****890@c.us"),
    ("81312345678@c.us", "81312345678", "813****678@c.us"),
    (f"false_{SENDER}@c.us_3EB0AAAA", SENDER, "false_62812****890@c.us_3EB0AAAA"),
])
def test_masked_hides_every_number(given: str, hidden: str, shown: str) -> None:
    assert hidden not in masked(given) and masked(given) == shown


@pytest.mark.parametrize("value", [T_SENT, T_SENT * 1000])
def test_from_unix_reads_seconds_and_milliseconds(value: int) -> None:
    assert from_unix(value) == SENT_AT


# -- Cloud API payloads (pure) ------------------------------------------------------------------------------


def test_a_cloud_text_message_becomes_an_operator_event() -> None:
    inbound = parse_cloud(raw(cloud_payload(cloud_message())))
    assert inbound.messages == [WhatsAppMessageReceived(
        message_id="wamid.TEST1", session=WhatsAppSession.OPERATOR, chat_id=f"{SENDER}@c.us",
        sender_id=f"{SENDER}@c.us", text="notifwa#on", is_group=False, received_at=SENT_AT)]
    assert (inbound.skipped, inbound.ignored) == ([], 0)


def test_cloud_statuses_and_other_types_are_ignored() -> None:
    inbound = parse_cloud(raw(cloud_payload(
        cloud_message("wamid.IMG", type="image", text=None, image={"id": "media-1"}),
        cloud_message("wamid.TXT"),
        statuses=[{"id": "wamid.OUT", "status": "delivered", "timestamp": str(T_SENT), "recipient_id": SENDER}],
    )))
    assert [m.message_id for m in inbound.messages] == ["wamid.TXT"]
    assert inbound.ignored == 1
    assert parse_cloud(raw(cloud_payload(statuses=[{"id": "wamid.OUT", "status": "read"}]))).messages == []


def test_a_cloud_sender_that_cannot_be_normalised_is_skipped() -> None:
    inbound = parse_cloud(raw(cloud_payload(cloud_message("wamid.BAD", sender="12ab"), cloud_message("wamid.OK"))))
    assert [m.message_id for m in inbound.messages] == ["wamid.OK"]
    assert [s.message_id for s in inbound.skipped] == ["wamid.BAD"]


@pytest.mark.parametrize(("body", "problem"), [
    (b"{not json", "body is not valid JSON"),
    (b"\xff\xfe", "body is not valid JSON"),
    (b"[]", "body: Input should be a valid dictionary"),
    (raw({"object": "whatsapp_business_account"}), "entry: Field required"),
    (raw(cloud_payload({"id": "wamid.X", "timestamp": "1", "type": "text", "text": {"body": "x"}})),
     "entry[0].changes[0].value.messages[0].from: Field required"),
    (raw(cloud_payload(cloud_message(timestamp="yesterday"))),
     "entry[0].changes[0].value.messages[0].timestamp: Input should be a valid integer"),
    (raw(cloud_payload(cloud_message(text=None))), "entry[0].changes[0].value.messages[0]: Value error, a text"),
    (raw(cloud_payload(cloud_message(message_id=""))), "entry[0].changes[0].value.messages[0].id: String should"),
])
def test_a_malformed_cloud_body_names_what_is_wrong(body: bytes, problem: str) -> None:
    with pytest.raises(MalformedWebhook) as caught:
        parse_cloud(body)
    assert problem in str(caught.value)


# -- WAHA payloads (pure) -----------------------------------------------------------------------------------


def test_a_waha_personal_message() -> None:
    [message] = parse_waha(raw(waha_payload(**{"from": f"{SENDER}@s.whatsapp.net"})), SESSIONS).messages
    assert message == WhatsAppMessageReceived(
        message_id=f"false_{SENDER}@c.us_3EB0AAAA", session=WhatsAppSession.OPERATOR, chat_id=f"{SENDER}@c.us",
        sender_id=f"{SENDER}@c.us", text="recap POLRES_A", is_group=False, received_at=SENT_AT)


def test_a_waha_group_message_is_from_its_participant_on_the_mapped_session() -> None:
    payload = waha_payload(session="blast", participant="6281399990000@s.whatsapp.net", **{"from": GROUP})
    [message] = parse_waha(raw(payload), SESSIONS).messages
    assert (message.chat_id, message.sender_id, message.is_group) == (GROUP, "6281399990000@c.us", True)
    assert message.session == WhatsAppSession.BROADCAST


@pytest.mark.parametrize("payload", [
    waha_payload(event="message.any", fromMe=True),
    waha_payload(event="message", fromMe=True),
    waha_payload(event="message.ack"),
    waha_payload(event="session.status"),
    waha_payload(body=""),  # media without a caption
    waha_payload(body=None),
    waha_payload(**{"from": "status@broadcast"}),
])
def test_waha_items_that_are_not_inbound_text_are_ignored(payload: dict[str, Any]) -> None:
    inbound = parse_waha(raw(payload), SESSIONS)
    assert (inbound.messages, inbound.skipped, inbound.ignored) == ([], [], 1)


def test_message_any_from_someone_else_counts() -> None:
    assert len(parse_waha(raw(waha_payload(event="message.any")), SESSIONS).messages) == 1


@pytest.mark.parametrize("payload", [
    waha_payload(**{"from": GROUP}),  # a group message without participant
    waha_payload(**{"from": "123456789012345@lid"}),
    waha_payload(participant="x@lid", **{"from": GROUP}),
    waha_payload(participant=f"{SENDER}@c.us", **{"from": "6281234-1600000000@g.us"}),  # old-style group id
])
def test_a_waha_chat_that_cannot_be_normalised_is_skipped(payload: dict[str, Any]) -> None:
    inbound = parse_waha(raw(payload), SESSIONS)
    assert inbound.messages == [] and len(inbound.skipped) == 1
    assert SENDER not in inbound.skipped[0].reason


@pytest.mark.parametrize(("payload", "problem"), [
    ({"session": "default", "payload": {}}, "event: Field required"),
    (waha_payload(**{"from": None}), "payload.from: Input should be a valid string"),
    ({"event": "message", "payload": None}, "payload: Input should be a valid dictionary"),
    (waha_payload(timestamp=-1), "payload.timestamp: Input should be greater than or equal to 0"),
    (waha_payload(fromMe="maybe"), "payload.fromMe: Input should be a valid boolean"),
])
def test_a_malformed_waha_body_names_what_is_wrong(payload: dict[str, Any], problem: str) -> None:
    with pytest.raises(MalformedWebhook) as caught:
        parse_waha(raw(payload), SESSIONS)
    assert problem in str(caught.value)


# -- through the gateway service ----------------------------------------------------------------------------


@dataclass
class Running:
    service: Service
    http: httpx.AsyncClient


def webhook_settings(database_url: str, schema: str, namespace: str, amqp_url: str, port: int,
                     **overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "wa_webhook_host": "127.0.0.1", "wa_webhook_port": port, "wa_cloud_app_secret": APP_SECRET,
        "wa_cloud_verify_token": VERIFY_TOKEN, "wa_waha_webhook_key": WAHA_KEY,
        "wa_waha_inbound_sessions": {"blast": "broadcast"}, "wa_webhook_max_body_bytes": 4096, "health_port": 0,
    } | overrides
    return service_settings(GatewaySettings, database_url, schema, namespace, amqp_url=amqp_url, **values)


@pytest_asyncio.fixture
async def running(database_url: str, gateway_schema: str, namespace: str, amqp_url: str, bus_names: BusNames
                  ) -> AsyncIterator[Running]:
    """The gateway as ``main.build`` wires it, its background tasks (webhook server included) running."""
    port = free_port()
    service = build(webhook_settings(database_url, gateway_schema, namespace, amqp_url, port))
    await service.start(with_relay=False, with_consumers=False, with_health=False)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            async def up() -> bool:
                try:
                    return (await http.get("/webhooks/cloud")).status_code == 403
                except httpx.TransportError:
                    return False

            await wait_for(up, what="the webhook server to answer")
            yield Running(service, http)
    finally:
        await service.stop()


async def post_cloud(gw: Running, payload: dict[str, Any] | bytes, signature: str | None = "good",
                     **headers: str) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else raw(payload)
    if signature == "good":
        signature = cloud_signature(APP_SECRET, body)
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return await gw.http.post("/webhooks/cloud", content=body,
                              headers={"Content-Type": "application/json", **headers})


async def post_waha(gw: Running, payload: dict[str, Any] | bytes, key: str | None = WAHA_KEY) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else raw(payload)
    headers = {"Content-Type": "application/json"} | ({"X-Api-Key": key} if key is not None else {})
    return await gw.http.post("/webhooks/waha", content=body, headers=headers)


async def test_a_signed_cloud_message_is_recorded_once_in_the_senders_trace(running: Running) -> None:
    setup_tracing("cicero-wa-gateway-test", "")  # a recording provider, so the server span is a real span
    response = await post_cloud(running, cloud_payload(cloud_message()), traceparent=TRACEPARENT)
    assert response.status_code == 200
    assert response.json() == {"recorded": 1, "duplicates": 0, "skipped": 0, "ignored": 0}
    [event] = await appended_events(running.service)
    assert (event.event_type, event.stream_id, event.stream_version) == (
        "WhatsAppMessageReceived", "wa-in:wamid.TEST1", 1)
    assert event.payload == {
        "message_id": "wamid.TEST1", "session": "operator", "chat_id": f"{SENDER}@c.us",
        "sender_id": f"{SENDER}@c.us", "text": "notifwa#on", "is_group": False,
        "received_at": "2026-03-10T07:10:00Z"}
    assert event.occurred_at == SENT_AT
    assert event.metadata["producer"] == "wa-gateway" and event.metadata["provider"] == "cloud"
    _, trace_id, span_id, _ = event.metadata["traceparent"].split("-")
    assert trace_id == TRACEPARENT.split("-")[1]  # the provider's trace continues
    assert span_id != TRACEPARENT.split("-")[2]  # under the gateway's own server span


@pytest.mark.parametrize("signature", [
    None, "", "sha256=" + "0" * 64, cloud_signature("another-secret", raw(cloud_payload(cloud_message()))),
])
async def test_a_missing_or_wrong_signature_is_401_and_records_nothing(running: Running, signature: str | None
                                                                        ) -> None:
    response = await post_cloud(running, cloud_payload(cloud_message()), signature=signature)
    assert response.status_code == 401 and "credentials" in response.json()["detail"]
    assert await appended_events(running.service) == []


async def test_a_body_changed_after_signing_is_401(running: Running) -> None:
    signed = cloud_signature(APP_SECRET, raw(cloud_payload(cloud_message(body="notifwa#on"))))
    response = await post_cloud(running, cloud_payload(cloud_message(body="notifwa#off")), signature=signed)
    assert response.status_code == 401
    assert await appended_events(running.service) == []


async def test_the_cloud_verification_handshake(running: Running) -> None:
    ok = await running.http.get("/webhooks/cloud", params={
        "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert (ok.status_code, ok.text) == (200, "1158201444")
    assert ok.headers["content-type"].startswith("text/plain")
    for params in ({"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
                   {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}, {}):
        refused = await running.http.get("/webhooks/cloud", params=params)
        assert refused.status_code == 403 and "verify_token" in refused.json()["detail"]


async def test_the_waha_key_is_required(running: Running) -> None:
    for key in (None, "", "wrong-key"):
        response = await post_waha(running, waha_payload(), key=key)
        assert response.status_code == 401
    assert await appended_events(running.service) == []
    accepted = await post_waha(running, waha_payload())
    assert accepted.status_code == 200 and accepted.json()["recorded"] == 1
    [event] = await appended_events(running.service)
    assert event.payload["sender_id"] == f"{SENDER}@c.us" and event.metadata["provider"] == "waha"


async def test_a_repeated_delivery_is_200_and_records_nothing_new(running: Running) -> None:
    payload = cloud_payload(cloud_message("wamid.DUP"))
    first, again = await post_cloud(running, payload), await post_cloud(running, payload)
    assert first.json()["recorded"] == 1
    assert (again.status_code, again.json()["recorded"], again.json()["duplicates"]) == (200, 0, 1)
    # the same id twice in one delivery, next to a new message: one more event, in one transaction
    both = await post_cloud(running, cloud_payload(cloud_message("wamid.NEW"), cloud_message("wamid.NEW"),
                                                   cloud_message("wamid.DUP")))
    assert both.json() == {"recorded": 1, "duplicates": 2, "skipped": 0, "ignored": 0}
    waha = waha_payload()
    assert [(await post_waha(running, waha)).json()["recorded"] for _ in range(2)] == [1, 0]
    recorded = await appended_events(running.service)
    assert sorted(e.stream_id for e in recorded) == [
        "wa-in:false_6281234567890@c.us_3EB0AAAA", "wa-in:wamid.DUP", "wa-in:wamid.NEW"]


async def test_a_group_message_is_recorded_from_its_participant(running: Running) -> None:
    response = await post_waha(running, waha_payload(
        session="blast", participant="6281399990000@s.whatsapp.net", **{"from": GROUP, "id": "false_grp_1"}))
    assert response.status_code == 200
    [event] = await appended_events(running.service)
    assert event.payload | {"received_at": None} == {
        "message_id": "false_grp_1", "session": "broadcast", "chat_id": GROUP, "sender_id": "6281399990000@c.us",
        "text": "recap POLRES_A", "is_group": True, "received_at": None}


async def test_our_own_messages_are_acknowledged_and_not_recorded(running: Running) -> None:
    response = await post_waha(running, waha_payload(event="message.any", fromMe=True))
    assert response.status_code == 200 and response.json()["ignored"] == 1
    assert await appended_events(running.service) == []


@pytest.mark.parametrize(("body", "problem"), [
    (b"{not json", "body is not valid JSON"),
    (raw({"entry": [{"changes": [{"value": {"messages": [{"id": "wamid.X"}]}}]}]}),
     "entry[0].changes[0].value.messages[0].from: Field required"),
])
async def test_a_malformed_body_is_400_naming_what_is_wrong(running: Running, body: bytes, problem: str) -> None:
    response = await post_cloud(running, body)
    assert response.status_code == 400 and problem in response.json()["detail"]
    waha = await post_waha(running, raw({"event": "message", "payload": {"id": "x", "timestamp": 1}}))
    assert waha.status_code == 400 and "payload.from: Field required" in waha.json()["detail"]
    assert await appended_events(running.service) == []


async def test_an_unnormalisable_sender_is_skipped_with_a_masked_warning(
    running: Running, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="cicero_wa_gateway")
    response = await post_waha(running, waha_payload(**{"from": "6281234567890@lid"}))
    assert response.status_code == 200 and response.json()["skipped"] == 1
    assert await appended_events(running.service) == []
    warnings = [r.getMessage() for r in caplog.records if r.name == "cicero_wa_gateway.webhooks"]
    assert any("skipped" in w and "62812****890" in w for w in warnings)
    assert not any(SENDER in w for w in warnings)


async def test_an_oversized_body_is_413(running: Running) -> None:
    response = await post_cloud(running, cloud_payload(cloud_message(body="x" * 5000)))
    assert response.status_code == 413
    assert await appended_events(running.service) == []


async def test_a_webhook_without_its_secret_is_closed(running: Running) -> None:
    settings = webhook_settings(running.service.settings.database_url, running.service.schema,
                                running.service.settings.namespace, running.service.settings.amqp_url, 0,
                                wa_cloud_app_secret=SecretStr(""), wa_cloud_verify_token=None,
                                wa_waha_webhook_key=None)
    app = create_app(running.service, settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http:
        body = raw(cloud_payload(cloud_message()))
        cloud = await http.post("/webhooks/cloud", content=body,
                                headers={"X-Hub-Signature-256": cloud_signature("", body)})
        assert cloud.status_code == 503 and "WA_CLOUD_APP_SECRET" in cloud.json()["detail"]
        verify = await http.get("/webhooks/cloud", params={"hub.mode": "subscribe", "hub.verify_token": ""})
        assert verify.status_code == 503 and "WA_CLOUD_VERIFY_TOKEN" in verify.json()["detail"]
        waha = await http.post("/webhooks/waha", content=raw(waha_payload()), headers={"X-Api-Key": ""})
        assert waha.status_code == 503 and "WA_WAHA_WEBHOOK_KEY" in waha.json()["detail"]
    assert await appended_events(running.service) == []


async def test_port_0_turns_the_webhooks_off(gateway_settings: GatewaySettings) -> None:
    assert gateway_settings.wa_webhook_port == 0  # the default
    service = build(gateway_settings)
    await asyncio.wait_for(serve_webhooks(service, service.stop_event), 5)  # returns instead of serving
