"""Issue and verify one-time codes for the personnel data-claim flow (docs/domain.md §5 "E-mail (SMTP)").

Issue: a code goes only to the address on file for the person in the notifier's copy of the directory
(otherwise anyone could claim anyone by giving an address of their own). Every other address gets one
neutral answer, ``not_on_file``, whether it is someone else's, nobody's, the person has none on file or the
user id is unknown, so the reply never tells whom an address belongs to. Each request counts towards the
person's hourly limit before the directory is read, so guessing the address on file is as limited as
guessing codes. Then store the code's keyed hash (replacing any earlier code), e-mail the code at once and
say ``sent`` only once the SMTP server accepted it; a code whose e-mail failed is withdrawn. Verify: judge
the attempt against the pending code; a right code becomes a verified claim for ``otp_claim_ttl_s``.

The code exists only in this process's memory and in the e-mail: never in logs, events, replies or
exceptions. Without an OTP secret or without Redis the service refuses (``unavailable``), it never
falls back to storing anything weaker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import asyncpg
from cicero_contracts.events.ops import OperationalAlertRaised
from cicero_contracts.rpc import (
    OtpIssueReply,
    OtpIssueRequest,
    OtpIssueStatus,
    OtpVerifyReply,
    OtpVerifyRequest,
    OtpVerifyStatus,
)
from cicero_runtime.clock import utc_now
from cicero_runtime.event_store import EventStore

from cicero_notifier.email_address import is_valid_email, mask_email, normalize_email
from cicero_notifier.email_text import OTP_SUBJECT, otp_body
from cicero_notifier.mailer import Mail, Mailer, MailFailed, failure_alert
from cicero_notifier.otp_codes import claim_digest, code_digest, generate_code, judge_attempt
from cicero_notifier.otp_store import OtpStore, OtpStoreUnavailable
from cicero_notifier.settings import NotifierSettings

log = logging.getLogger(__name__)

ALERT_STREAM = "email:otp"


class OtpService:
    def __init__(
        self,
        settings: NotifierSettings,
        pool: Callable[[], asyncpg.Pool],
        store: OtpStore,
        mailer: Mailer,
        events: EventStore,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._settings = settings
        self._pool = pool
        self._store = store
        self._mailer = mailer
        self._events = events
        self._clock = clock

    def _secret(self) -> bytes | None:
        secret = self._settings.otp_secret.get_secret_value()
        if not secret:
            log.error("OTP refused: OTP_SECRET is not configured; set it to a long random value to enable codes")
            return None
        return secret.encode()

    async def issue(self, request: OtpIssueRequest) -> OtpIssueReply:
        secret = self._secret()
        if secret is None:
            return OtpIssueReply(status=OtpIssueStatus.UNAVAILABLE)
        email = normalize_email(request.email)
        user_id = request.user_id
        if not is_valid_email(email):
            log.info("otp refused: invalid e-mail address", extra={"user_id": user_id})
            return OtpIssueReply(status=OtpIssueStatus.INVALID_EMAIL)
        try:
            requests = await self._store.count_request(user_id, self._settings.otp_request_window_s)
        except OtpStoreUnavailable as exc:
            log.error("otp refused: code store unavailable", extra={"user_id": user_id, "error": str(exc)})
            return OtpIssueReply(status=OtpIssueStatus.UNAVAILABLE)
        if requests > self._settings.otp_max_requests:
            log.warning("otp refused: too many requests", extra={"user_id": user_id, "requests": requests})
            return OtpIssueReply(status=OtpIssueStatus.TOO_MANY_REQUESTS)
        try:
            person = await self._person_with_address(user_id, email)
        except (asyncpg.PostgresError, OSError) as exc:
            log.error("otp refused: directory unreadable", extra={"user_id": user_id, "error": type(exc).__name__})
            return OtpIssueReply(status=OtpIssueStatus.UNAVAILABLE)
        if person is None:
            log.info("otp refused: not the address on file", extra={"user_id": user_id, "to": mask_email(email)})
            return OtpIssueReply(status=OtpIssueStatus.NOT_ON_FILE)

        now = self._clock()
        expires_at = now + timedelta(seconds=self._settings.otp_ttl_s)
        code = generate_code()
        digest = code_digest(secret, user_id, email, code)
        try:
            await self._store.put_code(user_id, digest, self._settings.otp_ttl_s)
        except OtpStoreUnavailable as exc:
            log.error("otp refused: code store unavailable", extra={"user_id": user_id, "error": str(exc)})
            return OtpIssueReply(status=OtpIssueStatus.UNAVAILABLE)
        mail = Mail(to=email, subject=OTP_SUBJECT, body=otp_body(
            title=person["title"], name=person["name"], code=code, expires_at=expires_at,
            ttl_minutes=max(1, self._settings.otp_ttl_s // 60)))
        try:
            attempts = await self._mailer.send(mail, max_attempts=self._settings.otp_smtp_max_attempts)
        except MailFailed as exc:
            await self._withdraw(user_id, digest)
            log.warning("otp e-mail not sent", extra={"user_id": user_id, "to": mask_email(email),
                                                      "permanent": exc.permanent, "attempts": exc.attempts,
                                                      "reason": exc.failure.reason})
            if not exc.permanent:  # the server is failing, not the address: the admins should know
                await self._alert(failure_alert(f"E-mail kode OTP untuk {user_id} gagal terkirim setelah "
                                                f"{exc.attempts} percobaan (server SMTP bermasalah)",
                                                exc.failure.reason, now))
            return OtpIssueReply(status=OtpIssueStatus.SEND_FAILED)
        log.info("otp e-mail sent", extra={"user_id": user_id, "to": mask_email(email), "attempts": attempts})
        return OtpIssueReply(status=OtpIssueStatus.SENT, expires_at=expires_at)

    async def _person_with_address(self, user_id: str, email: str) -> asyncpg.Record | None:
        """The active person whose address on file is ``email`` (compared without regard to case), or None."""
        person: asyncpg.Record | None = await self._pool().fetchrow(
            "SELECT name, title FROM personnel WHERE user_id = $1 AND active AND lower(email) = $2", user_id, email)
        return person

    async def _withdraw(self, user_id: str, digest: str) -> None:
        try:
            await self._store.drop_code(user_id, digest)
        except OtpStoreUnavailable:
            log.warning("could not withdraw an unsent otp code; it expires on its own", extra={"user_id": user_id})

    async def _alert(self, alert: OperationalAlertRaised) -> None:
        try:
            async with self._pool().acquire() as conn:
                await self._events.append(conn, ALERT_STREAM, [alert])
        except (asyncpg.PostgresError, OSError):
            log.exception("could not record the otp e-mail alert")

    async def verify(self, request: OtpVerifyRequest) -> OtpVerifyReply:
        secret = self._secret()
        if secret is None:
            return OtpVerifyReply(status=OtpVerifyStatus.UNAVAILABLE)
        email = normalize_email(request.email)
        presented = code_digest(secret, request.user_id, email, request.code)
        now = self._clock()
        max_wrong = self._settings.otp_max_wrong
        try:
            verdict = await self._store.attempt(
                request.user_id, lambda pending, issued: judge_attempt(pending, issued, presented, max_wrong),
                claim_digest(secret, request.user_id, email), self._settings.otp_claim_ttl_s)
        except OtpStoreUnavailable as exc:
            log.error("otp verification refused: code store unavailable",
                      extra={"user_id": request.user_id, "error": str(exc)})
            return OtpVerifyReply(status=OtpVerifyStatus.UNAVAILABLE)
        log.info("otp verification", extra={"user_id": request.user_id, "status": verdict.status.value,
                                            "attempts_left": verdict.attempts_left})
        valid_until = (now + timedelta(seconds=self._settings.otp_claim_ttl_s)
                       if verdict.status == OtpVerifyStatus.VERIFIED else None)
        return OtpVerifyReply(status=verdict.status, attempts_left=verdict.attempts_left,
                              claim_valid_until=valid_until)

    async def has_claim(self, user_id: str, email: str) -> bool:
        """Whether the person proved this address within the claim's validity (for the claim's next step)."""
        secret = self._secret()
        if secret is None:
            return False
        stored = await self._store.claim(user_id)
        return stored is not None and stored == claim_digest(secret, user_id, normalize_email(email))
