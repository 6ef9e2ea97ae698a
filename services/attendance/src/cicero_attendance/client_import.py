"""Parse and validate a clients CSV (as a Google Sheet exports it). Pure: no I/O beyond the text given.

Every row is checked and every bad row reported with its line number and reason; the caller applies
nothing unless the whole file is valid.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass

from cicero_contracts.events.directory import ClientSnapshot, ClientType
from cicero_runtime.identifiers import (
    InvalidIdentifier,
    normalize_group_id,
    normalize_handle,
    normalize_phone,
)
from pydantic import ValidationError

REQUIRED_COLUMNS = ("client_id", "name", "client_type")
TRUE = {"1", "true", "yes", "ya", "y", "aktif", "active", "on"}
FALSE = {"0", "false", "no", "tidak", "n", "nonaktif", "inactive", "off", ""}


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class ImportResult:
    clients: list[ClientSnapshot]
    errors: list[RowError]
    warnings: list[RowError]


def _bool(value: str, column: str, default: bool) -> bool:
    text = value.strip().lower()
    if not text:
        return default
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"{column}: {value!r} is not yes/no")


def _split(value: str) -> list[str]:
    return [part for part in re.split(r"[;,\s]+", value.strip()) if part]


def _column(column: str, normalize: Callable[[str], str], value: str) -> str | None:
    """Normalise one optional cell; a bad value names its column in the reason."""
    if not value:
        return None
    try:
        return normalize(value)
    except InvalidIdentifier as exc:
        raise ValueError(f"{column}: {exc}") from exc


def _numbers(column: str, value: str) -> list[str]:
    """Numbers are separated by ``;``, ``,``, ``/`` or new lines: spaces and dashes are part of how people
    write one number (``+62 812 3456 7890``), so they do not separate numbers."""
    numbers: list[str] = []
    for raw in (part.strip() for part in re.split(r"[;,/\n]+", value)):
        number = _column(column, normalize_phone, raw)
        if number is None:
            continue
        if number not in numbers:
            numbers.append(number)
    return numbers


def _row_to_client(row: dict[str, str], line: int, warnings: list[RowError]) -> ClientSnapshot:
    def get(key: str) -> str:
        return (row.get(key) or "").strip()

    for column in REQUIRED_COLUMNS:
        if not get(column):
            raise ValueError(f"{column} is required")
    client_type = get("client_type").upper()
    if client_type not in ClientType.__members__:
        raise ValueError(f"client_type {get('client_type')!r} must be ORG or DIREKTORAT")
    instagram = _column("instagram", lambda v: normalize_handle("instagram", v), get("instagram"))
    tiktok = _column("tiktok", lambda v: normalize_handle("tiktok", v), get("tiktok"))
    groups: list[str] = []
    for raw in _split(get("whatsapp_groups")):
        try:
            group = normalize_group_id(raw)
        except InvalidIdentifier as exc:
            if raw.endswith(("@c.us", "@s.whatsapp.net")):
                warnings.append(RowError(line, f"whatsapp_groups: {exc}; skipped"))
                continue
            raise ValueError(f"whatsapp_groups: {exc}") from exc
        if group not in groups:
            groups.append(group)
    return ClientSnapshot(
        client_id=get("client_id").upper(),
        name=get("name"),
        client_type=ClientType(client_type),
        active=_bool(get("active"), "active", True),
        instagram_username=instagram,
        instagram_enabled=_bool(get("instagram_enabled"), "instagram_enabled", instagram is not None),
        tiktok_username=tiktok,
        tiktok_sec_uid=get("tiktok_sec_uid") or None,
        tiktok_enabled=_bool(get("tiktok_enabled"), "tiktok_enabled", tiktok is not None),
        whatsapp_groups=groups,
        operator_numbers=_numbers("operator_numbers", get("operator_numbers")),
        super_admin_numbers=_numbers("super_admin_numbers", get("super_admin_numbers")),
        parent_client_id=get("parent_client_id").upper() or None,
        region=get("region") or None,
    )


def _reason(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return str(exc)


def parse_clients_csv(text: str) -> ImportResult:
    """Validate every row; errors and warnings carry the physical line where the row starts.

    A quoted cell may span lines, so the line is taken before the record is read, not after it.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    raw_headers = next(reader, [])
    headers = [h.strip().lower() for h in raw_headers]
    missing = [c for c in REQUIRED_COLUMNS if c not in headers]
    if missing:
        return ImportResult([], [RowError(1, f"missing column(s): {', '.join(missing)}")], [])
    clients: list[ClientSnapshot] = []
    errors: list[RowError] = []
    warnings: list[RowError] = []
    seen: dict[str, int] = {}
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(line, f"unreadable CSV: {exc}"))
            break
        if not any(cell.strip() for cell in cells):
            continue
        extra = [cell for cell in cells[len(headers):] if cell.strip()]
        if extra:
            errors.append(RowError(line, f"{len(cells)} cells but the header has {len(headers)} columns"))
            continue
        row = dict(zip(headers, cells, strict=False))
        try:
            client = _row_to_client(row, line, warnings)
        except ValueError as exc:  # includes InvalidIdentifier and pydantic's ValidationError
            errors.append(RowError(line, _reason(exc)))
            continue
        if client.client_id in seen:
            errors.append(RowError(line, f"client_id {client.client_id} repeats line {seen[client.client_id]}"))
            continue
        seen[client.client_id] = line
        clients.append(client)
    return ImportResult(clients, errors, warnings)
