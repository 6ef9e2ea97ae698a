"""Parse and validate a personnel CSV (as a Google Sheet exports it). Pure: no I/O beyond the text given.

Every row is checked and every bad row reported with its line number and a reason naming the column; the
caller applies nothing unless the whole file is valid. Whether each ``client_id`` exists is the
directory's question (``directory_store.apply_personnel``), so ``lines`` keeps each person's line for
that report. The columns are documented in ``examples/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cicero_contracts.events.directory import PersonnelSnapshot
from cicero_runtime.identifiers import normalize_phone

from cicero_attendance.client_import import instagram_value, tiktok_value
from cicero_attendance.csv_rows import (
    Row,
    RowError,
    client_id_value,
    email_value,
    optional,
    parse_bool,
    read_rows,
    roles_value,
    text_value,
    user_id_value,
)

REQUIRED_COLUMNS = ("user_id", "name", "client_id")
HANDLE_COLUMNS = ("instagram", "tiktok")


@dataclass(frozen=True)
class PersonnelImportResult:
    personnel: list[PersonnelSnapshot]
    errors: list[RowError]
    warnings: list[RowError]
    lines: dict[str, int] = field(default_factory=dict)
    """user_id → the line of its row, so later checks (an unknown client) can name the line too."""
    opt_in_unset: frozenset[str] = frozenset()
    """People whose ``wa_reminder_opt_in`` cell is blank: their own ``notifwa#on/off`` choice stays (a sheet
    re-imported must not undo what a person asked for); a new person starts opted out."""


def row_to_personnel(row: Row) -> PersonnelSnapshot:
    """One row → a snapshot; raises ValueError naming the first bad column."""
    for column in REQUIRED_COLUMNS:
        if not row.get(column):
            raise ValueError(f"{column} is required")
    whatsapp = optional("whatsapp", normalize_phone, row.get("whatsapp"))
    opt_in = parse_bool(row.get("wa_reminder_opt_in"), "wa_reminder_opt_in", False)
    person = PersonnelSnapshot(
        user_id=user_id_value("user_id", row.get("user_id")),
        name=text_value(row.get("name")) or "",
        title=text_value(row.get("title")),
        divisi=text_value(row.get("divisi")),
        jabatan=text_value(row.get("jabatan")),
        client_id=client_id_value("client_id", row.get("client_id")),
        roles=roles_value("roles", row.get("roles")),
        instagram=optional("instagram", instagram_value, row.get("instagram")),
        tiktok=optional("tiktok", tiktok_value, row.get("tiktok")),
        whatsapp=whatsapp,
        email=email_value("email", row.get("email")) if row.get("email") else None,
        active=parse_bool(row.get("active"), "active", True),
        exempt=parse_bool(row.get("exempt"), "exempt", False),
        wa_reminder_opt_in=opt_in,
    )
    if opt_in and whatsapp is None:
        row.warn("wa_reminder_opt_in: yes but no whatsapp number, so no reminder can be sent")
    return person


def parse_personnel_csv(text: str) -> PersonnelImportResult:
    """Validate every row. A repeated user_id, or one Instagram/TikTok handle on two rows (engagement could
    not tell the two people apart), is an error on the later row naming the earlier one."""
    seen_ids: dict[str, int] = {}
    seen_handles: dict[tuple[str, str], tuple[int, str]] = {}
    opt_in_unset: set[str] = set()

    def convert(row: Row) -> PersonnelSnapshot:
        person = row_to_personnel(row)
        if person.user_id in seen_ids:
            raise ValueError(f"user_id {person.user_id} repeats line {seen_ids[person.user_id]}")
        handles = [(c, h) for c in HANDLE_COLUMNS if (h := getattr(person, c)) is not None]
        clashes = [f"{c} {h!r} is also on line {seen_handles[(c, h)][0]} (user_id {seen_handles[(c, h)][1]})"
                   for c, h in handles if (c, h) in seen_handles]
        if clashes:
            raise ValueError("; ".join(clashes))
        seen_ids[person.user_id] = row.line
        if not row.get("wa_reminder_opt_in"):
            opt_in_unset.add(person.user_id)
        for key in handles:
            seen_handles[key] = (row.line, person.user_id)
        return person

    rows = read_rows(text, REQUIRED_COLUMNS, convert)
    return PersonnelImportResult([person for _, person in rows.items], rows.errors, rows.warnings,
                                 {person.user_id: line for line, person in rows.items},
                                 frozenset(opt_in_unset))  # only rows that converted were added
