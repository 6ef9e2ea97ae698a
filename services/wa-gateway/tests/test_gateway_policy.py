"""Pure decisions of the gateway: HTTP answers classified, retry timing, Retry-After, pacing holds, readiness
logging, provider answer shapes, provider choice per session."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cicero_contracts.events.whatsapp import WhatsAppSession
from cicero_wa_gateway.providers import ProviderError, build_providers
from cicero_wa_gateway.providers.classify import RETRY_AFTER_CAP_S, Verdict, classify_status, parse_retry_after
from cicero_wa_gateway.providers.cloud_api import cloud_verdict, graph_error, message_body, recipient
from cicero_wa_gateway.providers.cloud_api import message_id as cloud_message_id
from cicero_wa_gateway.providers.waha import message_id as waha_message_id
from cicero_wa_gateway.providers.waha import session_not_working, waha_verdict
from cicero_wa_gateway.readiness import ReadinessGate, readiness_change
from cicero_wa_gateway.retry_policy import next_attempt_delay, retry_delay, session_hold_s
from cicero_wa_gateway.settings import GatewaySettings
from pydantic import SecretStr, ValidationError

NOW = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)

# -- classification of provider answers ----------------------------------------------------------------


@pytest.mark.parametrize(("status", "expected"), [
    (200, Verdict(accepted=True)), (201, Verdict(accepted=True)), (204, Verdict(accepted=True)),
    (500, Verdict(accepted=False)), (502, Verdict(accepted=False)), (503, Verdict(accepted=False)),
    (504, Verdict(accepted=False)), (408, Verdict(accepted=False)), (409, Verdict(accepted=False)),
    (425, Verdict(accepted=False)),
    (400, Verdict(accepted=False, permanent=True)), (404, Verdict(accepted=False, permanent=True)),
    (422, Verdict(accepted=False, permanent=True)), (413, Verdict(accepted=False, permanent=True)),
    (401, Verdict(accepted=False, config_error=True)), (403, Verdict(accepted=False, config_error=True)),
    (301, Verdict(accepted=False, config_error=True)), (302, Verdict(accepted=False, config_error=True)),
    (429, Verdict(accepted=False)),
])
def test_each_status_is_accepted_transient_permanent_or_a_configuration_error(status: int, expected: Verdict
                                                                              ) -> None:
    assert classify_status(status) == expected


@pytest.mark.parametrize(("header", "seconds"), [
    ("7", 7.0), ("0", 0.0), ("2.5", 2.5), (" 12 ", 12.0), ("-3", 0.0),
    ("Tue, 10 Mar 2026 07:00:30 GMT", 30.0), ("Tue, 10 Mar 2026 06:59:00 GMT", 0.0),
    ("999999999", RETRY_AFTER_CAP_S), (None, None), ("", None), ("soon", None), ("nan", None), ("inf", None),
])
def test_retry_after_is_seconds_or_an_http_date(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, NOW) == seconds


def test_429_carries_its_retry_after_and_is_transient() -> None:
    assert classify_status(429, "4", NOW) == Verdict(accepted=False, retry_after_s=4.0)
    assert classify_status(429, None, NOW) == Verdict(accepted=False, retry_after_s=None)
    assert classify_status(503, "4", NOW).retry_after_s is None  # only a 429 holds the session


@pytest.mark.parametrize(("status", "code", "permanent"), [
    (400, 131026, True),   # message undeliverable
    (400, 100, True),      # invalid parameter
    (400, 130429, False),  # throughput limit reached
    (400, 131056, False),  # pair rate limit
    (400, 80007, False), (400, 4, False), (500, 131000, False), (400, None, True),
])
def test_cloud_throttling_codes_are_transient_whatever_the_status(status: int, code: int | None,
                                                                  permanent: bool) -> None:
    assert cloud_verdict(status, None, code).permanent is permanent


def test_waha_session_not_working_422_is_transient_other_422_permanent() -> None:
    not_working = {"error": "Session status is not as expected. Try again later or restart the session",
                   "session": "default", "status": "STARTING", "expected": ["WORKING"]}
    assert session_not_working(422, not_working)
    assert waha_verdict(422, None, not_working) == Verdict(accepted=False)
    assert waha_verdict(422, None, {"message": "WAHA Core support only 'default' session"}).permanent
    assert not session_not_working(500, not_working)


# -- retry timing and pacing holds -----------------------------------------------------------------------


@pytest.mark.parametrize(("attempt", "retry_after", "seconds"), [
    (1, None, 30), (2, None, 60), (5, None, 480), (1, 5.0, 30), (1, 90.0, 90), (3, 7200.0, 7200),
    (9, None, 3600), (9, 10.0, 3600), (200, None, 3600),
])
def test_the_next_attempt_is_the_backoff_but_never_before_retry_after(attempt: int, retry_after: float | None,
                                                                     seconds: float) -> None:
    assert next_attempt_delay(attempt, 30.0, 3600.0, retry_after) == timedelta(seconds=seconds)


def test_retry_delay_with_a_huge_attempt_number_stays_at_the_cap() -> None:
    assert retry_delay(10_000, 30.0, 3600.0) == timedelta(seconds=3600)


@pytest.mark.parametrize(("gap", "retry_after", "hold"), [
    (0.0, None, 0.0), (2.0, None, 2.0), (0.0, 5.0, 5.0), (2.0, 1.0, 2.0), (2.0, 9.0, 9.0),
])
def test_a_session_waits_the_gap_or_the_retry_after_whichever_is_longer(gap: float, retry_after: float | None,
                                                                        hold: float) -> None:
    assert session_hold_s(gap, retry_after) == hold


# -- readiness ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("previous", "current", "change"), [
    (None, True, "ready"), (None, False, "not_ready"), (True, False, "not_ready"), (False, True, "ready"),
    (True, True, None), (False, False, None),
])
def test_only_the_first_readiness_and_its_flips_are_logged(previous: bool | None, current: bool,
                                                          change: str | None) -> None:
    assert readiness_change(previous, current) == change


class FlakyReadiness:
    name = "scripted"

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.calls = 0

    async def ready(self) -> bool:
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        if isinstance(answer, Exception):
            raise answer
        return bool(answer)

    async def send(self, message: Any, now: datetime) -> str:
        raise AssertionError("not used")


async def test_readiness_is_cached_for_the_interval_and_logged_once_per_change(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = [100.0]
    provider = FlakyReadiness([False, ProviderError("waha session 'default' is SCAN_QR_CODE"), RuntimeError("x"),
                               True, True])
    gate = ReadinessGate("operator", provider, interval_s=5.0, clock=lambda: clock[0])
    with caplog.at_level(logging.INFO, logger="cicero_wa_gateway.readiness"):
        assert not await gate.is_ready()
        clock[0] += 4.9
        assert not await gate.is_ready() and provider.calls == 1  # cached
        assert gate.seconds_until_check() == pytest.approx(0.1)
        for _ in range(2):  # still not ready (an error means not ready too): nothing more is logged
            clock[0] += 5.0
            assert not await gate.is_ready()
        clock[0] += 5.0
        assert await gate.is_ready()
        gate.recheck()  # a send found the provider unreachable: asked again at once
        assert await gate.is_ready() and provider.calls == 5
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert messages == [("WARNING", "whatsapp provider not ready; holding this session's messages"),
                        ("INFO", "whatsapp provider ready")]
    assert caplog.records[0].reason == "the provider says it is not ready"  # type: ignore[attr-defined]


# -- provider answer shapes ------------------------------------------------------------------------------


def test_the_cloud_recipient_is_the_digits_of_a_personal_chat() -> None:
    assert recipient("6281234567890@c.us") == "6281234567890"
    assert message_body("6281234567890", "Halo") == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "6281234567890", "type": "text",
        "text": {"preview_url": False, "body": "Halo"}}


def test_the_cloud_api_cannot_send_to_a_group_a_permanent_error_that_says_so() -> None:
    with pytest.raises(ProviderError, match="cannot send to groups") as raised:
        recipient("120363025550001111@g.us")
    assert raised.value.permanent
    with pytest.raises(ProviderError, match="not a personal chat id"):
        recipient("62812@s.whatsapp.net")


@pytest.mark.parametrize(("answer", "expected"), [
    ({"messaging_product": "whatsapp", "messages": [{"id": "wamid.HBgM"}]}, "wamid.HBgM"),
    ({"messages": []}, ""), ({}, ""), (None, ""), ([1], ""), ({"messages": [{"id": 5}]}, ""),
])
def test_cloud_message_id(answer: Any, expected: str) -> None:
    assert cloud_message_id(answer) == expected


def test_graph_error_code_and_message() -> None:
    assert graph_error({"error": {"message": "(#131026) Message undeliverable", "code": 131026}}) == (
        131026, "(#131026) Message undeliverable")
    assert graph_error({"error": {"message": "x", "code": "130429"}}) == (130429, "x")
    assert graph_error({"error": {"code": "abc"}}) == (None, "")
    assert graph_error("<html>") == (None, "")


@pytest.mark.parametrize(("answer", "expected"), [
    ({"id": "true_62812@c.us_3EB0"}, "true_62812@c.us_3EB0"),
    ({"id": {"fromMe": True, "_serialized": "true_62812@c.us_3EB1"}}, "true_62812@c.us_3EB1"),
    ({"_data": {"id": {"_serialized": "true_62812@c.us_3EB2"}}}, "true_62812@c.us_3EB2"),
    ({"key": {"id": "3EB3", "remoteJid": "62812@s.whatsapp.net"}}, "3EB3"),
    ({"id": ""}, ""), ({}, ""), (None, ""), ("ok", ""),
])
def test_waha_message_id_in_each_engine_shape(answer: Any, expected: str) -> None:
    assert waha_message_id(answer) == expected


# -- settings: which provider for which session -----------------------------------------------------------


def settings(**values: Any) -> GatewaySettings:
    return GatewaySettings(**values)


def test_the_default_provider_with_per_session_overrides() -> None:
    chosen = settings(wa_provider="waha", wa_provider_operator="cloud")
    assert [chosen.provider_for(s) for s in WhatsAppSession] == ["waha", "cloud", "waha"]
    gaps = settings(wa_pacing_gap_s=2.0, wa_pacing_gap_operator_s=0.0)
    assert [gaps.pacing_gap_for(s) for s in WhatsAppSession] == [2.0, 0.0, 2.0]
    waha = settings(wa_waha_session="default", wa_waha_sessions={"broadcast": "blast"})
    assert [waha.waha_session_for(s) for s in WhatsAppSession] == ["blast", "default", "default"]


def test_the_provider_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WA_PROVIDER", "waha")
    monkeypatch.setenv("WA_PROVIDER_OPERATOR", "cloud")
    monkeypatch.setenv("WA_PROVIDER_LOG", "")  # empty is unset
    monkeypatch.setenv("WA_WAHA_SESSIONS", '{"broadcast": "blast"}')
    monkeypatch.setenv("WA_CLOUD_TOKEN", "tok-secret")
    loaded = GatewaySettings()
    assert (loaded.wa_provider, loaded.wa_provider_operator, loaded.wa_provider_log) == ("waha", "cloud", None)
    assert loaded.waha_session_for(WhatsAppSession.BROADCAST) == "blast"
    assert "tok-secret" not in repr(loaded) and "tok-secret" not in str(loaded.model_dump())


def test_an_unknown_provider_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValidationError, match="wa_provider_broadcast"):
        settings(wa_provider_broadcast="twilio")


async def test_sessions_configured_alike_share_one_provider_and_credentials_are_required() -> None:
    providers = build_providers(settings(
        wa_provider="waha", wa_provider_log="cloud", wa_cloud_phone_number_id="1065", wa_cloud_token=SecretStr("t"),
        wa_waha_sessions={"broadcast": "blast"}))
    try:
        by = providers.by_session
        assert [by[s].name for s in WhatsAppSession] == ["waha", "waha", "cloud"]
        assert by[WhatsAppSession.BROADCAST] is not by[WhatsAppSession.OPERATOR]  # two WAHA sessions
        assert len(providers.closers) == 3
    finally:
        await providers.close()
    shared = build_providers(settings(wa_provider="file", wa_file_path="/tmp/h1a-unused.jsonl"))
    assert len({id(p) for p in shared.by_session.values()}) == 1 and shared.closers == []
    with pytest.raises(ValueError, match="WA_CLOUD_PHONE_NUMBER_ID and WA_CLOUD_TOKEN"):
        build_providers(settings(wa_provider_operator="cloud"))


async def test_the_broadcast_session_on_the_cloud_api_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        providers = build_providers(settings(wa_provider="cloud", wa_cloud_phone_number_id="1065",
                                             wa_cloud_token=SecretStr("t")))
    await providers.close()
    assert [r.getMessage() for r in caplog.records if "cannot send to groups" in r.getMessage()]
