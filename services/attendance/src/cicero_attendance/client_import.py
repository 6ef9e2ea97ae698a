"""Parse and validate a clients CSV (as a Google Sheet exports it). Pure: no I/O beyond the text given.

Every row is checked and every bad row reported with its line number and reason; a bad row is refused on
its own and the good rows still apply (docs/domain.md §1: a bad cell never refuses the whole file). The
columns are documented in ``examples/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from cicero_contracts.events.directory import ClientSnapshot, ClientType
from cicero_runtime.identifiers import normalize_handle

from cicero_attendance.csv_rows import (
    Row,
    RowError,
    client_id_value,
    group_ids,
    optional,
    parse_bool,
    phone_numbers,
    read_rows,
)

REQUIRED_COLUMNS = ("client_id", "name", "client_type")


@dataclass(frozen=True)
class ImportResult:
    clients: list[ClientSnapshot]
    errors: list[RowError]
    warnings: list[RowError]


def client_type_value(column: str, value: str) -> ClientType:
    """``ORG`` or ``DIREKTORAT``, in any case."""
    text = value.strip().upper()
    if text not in ClientType.__members__:
        raise ValueError(f"{column} {value.strip()!r} must be ORG or DIREKTORAT")
    return ClientType(text)


def instagram_value(value: str) -> str:
    """One-argument normalisers for ``optional``: the personnel import and the commands share them."""
    return normalize_handle("instagram", value)


def tiktok_value(value: str) -> str:
    return normalize_handle("tiktok", value)


def _row_to_client(row: Row) -> ClientSnapshot:
    for column in REQUIRED_COLUMNS:
        if not row.get(column):
            raise ValueError(f"{column} is required")
    client_type = client_type_value("client_type", row.get("client_type"))
    instagram = optional("instagram", instagram_value, row.get("instagram"))
    tiktok = optional("tiktok", tiktok_value, row.get("tiktok"))
    parent = row.get("parent_client_id")
    return ClientSnapshot(
        client_id=client_id_value("client_id", row.get("client_id")),
        name=row.get("name"),
        client_type=client_type,
        active=parse_bool(row.get("active"), "active", True),
        instagram_username=instagram,
        instagram_enabled=parse_bool(row.get("instagram_enabled"), "instagram_enabled", instagram is not None),
        tiktok_username=tiktok,
        tiktok_sec_uid=row.get("tiktok_sec_uid") or None,
        tiktok_enabled=parse_bool(row.get("tiktok_enabled"), "tiktok_enabled", tiktok is not None),
        whatsapp_groups=group_ids("whatsapp_groups", row.get("whatsapp_groups")),
        operator_numbers=phone_numbers("operator_numbers", row.get("operator_numbers")),
        super_admin_numbers=phone_numbers("super_admin_numbers", row.get("super_admin_numbers")),
        parent_client_id=client_id_value("parent_client_id", parent) if parent else None,
        region=row.get("region") or None,
        reminders_enabled=parse_bool(row.get("reminders_enabled"), "reminders_enabled", True),
    )


def parse_clients_csv(text: str) -> ImportResult:
    """Validate every row; errors and warnings carry the physical line where the row starts."""
    seen: dict[str, int] = {}

    def convert(row: Row) -> ClientSnapshot:
        client = _row_to_client(row)
        if client.client_id in seen:
            raise ValueError(f"client_id {client.client_id} repeats line {seen[client.client_id]}")
        seen[client.client_id] = row.line
        return client

    rows = read_rows(text, REQUIRED_COLUMNS, convert)
    return ImportResult([client for _, client in rows.items], rows.errors, rows.warnings)
