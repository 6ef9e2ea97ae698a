"""SMTP sending against a real aiosmtpd server on loopback: plain, STARTTLS, implicit TLS, login, and the
classification of failures (a 4xx is retried with backoff, a 5xx is not)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from cicero_notifier.mailer import Failure, Mail, Mailer, MailFailed, backoff_delay, classify
from cicero_notifier.settings import NotifierSettings
from cicero_runtime.testing.processes import free_port
from cicero_runtime.testing.smtp_sink import SinkScript, self_signed_certificate, server_tls_context, smtp_sink
from pydantic import SecretStr

MAIL = Mail(to="budi.santoso@example.com", subject="Tindak Lanjut Laporan Cicero", body="Halo Pak Budi,\nSudah.\n")


class Sleeps:
    """Records the backoff the mailer asked for instead of waiting it out."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def settings(port: int, **overrides: Any) -> NotifierSettings:
    return NotifierSettings(**({"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_timeout_s": 5,
                                "smtp_max_attempts": 3, "smtp_retry_base_s": 0.5, "smtp_retry_max_s": 10}
                               | overrides))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    yield self_signed_certificate(tmp_path_factory.mktemp("notifier-smtp-tls"))


# -- pure: classification and backoff -----------------------------------------------------------------

@pytest.mark.parametrize(("exc", "permanent", "code"), [
    (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "no such user", "a@b.id")]), True, 550),
    (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(450, "mailbox busy", "a@b.id")]), False, 450),
    (aiosmtplib.SMTPDataError(451, "try again later"), False, 451),
    (aiosmtplib.SMTPDataError(554, "rejected as spam"), True, 554),
    (aiosmtplib.SMTPSenderRefused(553, "sender refused", "x@y.id"), True, 553),
    (aiosmtplib.SMTPAuthenticationError(535, "bad credentials"), True, 535),
    (aiosmtplib.SMTPAuthenticationError(454, "temporary auth failure"), False, 454),
    (aiosmtplib.SMTPConnectError("connection refused"), False, None),
    (aiosmtplib.SMTPServerDisconnected("gone"), False, None),
    (aiosmtplib.SMTPReadTimeoutError("timed out"), False, None),
    (ConnectionRefusedError(111, "refused"), False, None),
    (aiosmtplib.SMTPNotSupported("STARTTLS extension not supported"), True, None),
    (ssl.SSLCertVerificationError("certificate verify failed"), True, None),
])
def test_failures_are_classified(exc: BaseException, permanent: bool, code: int | None) -> None:
    failure = classify(exc)
    assert (failure.permanent, failure.code) == (permanent, code)
    assert failure.reason


def test_an_unexpected_error_is_not_swallowed_by_the_classifier() -> None:
    with pytest.raises(KeyError):
        classify(KeyError("bug"))


@pytest.mark.parametrize(("attempt", "expected"), [(1, 2.0), (2, 4.0), (3, 8.0), (5, 32.0), (6, 60.0), (20, 60.0)])
def test_backoff_doubles_up_to_the_cap(attempt: int, expected: float) -> None:
    assert backoff_delay(attempt, 2.0, 60.0) == expected


def test_mail_failed_says_what_happened_without_the_body() -> None:
    refused = MailFailed(Failure(permanent=True, reason="550 no such user", code=550), 1)
    assert str(refused) == "e-mail refused: 550 no such user"
    exhausted = MailFailed(Failure(permanent=False, reason="451 later", code=451), 3)
    assert str(exhausted) == "e-mail failed after 3 attempt(s): 451 later"


# -- against the sink -----------------------------------------------------------------------------------

async def test_plain_delivery_has_the_headers_and_the_body() -> None:
    async with smtp_sink() as sink:
        attempts = await Mailer(settings(sink.port, smtp_from="Cicero <noreply@cicero.example>")).send(MAIL)
    assert attempts == 1
    (mail,) = sink.received
    assert mail.rcpt_tos == ("budi.santoso@example.com",)
    assert mail.mail_from == "noreply@cicero.example"
    assert mail.message["Subject"] == "Tindak Lanjut Laporan Cicero"
    assert mail.message["To"] == "budi.santoso@example.com"
    assert mail.message["Message-ID"].endswith("@cicero.example>")
    assert mail.message["Date"]
    assert mail.text == "Halo Pak Budi,\nSudah.\n"
    assert (mail.secure, mail.login) == (False, None)


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_tls_with_login(certificate: tuple[Path, Path], security: str) -> None:
    """STARTTLS upgrades the session; ``tls`` (implicit) speaks TLS from the first byte."""
    cert, key = certificate
    tls = server_tls_context(cert, key)
    async with smtp_sink(starttls=tls if security == "starttls" else None,
                         implicit_tls=tls if security == "tls" else None, credentials=("cicero", "rahasia")) as sink:
        mailer = Mailer(settings(sink.port, smtp_security=security, smtp_ca_file=str(cert),
                                 smtp_username="cicero", smtp_password=SecretStr("rahasia")))
        assert await mailer.send(MAIL) == 1
    (mail,) = sink.received
    assert (mail.secure, mail.login) == (True, "cicero")


async def test_starttls_with_a_wrong_password_is_permanent(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    sleeps = Sleeps()
    async with smtp_sink(starttls=server_tls_context(cert, key), credentials=("cicero", "rahasia")) as sink:
        mailer = Mailer(settings(sink.port, smtp_security="starttls", smtp_ca_file=str(cert),
                                 smtp_username="cicero", smtp_password=SecretStr("salah")), sleep=sleeps)
        with pytest.raises(MailFailed) as caught:
            await mailer.send(MAIL)
    assert caught.value.permanent and caught.value.failure.code == 535
    assert caught.value.attempts == 1 and sleeps.delays == []
    assert sink.received == []


async def test_the_server_certificate_is_verified(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    async with smtp_sink(starttls=server_tls_context(cert, key)) as sink:
        mailer = Mailer(settings(sink.port, smtp_security="starttls"))  # the system trust store: not our CA
        with pytest.raises(MailFailed) as caught:
            await mailer.send(MAIL)
    assert caught.value.permanent and "SSLCertVerificationError" in caught.value.failure.reason
    assert sink.received == []


async def test_without_a_username_there_is_no_login_attempt() -> None:
    async with smtp_sink() as sink:  # the sink offers no AUTH: a login attempt would fail the send
        mailer = Mailer(settings(sink.port, smtp_password=SecretStr("ignored-without-username")))
        assert await mailer.send(MAIL) == 1
    assert sink.received[0].login is None


async def test_a_451_is_retried_after_a_backoff_then_delivered() -> None:
    sleeps = Sleeps()
    async with smtp_sink(script=SinkScript(data_replies=["451 4.3.0 coba lagi nanti"])) as sink:
        assert await Mailer(settings(sink.port), sleep=sleeps).send(MAIL) == 2
    assert sleeps.delays == [0.5]
    assert sink.handler.data_commands == 2
    assert len(sink.received) == 1


async def test_a_server_failing_every_time_gives_up_after_the_attempts() -> None:
    sleeps = Sleeps()
    script = SinkScript(data_replies=["451 4.3.0 busy"] * 5)
    async with smtp_sink(script=script) as sink:
        with pytest.raises(MailFailed) as caught:
            await Mailer(settings(sink.port), sleep=sleeps).send(MAIL)
    assert (caught.value.permanent, caught.value.attempts, caught.value.failure.code) == (False, 3, 451)
    assert sleeps.delays == [0.5, 1.0]
    assert sink.handler.data_commands == 3 and sink.received == []


async def test_a_550_on_rcpt_is_not_retried() -> None:
    sleeps = Sleeps()
    script = SinkScript(refused_recipients={"budi.santoso@example.com": "550 5.1.1 mailbox tidak ada"})
    async with smtp_sink(script=script) as sink:
        with pytest.raises(MailFailed) as caught:
            await Mailer(settings(sink.port), sleep=sleeps).send(MAIL)
    assert (caught.value.permanent, caught.value.attempts, caught.value.failure.code) == (True, 1, 550)
    assert "mailbox tidak ada" in caught.value.failure.reason
    assert sink.handler.rcpt_commands == 1 and sleeps.delays == []


async def test_an_unreachable_server_is_transient() -> None:
    sleeps = Sleeps()
    with pytest.raises(MailFailed) as caught:
        await Mailer(settings(free_port(), smtp_max_attempts=2), sleep=sleeps).send(MAIL)
    assert (caught.value.permanent, caught.value.attempts) == (False, 2)
    assert sleeps.delays == [0.5]


async def test_the_attempts_can_be_limited_per_call() -> None:
    sleeps = Sleeps()
    async with smtp_sink(script=SinkScript(data_replies=["451 busy"] * 5)) as sink:
        with pytest.raises(MailFailed) as caught:
            await Mailer(settings(sink.port, smtp_max_attempts=4), sleep=sleeps).send(MAIL, max_attempts=1)
    assert caught.value.attempts == 1 and sleeps.delays == []
