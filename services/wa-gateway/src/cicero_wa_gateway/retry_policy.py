"""When to try a failed send again (DOMAIN §6): 30 s doubling up to 1 h, 5 attempts then dead letter."""

from __future__ import annotations

from datetime import timedelta


def retry_delay(attempt: int, base_s: float = 30.0, cap_s: float = 3600.0) -> timedelta:
    """Delay after the ``attempt``-th failed attempt (1-based)."""
    exponent = min(max(attempt - 1, 0), 62)  # past this the cap has long won; avoids float overflow
    return timedelta(seconds=min(base_s * 2.0**exponent, cap_s))


def next_attempt_delay(attempt: int, base_s: float, cap_s: float, retry_after_s: float | None = None
                       ) -> timedelta:
    """The backoff, but never sooner than the provider's ``Retry-After`` (which may exceed the cap)."""
    backoff = retry_delay(attempt, base_s, cap_s)
    if retry_after_s is None:
        return backoff
    return max(backoff, timedelta(seconds=retry_after_s))


def is_final(attempt: int, max_attempts: int, permanent: bool) -> bool:
    return permanent or attempt >= max_attempts


def session_hold_s(gap_s: float, retry_after_s: float | None) -> float:
    """How long a session waits after a send before its next one: the pacing gap, or longer when the
    provider rate-limited us (a 429 is about the sending number, not about one message)."""
    return max(gap_s, retry_after_s or 0.0)
