"""Apply directory changes: decide per record, append one event per real change, project it.

Every function works in one transaction: it takes the projector's lock first (the same order as the
consumer, so the two never deadlock, and no projection write slips in between the read and the
decision), reads the current rows, appends the events to this service's store and hands exactly those
events to the projector, which journals them and writes the ``clients`` / ``personnel`` tables. The
tables are therefore never written here: they stay a pure function of the journal, and a rebuild gives
the same rows. An identical snapshot appends nothing, so a re-import of the same file is a no-op.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
from cicero_contracts import Event
from cicero_contracts.events.directory import (
    ClientDeactivated,
    ClientRegistered,
    ClientSnapshot,
    ClientUpdated,
    PersonnelDeactivated,
    PersonnelRegistered,
    PersonnelSnapshot,
    PersonnelUpdated,
)
from cicero_runtime.event_store import EventStore, Metadata, RecordedEvent
from cicero_runtime.tracing import inject_headers
from pydantic import ValidationError

from cicero_attendance.csv_rows import error_reason
from cicero_attendance.folding import CLIENT_FIELDS, PERSONNEL_FIELDS
from cicero_attendance.projector import Projector

HANDLE_FIELDS = ("instagram", "tiktok")

S = TypeVar("S", ClientSnapshot, PersonnelSnapshot)


@dataclass(frozen=True)
class Problem:
    """Why one record of a change is refused; ``key`` is its client_id or user_id."""

    key: str
    reason: str
    fields: tuple[str, ...] = ()
    """The snapshot fields the problem is about, so a command can name its own options for them."""

    def __str__(self) -> str:
        return f"{self.key}: {self.reason}"


class DirectoryError(Exception):
    """The directory refuses the change as a whole because of its current state (an unknown client, a
    handle another person holds, an unknown id to deactivate); nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class InvalidChange(DirectoryError):
    """The change itself is incomplete or invalid (a new record without its name); nothing was written."""


@dataclass
class ApplyReport:
    """What an import or upsert did, per key, so the command can say it in one line."""

    registered: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    recorded: list[RecordedEvent] = field(default_factory=list)
    last_position: int = 0
    """The last event position of the transaction, including the AttendanceStatusChanged events the
    projection appended after ``recorded``: a command waits for this one to be published."""

    def summary(self) -> str:
        return f"{len(self.registered)} registered, {len(self.updated)} updated, {len(self.unchanged)} unchanged"


@dataclass(frozen=True)
class Deactivation:
    """Whether a deactivation changed anything: repeating one is harmless and says so."""

    key: str
    deactivated: bool
    """False when the record was already inactive: nothing was appended."""
    recorded: list[RecordedEvent]
    last_position: int = 0
    """As in ApplyReport: the position to wait for, 0 when nothing was appended."""


async def _last_position(conn: asyncpg.Connection) -> int:
    """Inside a transaction that appended: the store's table lock is still held, so the highest position is
    this transaction's last event."""
    position: int = await conn.fetchval("SELECT coalesce(max(global_position), 0) FROM events")
    return position


def _metadata(correlation_id: str) -> Metadata:
    return Metadata(correlation_id=correlation_id, traceparent=inject_headers().get("traceparent"))


async def _read_clients(conn: asyncpg.Connection, ids: Sequence[str]) -> dict[str, ClientSnapshot]:
    rows = await conn.fetch(f"SELECT {', '.join(CLIENT_FIELDS)} FROM clients WHERE client_id = ANY($1::text[])",
                            list(ids))
    return {r["client_id"]: ClientSnapshot.model_validate(dict(r)) for r in rows}


async def _read_personnel(conn: asyncpg.Connection, ids: Sequence[str]) -> dict[str, PersonnelSnapshot]:
    rows = await conn.fetch(f"SELECT {', '.join(PERSONNEL_FIELDS)} FROM personnel WHERE user_id = ANY($1::text[])",
                            list(ids))
    return {r["user_id"]: PersonnelSnapshot.model_validate(dict(r)) for r in rows}


async def _record(
    conn: asyncpg.Connection, store: EventStore, projector: Projector, snapshots: Sequence[S],
    current: Mapping[str, S], key: Callable[[S], str], stream: str,
    registered: Callable[..., Event], updated: Callable[..., Event], metadata: Metadata,
) -> ApplyReport:
    """Registered for a new key, Updated for a changed snapshot, nothing for an identical one; then project
    the appended events. The caller holds the projector's lock inside its transaction."""
    report = ApplyReport()
    for snapshot in snapshots:
        id_ = key(snapshot)
        old = current.get(id_)
        wanted = snapshot.model_dump(mode="json")
        if old is None:
            event = registered(**wanted)
            report.registered.append(id_)
        elif old.model_dump(mode="json") != wanted:
            event = updated(**wanted)
            report.updated.append(id_)
        else:
            report.unchanged.append(id_)
            continue
        report.recorded += await store.append(conn, f"{stream}:{id_}", [event], metadata=metadata)
    if report.recorded:
        await projector.apply_recorded(conn, store, report.recorded)
        report.last_position = await _last_position(conn)
    return report


# -- clients ------------------------------------------------------------------------------------------


async def apply_clients(
    conn: asyncpg.Connection, store: EventStore, projector: Projector, clients: Sequence[ClientSnapshot],
    correlation_id: str,
) -> ApplyReport:
    """Register new clients, update changed ones, leave identical ones alone (a re-import is a no-op)."""
    async with conn.transaction():
        await projector.lock(conn)
        current = await _read_clients(conn, [c.client_id for c in clients])
        return await _record(conn, store, projector, clients, current, lambda c: c.client_id, "client",
                             ClientRegistered, ClientUpdated, _metadata(correlation_id))


def merge_client(current: ClientSnapshot | None, client_id: str, changes: Mapping[str, Any]) -> ClientSnapshot:
    """The snapshot an upsert asks for: ``changes`` (only the fields given) over the current one.

    A new client needs its name and type. A handle given without its enabled flag turns the platform on
    when the client had no handle and off when the handle is cleared; replacing one handle with another
    keeps the flag as it was, so a deliberately disabled platform stays disabled.
    """
    if current is None:
        missing = [f for f in ("name", "client_type") if changes.get(f) is None]
        if missing:
            raise InvalidChange([Problem(client_id, f"a new client needs {' and '.join(missing)}", tuple(missing))])
    merged: dict[str, Any] = {**(current.model_dump() if current else {}), **changes, "client_id": client_id}
    for platform in ("instagram", "tiktok"):
        handle, enabled = f"{platform}_username", f"{platform}_enabled"
        if handle in changes and enabled not in changes:
            before = current.model_dump()[handle] if current else None
            if before is None or changes[handle] is None:
                merged[enabled] = changes[handle] is not None
    try:
        return ClientSnapshot.model_validate(merged)
    except ValidationError as exc:
        raise InvalidChange([Problem(client_id, error_reason(exc))]) from exc


async def upsert_client(
    conn: asyncpg.Connection, store: EventStore, projector: Projector, client_id: str,
    changes: Mapping[str, Any], correlation_id: str,
) -> ApplyReport:
    """One client's fields set by hand; the fields not in ``changes`` keep their current values."""
    async with conn.transaction():
        await projector.lock(conn)
        current = await _read_clients(conn, [client_id])
        snapshot = merge_client(current.get(client_id), client_id, changes)
        return await _record(conn, store, projector, [snapshot], current, lambda c: c.client_id, "client",
                             ClientRegistered, ClientUpdated, _metadata(correlation_id))


async def deactivate_client(
    conn: asyncpg.Connection, store: EventStore, projector: Projector, client_id: str, reason: str | None,
    correlation_id: str,
) -> Deactivation:
    """ClientDeactivated for an active client; an inactive one is left alone, an unknown one refused."""
    async with conn.transaction():
        await projector.lock(conn)
        active = await conn.fetchval("SELECT active FROM clients WHERE client_id = $1", client_id)
        if active is None:
            raise DirectoryError([Problem(client_id, "no such client")])
        if not active:
            return Deactivation(client_id, False, [])
        recorded = await store.append(conn, f"client:{client_id}",
                                      [ClientDeactivated(client_id=client_id, reason=reason)],
                                      metadata=_metadata(correlation_id))
        await projector.apply_recorded(conn, store, recorded)
        return Deactivation(client_id, True, recorded, await _last_position(conn))


# -- personnel ----------------------------------------------------------------------------------------


async def _check_personnel(conn: asyncpg.Connection, personnel: Sequence[PersonnelSnapshot]) -> list[Problem]:
    """What the file cannot know: each home client must exist, and no handle of an active person may
    already belong to another active person outside this change (engagement could not tell them apart)."""
    wanted = sorted({p.client_id for p in personnel})
    known = {r["client_id"] for r in await conn.fetch(
        "SELECT client_id FROM clients WHERE client_id = ANY($1::text[])", wanted)}
    problems = [Problem(p.user_id, f"client_id {p.client_id} is not a known client", ("client_id",))
                for p in personnel if p.client_id not in known]
    ids = [p.user_id for p in personnel]
    for column in HANDLE_FIELDS:
        handles = {getattr(p, column): p.user_id for p in personnel if p.active and getattr(p, column)}
        if not handles:
            continue
        for r in await conn.fetch(
            f"""SELECT user_id, name, {column} AS handle FROM personnel
                WHERE active AND {column} = ANY($1::text[]) AND NOT user_id = ANY($2::text[])
                ORDER BY user_id""",
            list(handles), ids,
        ):
            problems.append(Problem(handles[r["handle"]], f"{column} {r['handle']!r} already belongs to "
                                    f"user_id {r['user_id']} ({r['name']})", (column,)))
    order = {user_id: index for index, user_id in enumerate(ids)}
    return sorted(problems, key=lambda p: order[p.key])


async def _record_personnel(
    conn: asyncpg.Connection, store: EventStore, projector: Projector, personnel: Sequence[PersonnelSnapshot],
    current: Mapping[str, PersonnelSnapshot], correlation_id: str,
) -> ApplyReport:
    problems = await _check_personnel(conn, personnel)
    if problems:
        raise DirectoryError(problems)
    return await _record(conn, store, projector, personnel, current, lambda p: p.user_id, "personnel",
                         PersonnelRegistered, PersonnelUpdated, _metadata(correlation_id))


async def apply_personnel(
    conn: asyncpg.Connection, store: EventStore, projector: Projector, personnel: Sequence[PersonnelSnapshot],
    correlation_id: str, keep_opt_in: Collection[str] = (),
) -> ApplyReport:
    """Register, update or leave alone each person; if any of them is refused (DirectoryError, every
    problem listed) none of them is applied. People in ``keep_opt_in`` keep their current reminder opt-in
    (the person's own ``notifwa`` choice) whatever the snapshot says."""
    async with conn.transaction():
        await projector.lock(conn)
        current = await _read_personnel(conn, [p.user_id for p in personnel])
        personnel = [p.model_copy(update={"wa_reminder_opt_in": current[p.user_id].wa_reminder_opt_in})
                     if p.user_id in keep_opt_in and p.user_id in current else p for p in personnel]
        return await _record_personnel(conn, store, projector, personnel, current, correlation_id)


def merge_personnel(
    current: PersonnelSnapshot | None, user_id: str, changes: Mapping[str, Any],
) -> PersonnelSnapshot:
    """The snapshot an upsert asks for: ``changes`` over the current one; a new person needs a name and
    a home client."""
    if current is None:
        missing = [f for f in ("name", "client_id") if changes.get(f) is None]
        if missing:
            raise InvalidChange([Problem(user_id, f"a new person needs {' and '.join(missing)}", tuple(missing))])
    merged: dict[str, Any] = {**(current.model_dump() if current else {}), **changes, "user_id": user_id}
    try:
        return PersonnelSnapshot.model_validate(merged)
    except ValidationError as exc:
        raise InvalidChange([Problem(user_id, error_reason(exc))]) from exc


async def upsert_personnel(
    conn: asyncpg.Connection, store: EventStore, projector: Projector, user_id: str,
    changes: Mapping[str, Any], correlation_id: str,
) -> ApplyReport:
    """One person's fields set by hand; the fields not in ``changes`` keep their current values."""
    async with conn.transaction():
        await projector.lock(conn)
        current = await _read_personnel(conn, [user_id])
        snapshot = merge_personnel(current.get(user_id), user_id, changes)
        return await _record_personnel(conn, store, projector, [snapshot], current, correlation_id)


async def deactivate_personnel(
    conn: asyncpg.Connection, store: EventStore, projector: Projector, user_id: str, correlation_id: str,
) -> Deactivation:
    """PersonnelDeactivated for an active person; an inactive one is left alone, an unknown one refused."""
    async with conn.transaction():
        await projector.lock(conn)
        row = await conn.fetchrow("SELECT client_id, active FROM personnel WHERE user_id = $1", user_id)
        if row is None:
            raise DirectoryError([Problem(user_id, "no such person")])
        if not row["active"]:
            return Deactivation(user_id, False, [])
        recorded = await store.append(conn, f"personnel:{user_id}",
                                      [PersonnelDeactivated(user_id=user_id, client_id=row["client_id"])],
                                      metadata=_metadata(correlation_id))
        await projector.apply_recorded(conn, store, recorded)
        return Deactivation(user_id, True, recorded, await _last_position(conn))

