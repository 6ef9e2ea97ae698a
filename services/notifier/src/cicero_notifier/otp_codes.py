"""One-time codes for the data-claim flow (DOMAIN §5), as pure functions.

The code itself is never stored: Redis holds an HMAC-SHA256 of (user, e-mail, code) under the OTP
secret, so a copy of Redis does not reveal codes, and a code is bound to the address it was sent to
(a right code presented with another address is a wrong code). Deciding a verification attempt is a
pure function of what is pending, so the rules are tested without Redis.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from cicero_contracts.rpc import OtpVerifyStatus

CODE_DIGITS = 6


def generate_code() -> str:
    """Six decimal digits from the operating system's CSPRNG (leading zeros kept)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _digest(secret: bytes, *parts: str) -> str:
    # NUL-separated so ("12", "3…") and ("1", "23…") can never collide
    return hmac.new(secret, "\x00".join(parts).encode(), hashlib.sha256).hexdigest()


def code_digest(secret: bytes, user_id: str, email: str, code: str) -> str:
    """The keyed hash stored for a pending code; ``email`` is the normalised address."""
    return _digest(secret, "otp-v1", user_id, email, code)


def claim_digest(secret: bytes, user_id: str, email: str) -> str:
    """The keyed value of a verified claim: who proved which address, without storing the address."""
    return _digest(secret, "claim-v1", user_id, email)


@dataclass(frozen=True)
class PendingCode:
    """What Redis holds for a person's current code."""

    digest: str
    wrong: int


@dataclass(frozen=True)
class Verdict:
    """The outcome of one attempt and what to write back."""

    status: OtpVerifyStatus
    attempts_left: int | None = None
    wrong_after: int | None = None
    """The new count of wrong tries to store (a wrong attempt); ``None``: leave the count as it is."""

    @property
    def consumes_code(self) -> bool:
        """A verified code is used up: it cannot verify a second time."""
        return self.status == OtpVerifyStatus.VERIFIED


def judge_attempt(pending: PendingCode | None, was_issued: bool, presented_digest: str, max_wrong: int
                  ) -> Verdict:
    """Decide one verification attempt.

    * nothing pending: ``expired`` if a code was issued recently (its key timed out), else ``unknown``;
    * ``max_wrong`` wrong tries burnt the code: ``too_many_attempts``, even for the right code;
    * the right code: ``verified``;
    * otherwise ``wrong_code`` with the tries left; the try that reaches ``max_wrong`` burns the code.
    """
    if pending is None:
        return Verdict(OtpVerifyStatus.EXPIRED if was_issued else OtpVerifyStatus.UNKNOWN)
    if pending.wrong >= max_wrong:
        return Verdict(OtpVerifyStatus.TOO_MANY_ATTEMPTS, attempts_left=0)
    if hmac.compare_digest(pending.digest, presented_digest):
        return Verdict(OtpVerifyStatus.VERIFIED)
    wrong = pending.wrong + 1
    return Verdict(OtpVerifyStatus.WRONG_CODE, attempts_left=max_wrong - wrong, wrong_after=wrong)
