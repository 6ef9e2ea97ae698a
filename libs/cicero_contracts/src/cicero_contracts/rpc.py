"""Request/reply messages on the bus (docs/architecture.md rule 6: what a service needs from another arrives as
events, or as a request/reply) and the queues they are sent to.

A caller publishes the request to the queue with a ``reply_to`` (RabbitMQ direct reply-to) and waits;
the responder answers with the reply model, or with ``RpcError`` when the request itself is malformed.
These are not events: nothing is stored, a request that nobody answers simply times out.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import Field

from cicero_contracts.base import UtcDatetime, WireModel
from cicero_contracts.events.directory import USER_ID_PATTERN

OTP_ISSUE_QUEUE = "notifier.rpc.otp-issue"
"""Ask the notifier to e-mail a one-time code to a person for the data-claim flow (docs/domain.md §5)."""
OTP_VERIFY_QUEUE = "notifier.rpc.otp-verify"
"""Ask the notifier whether a code is the one it sent; a right code stores a verified claim."""

OTP_CODE_PATTERN = r"^[0-9]{6}$"
EMAIL_MAX_LENGTH = 254
"""RFC 5321's limit on a forward path; longer input is refused before any lookup."""


class OtpIssueStatus(StrEnum):
    SENT = "sent"
    """The SMTP server accepted the e-mail with the code, sent to the address on file for the person."""
    NOT_ON_FILE = "not_on_file"
    """No code was sent: the address is not the one on file for an active person with this user id. One answer
    whether the address is someone else's, nobody's, the person has no address on file or the user id is
    unknown: the requester learns nothing about whom an address belongs to (docs/domain.md §5)."""
    EMAIL_IN_USE = "email_in_use"
    """Schema version 1 only, no longer sent (it told a requester the address was someone else's); kept so a
    reply from an older notifier still reads."""
    UNKNOWN_USER = "unknown_user"
    """Schema version 1 only, no longer sent (now ``not_on_file``); kept so an older reply still reads."""
    INVALID_EMAIL = "invalid_email"
    """The address is not syntactically an e-mail address."""
    SEND_FAILED = "send_failed"
    """The SMTP server refused the e-mail or could not be reached; no code is pending."""
    UNAVAILABLE = "unavailable"
    """The notifier cannot issue codes right now (OTP secret not configured, Redis down)."""
    TOO_MANY_REQUESTS = "too_many_requests"
    """More codes were asked for this person within the hour than allowed: each code gives fresh tries, so
    unlimited requests would make guessing possible (and flood the person's mailbox)."""


class OtpVerifyStatus(StrEnum):
    VERIFIED = "verified"
    WRONG_CODE = "wrong_code"
    """Not the code; ``attempts_left`` says how many tries remain (0: the code is burnt)."""
    EXPIRED = "expired"
    """A code was issued but its time is up: request a new one."""
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    """The code was burnt by wrong tries; even the right code is refused until a new one is requested."""
    UNKNOWN = "unknown"
    """No code is pending for this person."""
    UNAVAILABLE = "unavailable"
    """The notifier cannot verify codes right now (OTP secret not configured, Redis down)."""


class RpcMessage(WireModel):
    """A request or reply; ``schema_version`` names its committed JSON Schema (``<Model>.v<N>.json``). A change a
    reader of the previous version could not read raises it, and the previous file stays committed."""

    schema_version: ClassVar[int] = 1


class OtpIssueRequest(RpcMessage):
    user_id: str = Field(pattern=USER_ID_PATTERN)
    email: str = Field(min_length=1, max_length=EMAIL_MAX_LENGTH)


class OtpIssueReply(RpcMessage):
    """Version 2 added ``not_on_file`` in place of ``email_in_use`` and ``unknown_user``, which it still reads."""

    schema_version: ClassVar[int] = 2
    status: OtpIssueStatus
    expires_at: UtcDatetime | None = None
    """When the code stops working; set only with ``sent``."""


class OtpVerifyRequest(RpcMessage):
    user_id: str = Field(pattern=USER_ID_PATTERN)
    email: str = Field(min_length=1, max_length=EMAIL_MAX_LENGTH)
    code: str = Field(pattern=OTP_CODE_PATTERN)


class OtpVerifyReply(RpcMessage):
    status: OtpVerifyStatus
    attempts_left: int | None = Field(default=None, ge=0)
    """With ``wrong_code``: how many more tries the code allows."""
    claim_valid_until: UtcDatetime | None = None
    """With ``verified``: until when the verified claim holds."""


class RpcError(RpcMessage):
    """The reply to a request that could not be read; ``detail`` names the fields, never their values."""

    error: Literal["bad_request"] = "bad_request"
    detail: str = Field(min_length=1)


RPC_MODELS: tuple[type[RpcMessage], ...] = (
    OtpIssueRequest, OtpIssueReply, OtpVerifyRequest, OtpVerifyReply, RpcError,
)
"""Every request/reply model; their JSON Schemas are committed beside the events' (``schema_files``)."""
