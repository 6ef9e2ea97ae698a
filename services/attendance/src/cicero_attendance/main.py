"""``cicero-attendance``: the directory, the read tables projected from ingest, the import commands, and the
recaps and opt-in commands answered for the notifier."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from cicero_contracts.events.ingest import EngagementRefreshed, PostFetched, PostRemoved
from cicero_contracts.events.notifier import RecapRequested, ReminderOptInChanged
from cicero_contracts.events.scheduler import TickFired
from cicero_contracts.names import ATTENDANCE_COMMANDS, ATTENDANCE_EVENTS
from cicero_runtime.consumer import EventConsumer
from cicero_runtime.service import Service, run_cli
from cicero_runtime.settings import RuntimeSettings

from cicero_attendance.api import serve_api
from cicero_attendance.cli_directory import add_directory_commands
from cicero_attendance.cli_rebuild import add_rebuild_commands
from cicero_attendance.cli_report import add_report_commands
from cicero_attendance.opt_in import OptInRecorder
from cicero_attendance.projector import Projector
from cicero_attendance.recap_publishing import answer_recap_request, publish_tick_recaps
from cicero_attendance.settings import AttendanceSettings

SCHEMA = "attendance"


def build(settings: RuntimeSettings) -> Service:
    service = Service("attendance", SCHEMA, settings)
    projector = Projector.from_settings(settings)

    def register(consumer: EventConsumer) -> None:
        consumer.on_batch(projector.apply_consumed, PostFetched, PostRemoved, EngagementRefreshed)

    service.consumer("attendance", ATTENDANCE_EVENTS, register)
    opt_ins = OptInRecorder(projector)

    def register_commands(consumer: EventConsumer) -> None:
        # per-event handlers: a consumer with a batch handler cannot take them, hence a second queue
        consumer.on(TickFired)(publish_tick_recaps)
        consumer.on(RecapRequested)(answer_recap_request)
        consumer.on(ReminderOptInChanged)(opt_ins.on_changed)

    service.consumer("attendance-commands", ATTENDANCE_COMMANDS, register_commands)
    service.background(serve_api)
    return service


def add_commands(sub: argparse._SubParsersAction[Any], make_service: Callable[[], Service]) -> None:
    add_rebuild_commands(sub, make_service)
    add_directory_commands(sub, make_service)
    add_report_commands(sub, make_service)


def main(argv: list[str] | None = None) -> int:
    return run_cli("attendance", SCHEMA, build, settings_factory=AttendanceSettings, extra_commands=add_commands,
                   argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
