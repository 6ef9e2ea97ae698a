"""Exchange, routing-key and queue names: the bus addresses every service agrees on.

A deployment may prefix every name with a namespace (tests do, to isolate runs); the prefixing lives
in the runtime, the base names live here.
"""

from __future__ import annotations

from dataclasses import dataclass

EVENTS_EXCHANGE = "cicero.events"
"""Durable topic exchange every outbox relay publishes to."""

RETRY_SUFFIX = ".retry"
DEAD_LETTER_SUFFIX = ".dlq"


@dataclass(frozen=True)
class QueueSpec:
    """A consumer's durable queue and the routing-key patterns bound to it."""

    name: str
    bindings: tuple[str, ...]

    @property
    def retry_queue(self) -> str:
        return self.name + RETRY_SUFFIX

    @property
    def dead_letter_queue(self) -> str:
        return self.name + DEAD_LETTER_SUFFIX


INGEST_EVENTS = QueueSpec(
    "ingest.events",
    ("scheduler.TickFired", "directory.ClientRegistered", "directory.ClientUpdated",
     "directory.ClientDeactivated", "notifier.ManualFetchRequested"),
)
INGEST_FETCH_JOBS = QueueSpec("ingest.fetch-jobs", ("ingest.job.*",))
"""The work queue of per-client fetch jobs: every ingest replica competes for them."""
ATTENDANCE_EVENTS = QueueSpec("attendance.events", ("ingest.*",))
"""What the attendance projection applies in micro-batches."""
ATTENDANCE_COMMANDS = QueueSpec(
    "attendance.commands",
    ("scheduler.TickFired", "notifier.RecapRequested", "notifier.ReminderOptInChanged"),
)
"""What attendance answers one event at a time: recap ticks, recap requests, reminder opt-ins."""
NOTIFIER_EVENTS = QueueSpec(
    "notifier.events",
    ("ingest.ClientFetchCompleted", "ingest.FetchRunStarted", "directory.*", "attendance.*", "scheduler.TickFired",
     "whatsapp.WhatsAppMessageSent", "whatsapp.WhatsAppMessageFailed", "whatsapp.WhatsAppMessageReceived",
     "ops.*", "complaints.*"),
)
WA_GATEWAY_REQUESTS = QueueSpec("wa-gateway.requests", ("whatsapp.WhatsAppMessageRequested",))

CONSUMER_QUEUES: tuple[QueueSpec, ...] = (
    INGEST_EVENTS, INGEST_FETCH_JOBS, ATTENDANCE_EVENTS, ATTENDANCE_COMMANDS, NOTIFIER_EVENTS, WA_GATEWAY_REQUESTS,
)
"""Every consumer queue; declaring all of them makes every published routing key routable."""
