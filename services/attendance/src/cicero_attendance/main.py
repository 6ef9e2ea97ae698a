"""``cicero-attendance``: the directory, the read tables projected from ingest, and the import commands."""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cicero_contracts.events.ingest import PostFetched, PostRemoved
from cicero_contracts.names import ATTENDANCE_EVENTS
from cicero_runtime.consumer import EventConsumer
from cicero_runtime.service import Service, run_cli
from cicero_runtime.settings import RuntimeSettings

from cicero_attendance.client_import import parse_clients_csv
from cicero_attendance.directory_store import apply_clients
from cicero_attendance.projection import on_post_fetched, on_post_removed

SCHEMA = "attendance"


def build(settings: RuntimeSettings) -> Service:
    service = Service("attendance", SCHEMA, settings)

    def register(consumer: EventConsumer) -> None:
        consumer.on(PostFetched)(on_post_fetched)
        consumer.on(PostRemoved)(on_post_removed)

    service.consumer("attendance", ATTENDANCE_EVENTS, register)
    return service


def add_commands(sub: argparse._SubParsersAction[Any], make_service: Callable[[], Service]) -> None:
    cmd = sub.add_parser("import-clients", help="import or update clients from a CSV file")
    cmd.add_argument("file", type=Path)
    cmd.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the publish")

    async def do_import(args: argparse.Namespace) -> int:
        try:
            text = args.file.read_text(encoding="utf-8")
        except OSError as exc:
            print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
            return 2
        except UnicodeDecodeError as exc:
            print(f"cannot read {args.file}: it is not UTF-8 (byte {exc.start}); export the sheet as CSV UTF-8",
                  file=sys.stderr)
            return 2
        result = parse_clients_csv(text)
        for warning in result.warnings:
            print(f"{args.file}: warning: {warning}", file=sys.stderr)
        if result.errors:
            for error in result.errors:
                print(f"{args.file}: {error}", file=sys.stderr)
            print(f"{len(result.errors)} bad row(s); nothing imported", file=sys.stderr)
            return 1
        async with make_service().one_shot(publishing=True) as service:
            async with service.pool.acquire() as conn:
                report = await apply_clients(conn, service.store, result.clients, f"import:{uuid.uuid4()}")
            if report.recorded:
                await service.wait_published(report.recorded[-1].global_position, args.timeout)
        print(f"{len(report.registered)} registered, {len(report.updated)} updated, "
              f"{len(report.unchanged)} unchanged")
        return 0

    cmd.set_defaults(handler=do_import)


def main(argv: list[str] | None = None) -> int:
    return run_cli("attendance", SCHEMA, build, extra_commands=add_commands, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
