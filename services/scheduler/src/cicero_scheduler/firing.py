"""Firing a tick: claim its id and append TickFired in one transaction, traced from the start."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from cicero_contracts.events.scheduler import TickFired
from cicero_runtime.clock import utc_now
from cicero_runtime.event_store import EventStore, Metadata, RecordedEvent
from cicero_runtime.tracing import inject_headers, tracer
from opentelemetry import trace

from cicero_scheduler import repository
from cicero_scheduler.schedules import Schedule, tick_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FireResult:
    tick_id: str
    fired: bool
    reason: str
    recorded: RecordedEvent | None = None


async def fire(
    conn: asyncpg.Connection,
    store: EventStore,
    schedule: Schedule,
    scheduled_for: datetime,
    *,
    manual: bool,
    respect_pause: bool = True,
) -> FireResult:
    """Fire ``schedule`` for ``scheduled_for`` unless that tick was already claimed (or the schedule paused)."""
    tid = tick_id(schedule.name, scheduled_for)
    with tracer("cicero.scheduler").start_as_current_span(
        f"fire {schedule.name}", kind=trace.SpanKind.PRODUCER, attributes={"cicero.tick_id": tid}
    ):
        async with conn.transaction():
            if respect_pause and not manual and await repository.is_paused(conn, schedule.name):
                return FireResult(tid, False, "paused")
            if not await repository.claim_tick(conn, tid, schedule.name, scheduled_for, "fired", manual):
                status = await repository.tick_status(conn, tid)  # "missed" ticks are never fired later
                return FireResult(tid, False, f"already {status or 'fired'}")
            event = TickFired(
                tick_id=tid, schedule=schedule.name, phase=schedule.phase, scheduled_for=scheduled_for,
                fired_at=utc_now(), mandatory=schedule.mandatory, manual=manual,
            )
            headers = inject_headers()
            [recorded] = await store.append(
                conn, f"schedule:{schedule.name}", [event],
                metadata=Metadata(correlation_id=tid, traceparent=headers.get("traceparent"),
                                  tracestate=headers.get("tracestate")),
            )
    log.info("tick fired", extra={"tick_id": tid, "manual": manual})
    return FireResult(tid, True, "fired", recorded)


async def record_missed(conn: asyncpg.Connection, schedule: Schedule, scheduled_for: datetime) -> bool:
    """A tick too old to fire is recorded as missed so it is never fired later."""
    return await repository.claim_tick(
        conn, tick_id(schedule.name, scheduled_for), schedule.name, scheduled_for, "missed", False
    )
