"""When to try a failed send again (DOMAIN §6): 30 s doubling up to 1 h, 5 attempts then dead letter."""

from __future__ import annotations

from datetime import timedelta


def retry_delay(attempt: int, base_s: float = 30.0, cap_s: float = 3600.0) -> timedelta:
    """Delay after the ``attempt``-th failed attempt (1-based)."""
    return timedelta(seconds=min(base_s * 2 ** max(attempt - 1, 0), cap_s))


def is_final(attempt: int, max_attempts: int, permanent: bool) -> bool:
    return permanent or attempt >= max_attempts
