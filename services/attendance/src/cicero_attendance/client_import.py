"""Parse and validate a clients CSV (as a Google Sheet exports it). Pure: no I/O beyond the text given.

Every row is checked and every bad row reported with its line number and reason; the caller applies
nothing unless the whole file is valid.
"""

from __future__ import annotations

import csv
import io
import re
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


def _row_to_client(row: dict[str, str], line: int, warnings: list[RowError]) -> ClientSnapshot:
    def get(key: str) -> str:
        return (row.get(key) or "").strip()

    for column in REQUIRED_COLUMNS:
        if not get(column):
            raise ValueError(f"{column} is required")
    client_type = get("client_type").upper()
    if client_type not in ClientType.__members__:
        raise ValueError(f"client_type {get('client_type')!r} must be ORG or DIREKTORAT")
    instagram = normalize_handle("instagram", get("instagram")) if get("instagram") else None
    tiktok = normalize_handle("tiktok", get("tiktok")) if get("tiktok") else None
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
        operator_numbers=[normalize_phone(n) for n in _split(get("operator_numbers"))],
        super_admin_numbers=[normalize_phone(n) for n in _split(get("super_admin_numbers"))],
        parent_client_id=get("parent_client_id").upper() or None,
        region=get("region") or None,
    )


def _reason(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return str(exc)


def parse_clients_csv(text: str) -> ImportResult:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in headers]
    if missing:
        return ImportResult([], [RowError(1, f"missing column(s): {', '.join(missing)}")], [])
    reader.fieldnames = headers
    clients: list[ClientSnapshot] = []
    errors: list[RowError] = []
    warnings: list[RowError] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
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
