"""``cicero-notifier``: decide what to tell whom and when."""

from __future__ import annotations

from cicero_contracts.names import NOTIFIER_EVENTS
from cicero_runtime.consumer import EventConsumer
from cicero_runtime.service import Service, run_cli
from cicero_runtime.settings import RuntimeSettings

from cicero_notifier.cli_otp import add_otp_commands
from cicero_notifier.complaints import register_complaint_replies
from cicero_notifier.directory import register_directory
from cicero_notifier.dispatch import Dispatch
from cicero_notifier.inbound_commands import register_commands
from cicero_notifier.ledger import Ledger
from cicero_notifier.ops_alerts import register_ops_alerts
from cicero_notifier.otp_rpc import register_otp
from cicero_notifier.recaps import register_recaps
from cicero_notifier.reminders import register_reminders
from cicero_notifier.settings import NotifierSettings
from cicero_notifier.task_notifications import register_task_notifications

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
    register_complaint_replies(service, dispatch, notifier_settings)
    register_otp(service, notifier_settings)
    register_task_notifications(dispatch, ledger)
    register_reminders(dispatch, ledger)
    register_recaps(dispatch)
    register_commands(dispatch, notifier_settings)
    register_ops_alerts(dispatch, notifier_settings)

    def register(consumer: EventConsumer) -> None:
        dispatch.attach(consumer)

    service.consumer("notifier", NOTIFIER_EVENTS, register)
    return service


def main(argv: list[str] | None = None) -> int:
    return run_cli("notifier", SCHEMA, build, settings_factory=NotifierSettings, extra_commands=add_otp_commands,
                   argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
