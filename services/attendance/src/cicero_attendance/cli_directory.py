"""The directory commands of ``cicero-attendance``: import, upsert and deactivate clients and personnel.

    cicero-attendance client import FILE          (alias: import-clients FILE)
    cicero-attendance client upsert CLIENT_ID [--name … --type ORG|DIREKTORAT …]
    cicero-attendance client deactivate CLIENT_ID [--reason TEXT]
    cicero-attendance personnel import FILE       (alias: import-personnel FILE)
    cicero-attendance personnel upsert USER_ID [--name … --client-id …]
    cicero-attendance personnel deactivate USER_ID

Exit codes: 0 applied (or nothing to change); 1 refused — bad rows in a file, an unknown id or client, a
handle another person holds — and nothing applied, except that a clients file still imports its good rows
(each bad row is refused on its own and named); 2 the input itself is unusable — an unreadable file, a
bad option value, a new record without its name — and nothing applied. Values typed on the command line
go through the same normalisers as the CSV cells, so both accept the same forms. Each command returns
once its events are on the bus, so whatever runs next sees them.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from cicero_runtime.identifiers import normalize_phone
from cicero_runtime.service import Service

from cicero_attendance.client_import import client_type_value, instagram_value, parse_clients_csv, tiktok_value
from cicero_attendance.csv_rows import (
    RowError,
    client_id_value,
    email_value,
    group_ids,
    optional,
    phone_numbers,
    roles_value,
    text_value,
    user_id_value,
)
from cicero_attendance.directory_store import (
    ApplyReport,
    Deactivation,
    DirectoryError,
    InvalidChange,
    Problem,
    apply_clients,
    apply_personnel,
    deactivate_client,
    deactivate_personnel,
    upsert_client,
    upsert_personnel,
)
from cicero_attendance.personnel_import import parse_personnel_csv
from cicero_attendance.projector import Projector

Subparsers: TypeAlias = "argparse._SubParsersAction[Any]"  # not subscriptable at run time
MakeService = Callable[[], Service]
Handler = Callable[[argparse.Namespace], Awaitable[int]]


class UsageError(ValueError):
    """A value on the command line that cannot be used; the message names the option."""


# -- option values: the CSV normalisers, with the option's name in the message ---------------------------


def _name(flag: str, value: str) -> str:
    name = text_value(value)
    if name is None:
        raise ValueError(f"{flag}: must not be empty")
    return name


def _handle(platform: str) -> Callable[[str, str], str | None]:
    normalize = instagram_value if platform == "instagram" else tiktok_value
    return lambda flag, value: optional(flag, normalize, value)


def _nullable_client_id(flag: str, value: str) -> str | None:
    return client_id_value(flag, value) if value.strip() else None


def _nullable_email(flag: str, value: str) -> str | None:
    return email_value(flag, value) if value.strip() else None


@dataclass(frozen=True)
class Option:
    """A valued option of an upsert: ``field`` of the snapshot, set from ``parse(flag, text)``.

    An empty value (``--instagram ""``) clears an optional field.
    """

    flag: str
    field: str
    parse: Callable[[str, str], Any]
    help: str
    metavar: str = "TEXT"


@dataclass(frozen=True)
class Switch:
    """A yes/no option: ``--flag`` sets the field true, ``--off`` false; absent leaves it as it is."""

    on: str
    off: str
    field: str
    help: str


CLIENT_OPTIONS = (
    Option("--name", "name", _name, "the unit's name, e.g. 'Polres Demo'"),
    Option("--type", "client_type", client_type_value, "ORG (a Polres/satker) or DIREKTORAT", "ORG|DIREKTORAT"),
    Option("--instagram", "instagram_username", _handle("instagram"), "handle, @handle or profile link",
           "HANDLE"),
    Option("--tiktok", "tiktok_username", _handle("tiktok"), "handle, @handle or profile link", "HANDLE"),
    Option("--tiktok-sec-uid", "tiktok_sec_uid", lambda _, v: v.strip() or None, "the account's secUid", "SECUID"),
    Option("--groups", "whatsapp_groups", group_ids,
           "WhatsApp group ids (digits@g.us, digits or a chat.whatsapp.com link), separated by , or ;", "IDS"),
    Option("--operators", "operator_numbers", phone_numbers, "operator numbers separated by , ; or /", "NUMBERS"),
    Option("--super-admins", "super_admin_numbers", phone_numbers, "super-admin numbers separated by , ; or /",
           "NUMBERS"),
    Option("--parent", "parent_client_id", _nullable_client_id, "the parent client id", "CLIENT_ID"),
    Option("--region", "region", lambda _, v: v.strip() or None, "region, e.g. 'Jawa Timur'"),
)
CLIENT_SWITCHES = (
    Switch("--active", "--inactive", "active", "whether the unit is fetched and reported"),
    Switch("--instagram-enabled", "--instagram-disabled", "instagram_enabled",
           "fetch Instagram (default: on once a handle is set)"),
    Switch("--tiktok-enabled", "--tiktok-disabled", "tiktok_enabled",
           "fetch TikTok (default: on once a handle is set)"),
    Switch("--reminders-enabled", "--reminders-disabled", "reminders_enabled",
           "personal WhatsApp reminders for the unit's opted-in personnel (default: on)"),
)
PERSONNEL_OPTIONS = (
    Option("--name", "name", _name, "the person's name"),
    Option("--client-id", "client_id", client_id_value, "the home client", "CLIENT_ID"),
    Option("--title", "title", lambda _, v: text_value(v), "rank, e.g. AKP, BRIPDA", "RANK"),
    Option("--divisi", "divisi", lambda _, v: text_value(v), "division (satfung), e.g. 'SAT LANTAS'"),
    Option("--jabatan", "jabatan", lambda _, v: text_value(v), "position, e.g. 'KASAT LANTAS'"),
    Option("--roles", "roles", roles_value, "roles separated by , ; or spaces, e.g. 'operator,ditbinmas'",
           "ROLES"),
    Option("--instagram", "instagram", _handle("instagram"), "handle, @handle or profile link", "HANDLE"),
    Option("--tiktok", "tiktok", _handle("tiktok"), "handle, @handle or profile link", "HANDLE"),
    Option("--whatsapp", "whatsapp", lambda f, v: optional(f, normalize_phone, v), "WhatsApp number", "NUMBER"),
    Option("--email", "email", _nullable_email, "e-mail address", "ADDRESS"),
)
PERSONNEL_SWITCHES = (
    Switch("--active", "--inactive", "active", "whether the person is counted"),
    Switch("--exempt", "--no-exempt", "exempt", "exempt from likes/comments (counted complete, listed apart)"),
    Switch("--reminders", "--no-reminders", "wa_reminder_opt_in", "personal WhatsApp reminders"),
)


def _add_upsert_options(parser: argparse.ArgumentParser, options: Iterable[Option],
                        switches: Iterable[Switch]) -> None:
    for option in options:
        parser.add_argument(option.flag, dest=option.field, metavar=option.metavar, help=option.help)
    for switch in switches:
        group = parser.add_mutually_exclusive_group()
        group.add_argument(switch.on, dest=switch.field, action="store_const", const=True, help=switch.help)
        group.add_argument(switch.off, dest=switch.field, action="store_const", const=False)
    parser.set_defaults(**{s.field: None for s in switches})


def changes_from(args: argparse.Namespace, options: Iterable[Option],
                 switches: Iterable[Switch]) -> dict[str, Any]:
    """Only the options given, each validated; UsageError names the first bad one."""
    changes: dict[str, Any] = {}
    for option in options:
        raw = getattr(args, option.field)
        if raw is None:
            continue
        try:
            changes[option.field] = option.parse(option.flag, raw)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    for switch in switches:
        if getattr(args, switch.field) is not None:
            changes[switch.field] = getattr(args, switch.field)
    return changes


def _flags_for(problem: Problem, options: Iterable[Option]) -> str:
    flags = {o.field: o.flag for o in options}
    named = [flags[f] for f in problem.fields if f in flags]
    return f" (give {' and '.join(named)})" if named else ""


# -- shared steps ---------------------------------------------------------------------------------------


def _read(path: Path) -> str | None:
    """The file's text, or None after saying why it cannot be read (exit 2)."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
    except UnicodeDecodeError as exc:
        print(f"cannot read {path}: it is not UTF-8 (byte {exc.start}); export the sheet as CSV UTF-8",
              file=sys.stderr)
    return None


def _print_rows(path: Path, errors: list[RowError], warnings: list[RowError]) -> None:
    for warning in warnings:
        print(f"{path}: warning: {warning}", file=sys.stderr)
    for error in errors:
        print(f"{path}: {error}", file=sys.stderr)


def _rows_refused(path: Path, errors: list[RowError], warnings: list[RowError]) -> bool:
    """The personnel import's rule: a file with a bad row applies nothing."""
    _print_rows(path, errors, warnings)
    if errors:
        print(f"{len(errors)} bad row(s); nothing imported", file=sys.stderr)
    return bool(errors)


def _projector(service: Service) -> Projector:
    """The projector exactly as the running service builds it (same completion ratios), so a directory
    change projects the same attendance rows here as it would there."""
    return Projector.from_settings(service.settings)


async def _publish(service: Service, position: int, timeout: float) -> None:
    if position:
        await service.wait_published(position, timeout)


def _correlation(kind: str) -> str:
    return f"{kind}:{uuid.uuid4()}"


# -- handlers -------------------------------------------------------------------------------------------


def _import_clients(make_service: MakeService) -> Handler:
    async def handle(args: argparse.Namespace) -> int:
        text = _read(args.file)
        if text is None:
            return 2
        result = parse_clients_csv(text)
        _print_rows(args.file, result.errors, result.warnings)
        if result.clients:
            async with make_service().one_shot(publishing=True) as service:
                async with service.pool.acquire() as conn:
                    report = await apply_clients(conn, service.store, _projector(service), result.clients,
                                                 _correlation("import"))
                await _publish(service, report.last_position, args.timeout)
            print(report.summary())
        if not result.errors:
            return 0
        # a bad row is refused on its own (docs/domain.md §1): the units on good rows still get their updates
        imported = f"the other {len(result.clients)} row(s) imported" if result.clients else "nothing imported"
        print(f"{len(result.errors)} bad row(s) refused; {imported}", file=sys.stderr)
        return 1

    return handle


def _import_personnel(make_service: MakeService) -> Handler:
    async def handle(args: argparse.Namespace) -> int:
        text = _read(args.file)
        if text is None:
            return 2
        result = parse_personnel_csv(text)
        if _rows_refused(args.file, result.errors, result.warnings):
            return 1
        async with make_service().one_shot(publishing=True) as service:
            try:
                async with service.pool.acquire() as conn:
                    report = await apply_personnel(conn, service.store, _projector(service), result.personnel,
                                                   _correlation("import"), keep_opt_in=result.opt_in_unset)
            except DirectoryError as exc:
                _rows_refused(args.file, [RowError(result.lines[p.key], p.reason) for p in exc.problems], [])
                return 1
            await _publish(service, report.last_position, args.timeout)
        print(report.summary())
        return 0

    return handle


def _outcome(kind: str, key: str, report: ApplyReport) -> str:
    if report.registered:
        return f"{kind} {key} registered"
    if report.updated:
        return f"{kind} {key} updated"
    return f"{kind} {key} unchanged: it already is as given"


def _upsert(make_service: MakeService, kind: str, key_arg: Callable[[str, str], str], options: tuple[Option, ...],
            switches: tuple[Switch, ...]) -> Handler:
    upsert = upsert_client if kind == "client" else upsert_personnel

    async def handle(args: argparse.Namespace) -> int:
        try:
            key = key_arg(args.key_name, args.key)
            changes = changes_from(args, options, switches)
        except ValueError as exc:
            print(f"{kind} upsert: {exc}; nothing applied", file=sys.stderr)
            return 2
        async with make_service().one_shot(publishing=True) as service:
            try:
                async with service.pool.acquire() as conn:
                    report = await upsert(conn, service.store, _projector(service), key, changes,
                                          _correlation("upsert"))
            except DirectoryError as exc:
                invalid = isinstance(exc, InvalidChange)
                for problem in exc.problems:
                    hint = _flags_for(problem, options) if invalid else ""
                    print(f"{kind} upsert: {problem}{hint}; nothing applied", file=sys.stderr)
                return 2 if invalid else 1
            await _publish(service, report.last_position, args.timeout)
        print(_outcome(kind, key, report))
        return 0

    return handle


Deactivate = Callable[[Service, Projector, str, argparse.Namespace], Awaitable[Deactivation]]


def _deactivate(make_service: MakeService, kind: str, key_arg: Callable[[str, str], str],
                deactivate: Deactivate) -> Handler:
    async def handle(args: argparse.Namespace) -> int:
        try:
            key = key_arg(args.key_name, args.key)
        except ValueError as exc:
            print(f"{kind} deactivate: {exc}", file=sys.stderr)
            return 2
        async with make_service().one_shot(publishing=True) as service:
            try:
                result = await deactivate(service, _projector(service), key, args)
            except DirectoryError as exc:
                for problem in exc.problems:
                    print(f"{kind} deactivate: {problem}", file=sys.stderr)
                return 1
            await _publish(service, result.last_position, args.timeout)
        print(f"{kind} {key} deactivated" if result.deactivated
              else f"{kind} {key} is already inactive; nothing changed")
        return 0

    return handle


async def _deactivate_client(service: Service, projector: Projector, key: str,
                             args: argparse.Namespace) -> Deactivation:
    async with service.pool.acquire() as conn:
        return await deactivate_client(conn, service.store, projector, key, args.reason, _correlation("deactivate"))


async def _deactivate_person(service: Service, projector: Projector, key: str,
                             args: argparse.Namespace) -> Deactivation:
    async with service.pool.acquire() as conn:
        return await deactivate_personnel(conn, service.store, projector, key, _correlation("deactivate"))


# -- wiring ---------------------------------------------------------------------------------------------


def _with_timeout(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the publish")
    return parser


def _file_command(sub: Subparsers, name: str, help_: str, handler: Handler) -> None:
    cmd = _with_timeout(sub.add_parser(name, help=help_, description=help_ + "; columns: examples/README.md"))
    cmd.add_argument("file", type=Path)
    cmd.set_defaults(handler=handler)


def _key_command(sub: Subparsers, name: str, help_: str, key_name: str, handler: Handler) -> argparse.ArgumentParser:
    cmd = _with_timeout(sub.add_parser(name, help=help_, description=help_))
    cmd.add_argument("key", metavar=key_name)
    cmd.set_defaults(handler=handler, key_name=key_name)
    return cmd


def add_directory_commands(sub: Subparsers, make_service: MakeService) -> None:
    """``client …`` and ``personnel …`` with their actions, and the ``import-clients`` / ``import-personnel``
    aliases that scripts (devstack, the end-to-end test) call."""
    clients = _import_clients(make_service)
    personnel = _import_personnel(make_service)

    client = sub.add_parser("client", help="import, upsert or deactivate clients (units)")
    client_sub = client.add_subparsers(dest="action", required=True, metavar="ACTION")
    _file_command(client_sub, "import", "import or update clients from a CSV file", clients)
    upsert = _key_command(client_sub, "upsert", "register a client or change the fields given", "CLIENT_ID",
                          _upsert(make_service, "client", client_id_value, CLIENT_OPTIONS, CLIENT_SWITCHES))
    _add_upsert_options(upsert, CLIENT_OPTIONS, CLIENT_SWITCHES)
    deactivate = _key_command(client_sub, "deactivate", "deactivate a client", "CLIENT_ID",
                              _deactivate(make_service, "client", client_id_value, _deactivate_client))
    deactivate.add_argument("--reason", help="why, kept in the ClientDeactivated event")

    person = sub.add_parser("personnel", help="import, upsert or deactivate personnel")
    person_sub = person.add_subparsers(dest="action", required=True, metavar="ACTION")
    _file_command(person_sub, "import", "import or update personnel from a CSV file", personnel)
    upsert = _key_command(person_sub, "upsert", "register a person or change the fields given", "USER_ID",
                          _upsert(make_service, "personnel", user_id_value, PERSONNEL_OPTIONS, PERSONNEL_SWITCHES))
    _add_upsert_options(upsert, PERSONNEL_OPTIONS, PERSONNEL_SWITCHES)
    _key_command(person_sub, "deactivate", "deactivate a person", "USER_ID",
                 _deactivate(make_service, "personnel", user_id_value, _deactivate_person))

    _file_command(sub, "import-clients", "import or update clients from a CSV file (= client import)", clients)
    _file_command(sub, "import-personnel", "import or update personnel from a CSV file (= personnel import)",
                  personnel)

