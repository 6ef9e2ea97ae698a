"""``cicero-attendance rebuild``: replay the journal into fresh tables and swap them in, with a progress bar."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from cicero_runtime.service import Service
from tqdm import tqdm

from cicero_attendance.projector import Projector
from cicero_attendance.rebuild import RebuildError, rebuild
from cicero_attendance.settings import AttendanceSettings


def add_rebuild_commands(sub: argparse._SubParsersAction[Any], make_service: Callable[[], Service]) -> None:
    cmd = sub.add_parser("rebuild", help="rebuild the attendance tables from the journal, then swap them in")
    cmd.add_argument("--check", action="store_true",
                     help="rebuild beside the live tables and report differences, without swapping")
    cmd.add_argument("--chunk-size", type=int, default=None, help="journal entries per transaction")

    async def do_rebuild(args: argparse.Namespace) -> int:
        service = make_service()
        settings = service.settings
        chunk = args.chunk_size or (settings.rebuild_chunk_size if isinstance(settings, AttendanceSettings)
                                    else 5000)
        if chunk < 1:
            print("--chunk-size must be at least 1", file=sys.stderr)
            return 2
        with tqdm(total=0, unit="ev", unit_scale=True, desc="rebuild", file=sys.stderr, dynamic_ncols=True) as bar:
            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            try:
                report = await rebuild(settings.database_url, service.schema, Projector.from_settings(settings),
                                       chunk_size=chunk, swap=not args.check, progress=progress)
            except RebuildError as exc:
                print(str(exc), file=sys.stderr)
                return 1
        if args.check:
            different = {t: n for t, n in report.differences.items() if n}
            print(f"rebuilt {report.entries} journal entries beside the live tables: "
                  + ("identical" if not different else
                     "DIFFERENT: " + ", ".join(f"{t} {n} row(s)" for t, n in different.items())))
            return 0 if not different else 1
        print(f"rebuilt from {report.entries} journal entries (up to position {report.position}); "
              "the new tables are live")
        return 0

    cmd.set_defaults(handler=do_rebuild)
