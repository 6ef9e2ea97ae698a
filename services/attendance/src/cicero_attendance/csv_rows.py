"""What the clients and personnel imports share: reading a sheet's CSV row by row with physical line numbers,
and the cell helpers for values as people type them (yes/no flags, lists, handles, phone numbers).

The directory commands (``client upsert`` …) use the same cell helpers, so a value accepted in a file is
accepted on the command line and means the same thing. Pure: no I/O beyond the text given.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from cicero_contracts.events.directory import CLIENT_ID_PATTERN, USER_ID_PATTERN
from cicero_runtime.identifiers import InvalidIdentifier, normalize_group_id, normalize_phone
from pydantic import ValidationError

T = TypeVar("T")

TRUE = frozenset({"1", "true", "yes", "ya", "y", "aktif", "active", "on"})
FALSE = frozenset({"0", "false", "no", "tidak", "n", "nonaktif", "inactive", "off"})
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


@dataclass(frozen=True)
class RowError:
    """A problem with one row (or the header, line 1); ``line`` is where the row starts in the file."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class Row:
    """One data row keyed by the (trimmed, lower-cased) header; ``warn`` records a non-fatal problem."""

    line: int
    cells: Mapping[str, str]
    warnings: list[RowError] = field(repr=False)

    def get(self, column: str) -> str:
        """The trimmed cell, or ``""`` when the column is absent or the row is short."""
        return (self.cells.get(column) or "").strip()

    def warn(self, reason: str) -> None:
        self.warnings.append(RowError(self.line, reason))


@dataclass(frozen=True)
class ParsedRows(Generic[T]):
    """The rows that converted (with their lines), and every error and warning in line order."""

    items: list[tuple[int, T]]
    errors: list[RowError]
    warnings: list[RowError]


def error_reason(exc: ValueError) -> str:
    """A pydantic error names its field(s); anything else already says what was wrong."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return str(exc)


def read_rows(text: str, required: Sequence[str], convert: Callable[[Row], T]) -> ParsedRows[T]:
    """Convert every data row; a ``ValueError`` from ``convert`` becomes that row's error, not the file's.

    Errors and warnings carry the physical line where the row starts: a quoted cell may span lines, so the
    line is taken before the record is read, not after it. Blank rows are skipped; a row with more
    non-blank cells than the header has columns is an error (a stray comma would shift every column).
    ``convert`` is called in file order, so it may keep state (e.g. the ids seen so far) to report repeats.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    headers = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in required if c not in headers]
    if missing:
        return ParsedRows([], [RowError(1, f"missing column(s): {', '.join(missing)}")], [])
    parsed = ParsedRows[T]([], [], [])
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            parsed.errors.append(RowError(line, f"unreadable CSV: {exc}"))
            break
        if not any(cell.strip() for cell in cells):
            continue
        if any(cell.strip() for cell in cells[len(headers):]):
            parsed.errors.append(RowError(line, f"{len(cells)} cells but the header has {len(headers)} columns"))
            continue
        row = Row(line, dict(zip(headers, cells, strict=False)), parsed.warnings)
        try:
            parsed.items.append((line, convert(row)))
        except ValueError as exc:  # includes InvalidIdentifier and pydantic's ValidationError
            parsed.errors.append(RowError(line, error_reason(exc)))
    return parsed


# -- cell helpers ----------------------------------------------------------------------------------------


def parse_bool(value: str, column: str, default: bool) -> bool:
    """Yes/no in the spellings a sheet holds (Indonesian and English); blank means ``default``."""
    text = value.strip().lower()
    if not text:
        return default
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"{column}: {value!r} is not yes/no")


def split_list(value: str) -> list[str]:
    """Items separated by ``;``, ``,`` or whitespace (roles, group ids)."""
    return [part for part in re.split(r"[;,\s]+", value.strip()) if part]


def optional(column: str, normalize: Callable[[str], str], value: str) -> str | None:
    """Normalise one optional cell (blank → None); a bad value names its column in the reason."""
    if not value.strip():
        return None
    try:
        return normalize(value)
    except InvalidIdentifier as exc:
        raise ValueError(f"{column}: {exc}") from exc


def text_value(value: str) -> str | None:
    """Free text (name, rank, division): trimmed, inner runs of whitespace collapsed, blank → None.

    ``SAT  LANTAS`` and ``SAT LANTAS`` typed in two rows must be one division in the reports.
    """
    return " ".join(value.split()) or None


def phone_numbers(column: str, value: str) -> list[str]:
    """Numbers are separated by ``;``, ``,``, ``/`` or new lines: spaces and dashes are part of how people
    write one number (``+62 812 3456 7890``), so they do not separate numbers. Repeats are dropped."""
    numbers: list[str] = []
    for raw in re.split(r"[;,/\n]+", value):
        number = optional(column, normalize_phone, raw)
        if number is not None and number not in numbers:
            numbers.append(number)
    return numbers


def group_ids(column: str, value: str) -> list[str]:
    """WhatsApp group ids, normalised and deduplicated. An entry that is no group (a personal chat, a bad link)
    is an error naming the cell, so the row is refused and the rest of the file still goes in
    (docs/domain.md §1): a group list silently missing an entry would leave that group without its tasks."""
    groups: list[str] = []
    for raw in split_list(value):
        try:
            group = normalize_group_id(raw)
        except InvalidIdentifier as exc:
            raise ValueError(f"{column}: {exc}") from exc
        if group not in groups:
            groups.append(group)
    return groups


def client_id_value(column: str, value: str) -> str:
    """A client id as typed (``polres_a``) → ``POLRES_A``; anything but letters, digits and ``_`` is refused."""
    client_id = value.strip().upper()
    if not re.fullmatch(CLIENT_ID_PATTERN, client_id):
        raise ValueError(f"{column}: {value.strip()!r} is not a client id (2-64 letters, digits or _)")
    return client_id


def user_id_value(column: str, value: str) -> str:
    """An NRP/NIP: digits only. NIPs are often written in groups (``19850101 201001 1 001``), so spaces are
    removed; anything else (a dot, a sheet's ``8.5E+07``) is refused rather than guessed at."""
    user_id = re.sub(r"\s+", "", value)
    if not re.fullmatch(USER_ID_PATTERN, user_id):
        raise ValueError(f"{column}: {value.strip()!r} is not an NRP/NIP (digits only, at most 32)")
    return user_id


def email_value(column: str, value: str) -> str:
    """A plausible address (``name@domain.tld``, no spaces), lower-cased so one address is one person."""
    email = value.strip().lower()
    if not EMAIL.fullmatch(email):
        raise ValueError(f"{column}: {value.strip()!r} is not an e-mail address")
    return email


def roles_value(column: str, value: str) -> list[str]:
    """Roles separated by ``,``, ``;`` or spaces, lower-cased, each ``[a-z0-9_]+``; repeats dropped."""
    roles: list[str] = []
    for raw in split_list(value):
        role = raw.lower()
        if not re.fullmatch(r"[a-z0-9_]+", role):
            raise ValueError(f"{column}: {raw!r} is not a role (letters, digits and _ only)")
        if role not in roles:
            roles.append(role)
    return roles
