"""The one interface every WhatsApp provider speaks, and the error that says how a send failed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    idempotency_key: str
    session: str
    chat_id: str
    text: str


class ProviderError(RuntimeError):
    """A send (or readiness check) failed.

    ``permanent``: retrying cannot help (bad number, rejected content) → dead letter at once.
    ``retry_after_s``: the provider asked us to wait (429 ``Retry-After``); the next attempt, and the
    session's next send, come no earlier.
    ``config_error``: our credentials or set-up are wrong (401/403); retried, but logged as an error an
    operator must fix.
    ``unreachable``: no answer at all (network error, timeout): the provider may be down, so its readiness
    is asked again before the next claim.
    """

    def __init__(self, message: str, *, permanent: bool = False, retry_after_s: float | None = None,
                 config_error: bool = False, unreachable: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after_s = retry_after_s
        self.config_error = config_error
        self.unreachable = unreachable


class Provider(Protocol):
    name: str

    async def ready(self) -> bool:
        """True when messages can go out now; False or a ``ProviderError`` (saying why) when not."""
        ...

    async def send(self, message: OutgoingMessage, now: datetime) -> str:
        """Send and return the provider's message id ("" when it gave none); raise ProviderError on failure."""
        ...
