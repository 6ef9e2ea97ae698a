"""Provider webhooks → ``WhatsAppMessageReceived``, and the checks that prove a webhook came from the provider.

Pure functions over the raw body and header values: no I/O and no clock, so every decision (signature,
shape, which messages count, how ids are normalised) is unit-tested without a server. ``webhooks.py``
does the HTTP and the recording.

Sender numbers from a provider are already international digits, so they are *not* passed through the
directory's local-prefix rules (``08…`` / ``8…`` → ``628…``): applied here those rules would turn a
Japanese ``81…`` sender into an Indonesian ``6281…`` one and let a foreigner pass as a registered admin.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from cicero_contracts.events.whatsapp import WhatsAppMessageReceived, WhatsAppSession
from cicero_runtime.identifiers import InvalidIdentifier, normalize_group_id
from cicero_runtime.logs import mask_phone
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Provider = Literal["cloud", "waha"]

SIGNATURE_PREFIX = "sha256="
MS_THRESHOLD = 10**12
"""Unix times at or above this are milliseconds (10**12 s is the year 33658; 10**12 ms is 2001)."""
MAX_TIMESTAMP = 10**14
MAX_MESSAGE_ID = 300
"""Provider ids are far shorter; the bound keeps stream ids (``wa-in:<id>``) sane."""
WAHA_MESSAGE_EVENTS = frozenset({"message", "message.any"})
WAHA_STATUS_CHAT = "status@broadcast"

_PERSONAL_SUFFIXES = ("@c.us", "@s.whatsapp.net")
_DIGITS = re.compile(r"[1-9][0-9]{7,14}")
"""International digits (E.164: no leading 0, at most 15 digits)."""
_LONG_DIGITS = re.compile(r"(\d{3})\d{2,}(\d{3})")


class MalformedWebhook(ValueError):
    """The body is not JSON or not the provider's shape; the message names what is wrong (an HTTP 400)."""


@dataclass(frozen=True)
class Skipped:
    """A message that cannot become an event (its chat cannot be normalised); ``reason`` is safe to log."""

    message_id: str
    reason: str


@dataclass(frozen=True)
class Inbound:
    """What one webhook delivery holds: messages to record, messages skipped, items ignored by design."""

    messages: list[WhatsAppMessageReceived] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    ignored: int = 0
    """Statuses, non-text messages, our own messages, other provider events: acknowledged, not recorded."""


# -- authenticity ------------------------------------------------------------------------------------------


def cloud_signature(app_secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends: HMAC-SHA256 of the raw body, keyed by the app secret."""
    return SIGNATURE_PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(app_secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time check of the signature header; a missing or differently shaped header is invalid."""
    if not header:
        return False
    return hmac.compare_digest(cloud_signature(app_secret, body).encode(), header.strip().lower().encode())


def key_valid(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a shared key (WAHA's ``X-Api-Key``)."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def subscription_challenge(params: Mapping[str, str], verify_token: str) -> str | None:
    """The Cloud API handshake: the challenge to echo, or None when mode or token are wrong (a 403)."""
    if params.get("hub.mode") != "subscribe" or not key_valid(verify_token, params.get("hub.verify_token")):
        return None
    return params.get("hub.challenge", "")


# -- identifiers and time ----------------------------------------------------------------------------------


def personal_id(raw: str) -> str:
    """A provider's personal jid (``628…@c.us``, ``628…:12@s.whatsapp.net``, ``+628…``) → ``628…@c.us``."""
    text = raw.strip()
    for suffix in _PERSONAL_SUFFIXES:
        text = text.removesuffix(suffix)
    user = text.split(":", 1)[0].removeprefix("+")  # ``:12`` is a linked-device suffix
    if not _DIGITS.fullmatch(user):
        raise InvalidIdentifier(f"{masked(raw)!r} is not a personal WhatsApp number")
    return f"{user}@c.us"


def group_id(raw: str) -> str:
    try:
        return normalize_group_id(raw)
    except InvalidIdentifier:
        raise InvalidIdentifier(f"{masked(raw)!r} is not a WhatsApp group id") from None


def masked(raw: str) -> str:
    """A provider id fit for logs: Indonesian numbers as ``mask_phone`` hides them, any other long digit run
    cut to its first and last three digits."""
    return _LONG_DIGITS.sub(lambda m: f"{m.group(1)}****{m.group(2)}", mask_phone(raw))


def from_unix(value: int) -> datetime:
    """A provider's Unix time (seconds, or milliseconds for some engines) as an aware UTC instant."""
    seconds = value / 1000 if value >= MS_THRESHOLD else value
    return datetime.fromtimestamp(seconds, tz=UTC)


# -- shapes ------------------------------------------------------------------------------------------------


class _Shape(BaseModel):
    """Providers add fields freely; only what we read is checked."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


MessageId = Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_ID)]
UnixTime = Annotated[int, Field(ge=0, lt=MAX_TIMESTAMP)]
M = TypeVar("M", bound=BaseModel)


class _CloudText(_Shape):
    body: str


class _CloudMessage(_Shape):
    id: MessageId
    sender: str = Field(alias="from", min_length=1)
    timestamp: UnixTime
    type: str
    text: _CloudText | None = None

    @model_validator(mode="after")
    def _text_has_body(self) -> _CloudMessage:
        if self.type == "text" and self.text is None:
            raise ValueError("a text message without text.body")
        return self


class _CloudValue(_Shape):
    messages: list[_CloudMessage] = Field(default_factory=list)


class _CloudChange(_Shape):
    value: _CloudValue


class _CloudEntry(_Shape):
    changes: list[_CloudChange] = Field(default_factory=list)


class _CloudWebhook(_Shape):
    entry: list[_CloudEntry]


class _WahaWebhook(_Shape):
    event: str = Field(min_length=1)
    session: str = "default"
    payload: Any = None


class _WahaMessage(_Shape):
    id: MessageId
    sender: str = Field(alias="from", min_length=1)
    body: str | None = None
    timestamp: UnixTime
    participant: str | None = None
    from_me: bool = Field(default=False, alias="fromMe")


def _load_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedWebhook(f"body is not valid JSON: {exc}") from None


def _describe(exc: ValidationError, prefix: str = "") -> str:
    """``entry[0].changes[0].value.messages[0].from: Field required`` — the path as the provider wrote it."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        path = prefix
        for part in error["loc"]:
            path += f"[{part}]" if isinstance(part, int) else f"{'.' if path else ''}{part}"
        problems.append(f"{path or 'body'}: {error['msg']}")
    return "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")


def _validate(model: type[M], data: Any, prefix: str = "") -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise MalformedWebhook(f"unexpected webhook shape: {_describe(exc, prefix)}") from None


# -- parsing -----------------------------------------------------------------------------------------------


def parse_cloud(body: bytes) -> Inbound:
    """A Cloud API webhook: text messages become events on the ``operator`` session (the Cloud API number
    is a personal chat, never a group); statuses and other message types are ignored."""
    webhook = _validate(_CloudWebhook, _load_json(body))
    messages: list[WhatsAppMessageReceived] = []
    skipped: list[Skipped] = []
    ignored = 0
    for entry in webhook.entry:
        for change in entry.changes:
            for message in change.value.messages:
                if message.type != "text" or message.text is None:
                    ignored += 1
                    continue
                try:
                    chat = personal_id(message.sender)
                except InvalidIdentifier as exc:
                    skipped.append(Skipped(message.id, str(exc)))
                    continue
                messages.append(WhatsAppMessageReceived(
                    message_id=message.id, session=WhatsAppSession.OPERATOR, chat_id=chat, sender_id=chat,
                    text=message.text.body, is_group=False, received_at=from_unix(message.timestamp),
                ))
    return Inbound(messages, skipped, ignored)


def parse_waha(body: bytes, sessions: Mapping[str, WhatsAppSession]) -> Inbound:
    """A WAHA-style webhook: ``message`` / ``message.any`` events with a text body become events; our own
    messages (``fromMe``), status posts, media without a caption and every other event are ignored.

    A group message names the group in ``from`` and the person in ``participant``. The WAHA session name
    maps to our session through ``sessions``; a name not listed is the operator session.
    """
    webhook = _validate(_WahaWebhook, _load_json(body))
    if webhook.event not in WAHA_MESSAGE_EVENTS:
        return Inbound(ignored=1)
    message = _validate(_WahaMessage, webhook.payload, prefix="payload")
    if message.from_me or not message.body or message.sender == WAHA_STATUS_CHAT:
        return Inbound(ignored=1)
    try:
        if message.sender.endswith("@g.us"):
            if not message.participant:
                raise InvalidIdentifier(f"group message from {masked(message.sender)!r} names no participant")
            chat, sender, is_group = group_id(message.sender), personal_id(message.participant), True
        else:
            chat = sender = personal_id(message.sender)
            is_group = False
    except InvalidIdentifier as exc:
        return Inbound(skipped=[Skipped(message.id, str(exc))])
    return Inbound(messages=[WhatsAppMessageReceived(
        message_id=message.id, session=sessions.get(webhook.session, WhatsAppSession.OPERATOR), chat_id=chat,
        sender_id=sender, text=message.body, is_group=is_group, received_at=from_unix(message.timestamp),
    )])
