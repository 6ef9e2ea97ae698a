"""Sending e-mail through SMTP (``aiosmtplib``), with TLS/STARTTLS and login as configured.

Failures are classified (ARCHITECTURE rule 4): a 4xx answer, a refused or dropped connection or a
timeout is transient and retried with a doubling delay; a 5xx answer (a mailbox the server refuses,
a login it rejects) or a TLS setup the server cannot do is permanent and not retried.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

import aiosmtplib
from cicero_contracts.events.ops import OperationalAlertRaised, Severity
from cicero_runtime.clock import utc_now

from cicero_notifier.email_address import mask_email
from cicero_notifier.settings import NotifierSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class Failure:
    permanent: bool
    reason: str
    """What the server said, or what went wrong; never the message body."""
    code: int | None = None


class MailFailed(Exception):
    """The e-mail was not accepted: refused for good, or still failing after every attempt."""

    def __init__(self, failure: Failure, attempts: int) -> None:
        kind = "refused" if failure.permanent else f"failed after {attempts} attempt(s)"
        super().__init__(f"e-mail {kind}: {failure.reason}")
        self.failure = failure
        self.attempts = attempts

    @property
    def permanent(self) -> bool:
        return self.failure.permanent


def classify(exc: BaseException) -> Failure:
    """Transient or permanent, from what ``aiosmtplib`` raised."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        reason = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        return Failure(permanent=any(c >= 500 for c in codes), reason=reason[:500], code=max(codes, default=None))
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return Failure(permanent=exc.code >= 500, reason=f"{exc.code} {exc.message}"[:500], code=exc.code)
    if isinstance(exc, ssl.SSLCertVerificationError | aiosmtplib.SMTPNotSupported):
        return Failure(permanent=True, reason=f"{type(exc).__name__}: {exc}"[:500])
    if isinstance(exc, aiosmtplib.SMTPException | OSError | TimeoutError | ssl.SSLError):
        return Failure(permanent=False, reason=f"{type(exc).__name__}: {exc}"[:500])
    raise exc


def failure_alert(summary: str, reason: str, at: datetime) -> OperationalAlertRaised:
    """The admins' alert for an e-mail that did not go out; ``reason`` is what the server said, never the body."""
    return OperationalAlertRaised(source="notifier", severity=Severity.ERROR, summary=summary[:500],
                                  details=[reason[:500]], raised_at=at)


def backoff_delay(attempt: int, base_s: float, max_s: float) -> float:
    """The wait after failed attempt ``attempt`` (1-based): base, 2×base, 4×base… capped at ``max_s``."""
    return float(min(base_s * 2 ** (attempt - 1), max_s))


class Mailer:
    def __init__(self, settings: NotifierSettings,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self._settings = settings
        self._sleep = sleep
        self._tls: ssl.SSLContext | None = None

    def compose(self, mail: Mail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._settings.smtp_from
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = format_datetime(utc_now())
        domain = parseaddr(self._settings.smtp_from)[1].partition("@")[2] or None
        message["Message-ID"] = make_msgid(domain=domain)
        message.set_content(mail.body)
        return message

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context(cafile=self._settings.smtp_ca_file or None)
        return self._tls

    async def send_once(self, mail: Mail) -> None:
        """One SMTP session; raises what ``aiosmtplib`` raises."""
        s = self._settings
        secure = s.smtp_security != "none"
        await aiosmtplib.send(
            self.compose(mail), hostname=s.smtp_host, port=s.smtp_port, timeout=s.smtp_timeout_s,
            use_tls=s.smtp_security == "tls", start_tls=s.smtp_security == "starttls",
            tls_context=self._tls_context() if secure else None,
            username=s.smtp_username or None,
            password=s.smtp_password.get_secret_value() if s.smtp_username else None,
        )

    async def send(self, mail: Mail, *, max_attempts: int | None = None) -> int:
        """Send until accepted; returns the attempts it took, or raises ``MailFailed``."""
        s = self._settings
        limit = max_attempts or s.smtp_max_attempts
        attempt = 1
        while True:
            try:
                await self.send_once(mail)
                return attempt
            except Exception as exc:
                failure = classify(exc)
            if failure.permanent or attempt >= limit:
                raise MailFailed(failure, attempt)
            delay = backoff_delay(attempt, s.smtp_retry_base_s, s.smtp_retry_max_s)
            log.warning("smtp transient failure, will retry", extra={
                "to": mask_email(mail.to), "attempt": attempt, "retry_in_s": delay, "reason": failure.reason})
            await self._sleep(delay)
            attempt += 1
