"""An operator's ``fetch#CLIENT`` on WhatsApp (ManualFetchRequested): one fetch job for that client, now.

The job goes onto the same work queue as a tick's jobs, so it takes the client's lock like any other and
its ClientFetchCompleted drives the notifier as usual. Its tick id ``manual:{request_id}`` keeps it apart
from the scheduled runs (no FetchRunStarted: a manual fetch is not a run the admins wait for), and its
event time is the moment of the request, never the wall clock.
"""

from __future__ import annotations

import logging

from cicero_contracts.events.ingest import ClientFetchRequested
from cicero_contracts.events.notifier import ManualFetchRequested
from cicero_contracts.events.scheduler import TickPhase
from cicero_runtime.consumer import HandlerContext

log = logging.getLogger(__name__)


def manual_tick_id(request_id: str) -> str:
    return f"manual:{request_id}"


async def on_manual_fetch_requested(event: ManualFetchRequested, ctx: HandlerContext) -> None:
    client = await ctx.conn.fetchrow("SELECT active FROM clients WHERE client_id = $1", event.client_id)
    if client is None or not client["active"]:
        # the notifier checked the client before asking; a race with a deactivation is not worth a retry
        log.warning("manual fetch for an unknown or inactive client skipped",
                    extra={"client_id": event.client_id, "request_id": event.request_id,
                           "known": client is not None})
        return
    tick_id = manual_tick_id(event.request_id)
    job = ClientFetchRequested(client_id=event.client_id, tick_id=tick_id, phase=TickPhase.POST_FETCH,
                               scheduled_for=event.requested_at, mandatory=False)
    await ctx.append(f"fetch-jobs:{tick_id}", [job])
    log.info("manual fetch job enqueued", extra={"client_id": event.client_id, "tick_id": tick_id})
