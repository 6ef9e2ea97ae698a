"""``cicero-notifier``: decide what to tell whom and when."""

from __future__ import annotations

from cicero_contracts.events.ingest import ClientFetchCompleted
from cicero_contracts.names import NOTIFIER_EVENTS
from cicero_runtime.consumer import EventConsumer
from cicero_runtime.service import Service, run_cli
from cicero_runtime.settings import RuntimeSettings

from cicero_notifier.directory import register_directory
from cicero_notifier.dispatch import Dispatch
from cicero_notifier.ledger import Ledger
from cicero_notifier.settings import NotifierSettings
from cicero_notifier.task_notifications import on_client_fetch_completed

SCHEMA = "notifier"


def build(settings: RuntimeSettings) -> Service:
    notifier_settings = settings if isinstance(settings, NotifierSettings) else NotifierSettings.model_construct(
        **settings.model_dump())
    service = Service("notifier", SCHEMA, notifier_settings)
    ledger = Ledger()
    dispatch = Dispatch()
    register_directory(dispatch)
    ledger.register(dispatch)
    # features: each registers its handlers on ``dispatch`` and its acceptance callbacks on ``ledger``
    dispatch.on(ClientFetchCompleted, on_client_fetch_completed)

    def register(consumer: EventConsumer) -> None:
        dispatch.attach(consumer)

    service.consumer("notifier", NOTIFIER_EVENTS, register)
    return service


def main(argv: list[str] | None = None) -> int:
    return run_cli("notifier", SCHEMA, build, settings_factory=NotifierSettings, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
