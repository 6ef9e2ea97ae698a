"""What a provider's HTTP answer means for the message (ARCHITECTURE rule 4): pure, no I/O, no clock.

* 2xx → accepted;
* 5xx, 408, 409, 425 → transient (retried with backoff);
* 429 → transient, and ``Retry-After`` is honoured (the next attempt is not earlier than it);
* 401/403 → transient, but a configuration error (a wrong token or key) an operator must fix;
* 400, 404, 422 and any other 4xx → permanent: the same request can never succeed (dead letter at once);
* anything else (1xx, 3xx: a misconfigured base URL) → transient configuration error.

Network errors and timeouts never reach this module: the adapters turn them into transient errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cicero_runtime.retry_after import parse_retry_after as parse_retry_after_header

RETRY_AFTER_CAP_S = 86_400.0
"""A ``Retry-After`` beyond a day is cut to a day: a broken header must not hold a session forever."""

TRANSIENT_CLIENT_ERRORS = frozenset({408, 409, 425})


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    permanent: bool = False
    retry_after_s: float | None = None
    config_error: bool = False


ACCEPTED = Verdict(accepted=True)


def classify_status(status: int, retry_after: str | None = None, now: datetime | None = None) -> Verdict:
    """The verdict for an HTTP status; ``retry_after`` (the header) only matters for 429."""
    if 200 <= status < 300:
        return ACCEPTED
    if status == 429:
        return Verdict(accepted=False, retry_after_s=parse_retry_after(retry_after, now))
    if status >= 500 or status in TRANSIENT_CLIENT_ERRORS:
        return Verdict(accepted=False)
    if status in (401, 403):
        return Verdict(accepted=False, config_error=True)
    if 400 <= status < 500:
        return Verdict(accepted=False, permanent=True)
    return Verdict(accepted=False, config_error=True)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds, capped at a day (a provider asking for longer is treated as asking for a day)."""
    return parse_retry_after_header(value, now, RETRY_AFTER_CAP_S)
