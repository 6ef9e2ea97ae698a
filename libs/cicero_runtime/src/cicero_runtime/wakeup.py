"""How the loops that LISTEN for work (the relay, the outbox workers) sleep between passes.

They wait until a NOTIFY wakes them, the service stops, or the poll interval passes, whichever comes first:
a NOTIFY lost while no listener was connected then costs one interval, never the work itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable


async def wait_any(events: Iterable[asyncio.Event], timeout: float | None) -> None:
    """Until one of ``events`` is set or ``timeout`` seconds pass (``None``: no limit)."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
