"""``cicero-scheduler``: run the clock, fire a schedule by hand, pause or resume a schedule."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from cicero_runtime.clock import parse_instant, utc_now
from cicero_runtime.service import Service, run_cli
from cicero_runtime.settings import RuntimeSettings

from cicero_scheduler import repository
from cicero_scheduler.clock_loop import clock_loop
from cicero_scheduler.firing import fire
from cicero_scheduler.schedules import SCHEDULES, describe, get_schedule
from cicero_scheduler.settings import SchedulerSettings

SCHEMA = "scheduler"


def build(settings: RuntimeSettings) -> Service:
    service = Service("scheduler", SCHEMA, settings)
    if cast(SchedulerSettings, settings).scheduler_clock_enabled:
        service.background(clock_loop)
    return service


def _instant(text: str) -> datetime:
    """``--at``: checked while parsing, so a bad time is a usage error before anything is touched."""
    try:
        return parse_instant(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid ISO-8601 time {text!r} (e.g. 2026-03-10T14:05:00+07:00; no offset = WIB)"
        ) from None


def add_commands(sub: argparse._SubParsersAction[Any], make_service: Callable[[], Service]) -> None:
    fire_cmd = sub.add_parser("fire", help="fire a schedule by hand for a given time")
    fire_cmd.add_argument("schedule", choices=sorted(SCHEDULES))
    fire_cmd.add_argument("--at", type=_instant, help="ISO-8601 time (no offset = WIB); default now")
    fire_cmd.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the publish")

    async def do_fire(args: argparse.Namespace) -> int:
        schedule = get_schedule(args.schedule)
        at: datetime = args.at or utc_now()
        async with make_service().one_shot(publishing=True) as service:
            async with service.pool.acquire() as conn:
                result = await fire(conn, service.store, schedule, at, manual=True)
            if result.recorded is not None:
                await service.wait_published(result.recorded.global_position, args.timeout)
        print(f"{result.tick_id}: {result.reason}")
        return 0 if result.fired else 3

    fire_cmd.set_defaults(handler=do_fire)

    for verb, paused in (("pause", True), ("resume", False)):
        cmd = sub.add_parser(verb, help=f"{verb} a schedule at run time")
        cmd.add_argument("schedule", choices=sorted(SCHEDULES))

        async def toggle(args: argparse.Namespace, paused: bool = paused) -> int:
            async with make_service().one_shot(publishing=False) as service, service.pool.acquire() as conn:
                await repository.set_paused(conn, args.schedule, paused)
            print(f"{args.schedule}: {'paused' if paused else 'running'}")
            return 0

        cmd.set_defaults(handler=toggle)

    list_cmd = sub.add_parser("list", help="each schedule, its state and its next fire times in WIB")

    async def do_list(args: argparse.Namespace) -> int:
        async with make_service().one_shot(publishing=False) as service, service.pool.acquire() as conn:
            paused = await repository.paused_schedules(conn)
        now = utc_now()
        for schedule in SCHEDULES.values():
            print(describe(schedule, schedule.name in paused, now))
        return 0

    list_cmd.set_defaults(handler=do_list)


def main(argv: list[str] | None = None) -> int:
    return run_cli("scheduler", SCHEMA, build, settings_factory=SchedulerSettings, extra_commands=add_commands,
                   argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
