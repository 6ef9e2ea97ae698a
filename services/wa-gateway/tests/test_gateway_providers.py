"""The Cloud API and WAHA providers against the fake provider server on loopback: the requests they make,
how they read answers, and how each failure is classified."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from cicero_runtime.testing.fake_whatsapp import API_VERSION, FakeWhatsApp, Reply
from cicero_wa_gateway.providers import CloudApiProvider, OutgoingMessage, ProviderError, WahaProvider
from pydantic import SecretStr

NOW = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
PERSONAL = "6281234567890@c.us"
GROUP = "120363025550001111@g.us"
TIMEOUT_S = 0.5


@pytest_asyncio.fixture
async def cloud(fake: FakeWhatsApp) -> AsyncIterator[CloudApiProvider]:
    provider = CloudApiProvider(fake.url, API_VERSION, fake.phone_number_id, SecretStr(fake.cloud_token), TIMEOUT_S)
    yield provider
    await provider.close()


@pytest_asyncio.fixture
async def waha(fake: FakeWhatsApp) -> AsyncIterator[WahaProvider]:
    provider = WahaProvider(fake.url, SecretStr(fake.waha_api_key), "default", TIMEOUT_S)
    yield provider
    await provider.close()


def message(key: str = "k-1", chat_id: str = PERSONAL, text: str = "Mohon ijin Komandan") -> OutgoingMessage:
    return OutgoingMessage(key, "operator", chat_id, text)


async def test_cloud_sends_the_graph_shape_with_bearer_token_and_idempotency_key(
    fake: FakeWhatsApp, cloud: CloudApiProvider,
) -> None:
    provider_id = await cloud.send(message(), NOW)
    (delivery,) = fake.deliveries()
    assert provider_id == delivery.message_id and provider_id.startswith("wamid.")
    request = delivery.request
    assert (request.api, request.session, request.chat_id, request.idempotency_key) == (
        "cloud", fake.phone_number_id, PERSONAL, "k-1")
    assert request.body == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "6281234567890",
                            "type": "text", "text": {"preview_url": False, "body": "Mohon ijin Komandan"}}
    assert await cloud.ready()


async def test_waha_sends_through_its_mapped_session_with_the_api_key(fake: FakeWhatsApp, waha: WahaProvider) -> None:
    provider_id = await waha.send(message(chat_id=GROUP, text="Daftar tugas"), NOW)
    (delivery,) = fake.deliveries()
    assert provider_id == delivery.message_id and provider_id.startswith(f"true_{GROUP}_")
    assert delivery.request.body == {"session": "default", "chatId": GROUP, "text": "Daftar tugas"}
    assert delivery.request.idempotency_key == "k-1"


async def test_a_group_on_the_cloud_api_fails_permanently_without_a_request(
    fake: FakeWhatsApp, cloud: CloudApiProvider,
) -> None:
    with pytest.raises(ProviderError, match="cannot send to groups") as raised:
        await cloud.send(message(chat_id=GROUP), NOW)
    assert raised.value.permanent
    assert fake.requests() == []


@pytest.mark.parametrize("api", ["cloud", "waha"])
async def test_each_scripted_failure_is_classified(fake: FakeWhatsApp, cloud: CloudApiProvider, waha: WahaProvider,
                                                   api: str) -> None:
    provider = cloud if api == "cloud" else waha
    fake.script(Reply.fail(500), Reply.fail(503), Reply.rate_limit(retry_after_s=7), Reply.reject(400),
                Reply.reject(404), Reply.reject(422, message="bad chat"))
    errors: list[ProviderError] = []
    for n in range(6):
        with pytest.raises(ProviderError) as raised:
            await provider.send(message(f"k-{n}"), NOW)
        errors.append(raised.value)
    assert [(e.permanent, e.retry_after_s, e.config_error) for e in errors] == [
        (False, None, False), (False, None, False), (False, 7.0, False), (True, None, False), (True, None, False),
        (True, None, False)]
    assert "HTTP 500" in str(errors[0]) and "retry after 7 s" in str(errors[2])
    assert fake.deliveries() == []
    assert await provider.send(message("k-ok"), NOW)  # the queue is used up: accepted again
    assert list(fake.delivery_counts()) == ["k-ok"]


@pytest.mark.parametrize("api", ["cloud", "waha"])
async def test_a_timeout_is_transient_and_the_late_answer_is_not_a_delivery(
    fake: FakeWhatsApp, cloud: CloudApiProvider, waha: WahaProvider, api: str,
) -> None:
    provider = cloud if api == "cloud" else waha
    fake.script(Reply.timeout(TIMEOUT_S + 0.5))
    with pytest.raises(ProviderError, match=r"no answer within 0\.5 s") as raised:  # its own timeout, not the fake's
        await provider.send(message(), NOW)
    assert (raised.value.permanent, raised.value.unreachable) == (False, True)
    assert [r.reply for r in fake.requests()] == ["timeout"] and fake.deliveries() == []


async def test_wrong_credentials_are_a_transient_configuration_error(fake: FakeWhatsApp) -> None:
    cloud = CloudApiProvider(fake.url, API_VERSION, fake.phone_number_id, SecretStr("wrong-token"), TIMEOUT_S)
    waha = WahaProvider(fake.url, SecretStr("wrong-key"), "default", TIMEOUT_S)
    try:
        for provider in (cloud, waha):
            with pytest.raises(ProviderError, match="HTTP 401") as raised:
                await provider.send(message(), NOW)
            assert (raised.value.config_error, raised.value.permanent) == (True, False)
            assert "wrong-" not in str(raised.value)  # the secret is never in a reason
            with pytest.raises(ProviderError, match="configuration error"):
                await provider.ready()
    finally:
        await cloud.close()
        await waha.close()
    assert fake.requests() == []


async def test_an_unreachable_provider_is_transient(fake: FakeWhatsApp) -> None:
    url = fake.url
    fake.stop()
    waha = WahaProvider(url, SecretStr("k"), "default", TIMEOUT_S)
    try:
        with pytest.raises(ProviderError, match="ConnectError") as raised:
            await waha.send(message(), NOW)
        assert (raised.value.permanent, raised.value.unreachable) == (False, True)
        with pytest.raises(ProviderError):
            await waha.ready()
    finally:
        await waha.close()


async def test_readiness_follows_the_session_state(fake: FakeWhatsApp, cloud: CloudApiProvider,
                                                   waha: WahaProvider) -> None:
    assert await waha.ready() and await cloud.ready()
    fake.set_ready(False, "default")
    with pytest.raises(ProviderError, match="'default' is SCAN_QR_CODE"):
        await waha.ready()
    assert await cloud.ready()  # another session
    fake.set_ready(False)
    with pytest.raises(ProviderError, match="HTTP 503"):
        await cloud.ready()
    fake.set_ready(True)
    assert await waha.ready() and await cloud.ready()
    assert fake.readiness_checks("default") == 3 and fake.readiness_checks(fake.phone_number_id) == 4


async def test_a_waha_session_that_stopped_working_is_transient_and_asks_readiness_again(
    fake: FakeWhatsApp, waha: WahaProvider,
) -> None:
    fake.set_ready(False, "default")
    with pytest.raises(ProviderError, match="HTTP 422") as raised:
        await waha.send(message(), NOW)
    assert (raised.value.permanent, raised.value.unreachable) == (False, True)
    assert fake.deliveries() == []
