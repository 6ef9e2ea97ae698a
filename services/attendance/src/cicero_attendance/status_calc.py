"""Who is in a scope and what each member's attendance row should be. Pure: no I/O.

A scope is one client's task posts of one WIB day on one platform. Its members are the active personnel
of that client and, for a directorate, every active person holding the directorate's role. The stored
rows are a function of the directory, the posts and the engagements alone, so any order of applying
events (live micro-batches, a rebuild's chunks) ends in the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date

from cicero_contracts.events.attendance import AttendanceStatus

from cicero_attendance.rules import status_for

GroupKey = tuple[str, date, str]
"""(scope client_id, WIB day, platform): the unit the projection recomputes."""
RowKey = tuple[str, date, str, str]
"""(scope client_id, WIB day, platform, user_id): the attendance table's key."""


@dataclass(frozen=True)
class Ratios:
    """Completion ratios (DOMAIN §4): ORG reports count every post, directorate summaries half."""

    org: float = 1.0
    directorate: float = 0.5

    def for_scope(self, is_directorate: bool) -> float:
        return self.directorate if is_directorate else self.org


@dataclass(frozen=True)
class Person:
    """The directory fields attendance depends on."""

    user_id: str
    client_id: str
    roles: tuple[str, ...]
    instagram: str | None
    tiktok: str | None
    active: bool
    exempt: bool

    def handle(self, platform: str) -> str | None:
        return self.instagram if platform == "instagram" else self.tiktok


@dataclass(frozen=True)
class Row:
    status: AttendanceStatus
    done: int
    total: int


@dataclass(frozen=True)
class Change:
    """A row whose status or progress changed, or whose pending posts did (``new`` is None when the row
    went away). The notifier reminds from these, so every change of a person's pending posts is one."""

    key: RowKey
    old: Row | None
    new: Row | None
    pending_post_ids: tuple[str, ...]


def directorate_role(client_id: str) -> str:
    """The role that puts a person in a directorate's scope: its id in lower case (DITBINMAS → ditbinmas)."""
    return client_id.lower()


def is_member(person: Person, scope: str, scope_is_directorate: bool) -> bool:
    if not person.active:
        return False
    return person.client_id == scope or (scope_is_directorate and directorate_role(scope) in person.roles)


def desired_row(has_handle: bool, exempt: bool, tasks: list[str], engaged: set[str], ratio: float) -> Row:
    """The row of one member: ``tasks`` are the scope's task post ids, ``engaged`` those the handle engaged."""
    done = sum(1 for post_id in tasks if post_id in engaged) if has_handle else 0
    status = status_for(has_username=has_handle, exempt=exempt, done=done, total=len(tasks), ratio=ratio)
    return Row(status, done, len(tasks))


def diff_rows(
    existing: Mapping[RowKey, Row], desired: Mapping[RowKey, Row], considered: Iterable[RowKey],
    pending: Mapping[RowKey, tuple[str, ...]], retasked: AbstractSet[GroupKey] = frozenset(),
) -> tuple[dict[RowKey, Row], list[RowKey], list[Change]]:
    """Upserts, deletions and changes among the ``considered`` keys.

    Every row that differs is a change, also within one status (partial 1/3 → 2/3): the pending posts
    moved. In a ``retasked`` group (its set of task posts changed) a row can keep its counts while its
    pending posts differ (one post went, another came), so a row with posts pending there is a change too.
    """
    upserts: dict[RowKey, Row] = {}
    deletes: list[RowKey] = []
    changes: list[Change] = []
    for key in considered:
        old, new = existing.get(key), desired.get(key)
        if old == new:
            if new is not None and pending.get(key) and key[:3] in retasked:
                changes.append(Change(key, old, new, pending[key]))
            continue
        if new is None:
            deletes.append(key)
        else:
            upserts[key] = new
        changes.append(Change(key, old, new, pending.get(key, ())))
    return upserts, deletes, changes
