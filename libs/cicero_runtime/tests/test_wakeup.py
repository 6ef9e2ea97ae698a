"""``wait_any``: the sleep of the LISTEN loops ends on the first event set, or at the timeout."""

from __future__ import annotations

import asyncio

from cicero_runtime.wakeup import wait_any


async def test_the_first_event_set_ends_the_wait_and_no_waiter_is_left_behind() -> None:
    notified, stop = asyncio.Event(), asyncio.Event()
    before = asyncio.all_tasks()
    asyncio.get_running_loop().call_soon(notified.set)
    await asyncio.wait_for(wait_any([notified, stop], timeout=30), 5)  # not the 30 s timeout
    assert notified.is_set() and not stop.is_set()
    assert all(task.done() or task.cancelling() for task in asyncio.all_tasks() - before)


async def test_without_an_event_the_timeout_ends_the_wait() -> None:
    never = asyncio.Event()
    await asyncio.wait_for(wait_any([never], timeout=0.01), 5)
    assert not never.is_set()
