"""``cicero-notifier``: decide what to tell whom and when."""

from __future__ import annotations

from cicero_contracts.events.ingest import ClientFetchCompleted
from cicero_contracts.names import NOTIFIER_EVENTS
from cicero_runtime.consumer import EventConsumer
from cicero_runtime.service import Service, run_cli
from cicero_runtime.settings import RuntimeSettings

from cicero_notifier.directory import register_directory
from cicero_notifier.task_notifications import on_client_fetch_completed

SCHEMA = "notifier"


def build(settings: RuntimeSettings) -> Service:
    service = Service("notifier", SCHEMA, settings)

    def register(consumer: EventConsumer) -> None:
        register_directory(consumer)
        consumer.on(ClientFetchCompleted)(on_client_fetch_completed)

    service.consumer("notifier", NOTIFIER_EVENTS, register)
    return service


def main(argv: list[str] | None = None) -> int:
    return run_cli("notifier", SCHEMA, build, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
