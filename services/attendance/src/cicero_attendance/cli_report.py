"""``cicero-attendance report <kind> <client_id> --date D``: a recap printed for an operator (text or JSON).

The same reports the read API serves, from the same tables, so an operator can check by hand what a group
received, or backfill a day (``--at`` sets the time the report says it was made).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from cicero_contracts.events.directory import USER_ID_PATTERN
from cicero_runtime.clock import parse_instant, utc_now
from cicero_runtime.service import Service

from cicero_attendance.read_model import load_report
from cicero_attendance.report_text import render_report
from cicero_attendance.reports import ReportError, ReportKind


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


def _instant(text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO time; use e.g. 2026-11-22T14:05 (WIB) or 2026-11-22T07:05Z") from None


def _user_id(text: str) -> str:
    if not re.fullmatch(USER_ID_PATTERN, text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a user id (NRP/NIP: digits only)")
    return text.strip()


def add_report_commands(sub: argparse._SubParsersAction[Any], make_service: Callable[[], Service]) -> None:
    cmd = sub.add_parser("report", help="print an attendance report (WhatsApp text or JSON)")
    cmd.add_argument("kind", choices=[k.value for k in ReportKind],
                     help="client: per division; directorate: per home client; post: per task post; "
                          "person: one person (--user)")
    cmd.add_argument("client_id", type=lambda s: s.strip().upper(), help="e.g. POLRES_A or DITBINMAS")
    cmd.add_argument("--date", dest="day", type=_day, required=True, help="the WIB day, YYYY-MM-DD")
    cmd.add_argument("--format", dest="fmt", choices=("text", "json"), default="text")
    cmd.add_argument("--user", dest="user_id", type=_user_id, help="the person (NRP/NIP) for the person report")
    cmd.add_argument("--at", dest="at", type=_instant, default=None,
                     help="when the report says it was made (ISO time; no offset = WIB); default now")

    async def do_report(args: argparse.Namespace) -> int:
        kind = ReportKind(args.kind)
        if kind == ReportKind.PERSON and args.user_id is None:
            print("report person: --user USER_ID is required", file=sys.stderr)
            return 2
        generated_at = args.at or utc_now()
        async with make_service().one_shot(publishing=False) as service, service.pool.acquire() as conn:
            try:
                report = await load_report(conn, kind, args.client_id, args.day, generated_at, args.user_id)
            except ReportError as exc:
                print(f"report {kind.value}: {exc}", file=sys.stderr)
                return 1
        if args.fmt == "json":
            print(json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2))
        else:
            print(render_report(report))
        return 0

    cmd.set_defaults(handler=do_report)
