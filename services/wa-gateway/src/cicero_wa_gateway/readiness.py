"""A provider's readiness per session, asked at most once per interval; only changes are logged."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Literal

from cicero_runtime.logs import mask_phone

from cicero_wa_gateway.providers.base import Provider, ProviderError

log = logging.getLogger(__name__)

Change = Literal["ready", "not_ready"]


def readiness_change(previous: bool | None, current: bool) -> Change | None:
    """What to log after a check: the first observation and every flip, nothing while it stays the same."""
    if previous is current:
        return None
    return "ready" if current else "not_ready"


class ReadinessGate:
    """While not ready, the session's messages are not claimed: they wait, no attempt is counted."""

    def __init__(self, session: str, provider: Provider, interval_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.session = session
        self._provider = provider
        self._interval_s = interval_s
        self._clock = clock
        self._state: bool | None = None
        self._checked_at = 0.0

    async def is_ready(self) -> bool:
        now = self._clock()
        if self._state is not None and now - self._checked_at < self._interval_s:
            return self._state
        current, reason = await self._probe()
        self._checked_at = now
        change = readiness_change(self._state, current)
        self._state = current
        fields = {"session": self.session, "provider": self._provider.name}
        if change == "ready":
            log.info("whatsapp provider ready", extra=fields)
        elif change == "not_ready":
            log.warning("whatsapp provider not ready; holding this session's messages",
                        extra=fields | {"reason": mask_phone(reason)})
        return current

    def recheck(self) -> None:
        """Ask again before the next claim (a send found the provider unreachable)."""
        self._checked_at = float("-inf")

    def seconds_until_check(self) -> float:
        return max(0.0, self._checked_at + self._interval_s - self._clock())

    async def _probe(self) -> tuple[bool, str]:
        try:
            return (True, "") if await self._provider.ready() else (False, "the provider says it is not ready")
        except ProviderError as exc:
            return False, str(exc)
        except Exception as exc:  # a readiness check must never stop the loop; it means "not ready"
            return False, f"{type(exc).__name__}: {exc}"
