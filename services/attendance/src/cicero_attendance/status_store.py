"""Recompute the attendance rows of dirty scopes from the tables, set-based: a handful of queries per batch.

``Dirty`` maps a group (scope, day, platform) to the people to recompute there, or to ``ALL`` members.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Final

import asyncpg
from cicero_contracts.events.attendance import AttendanceStatus

from cicero_attendance.status_calc import Change, GroupKey, Ratios, Row, RowKey, desired_row, diff_rows

ALL: Final = None
"""Recompute every member of the group (its task posts changed)."""


class Dirty:
    """The groups a batch touched, and for each the event index that touched it last (its cause)."""

    def __init__(self) -> None:
        self.groups: dict[GroupKey, set[str] | None] = {}
        self.causes: dict[GroupKey, int] = {}
        self.retasked: set[GroupKey] = set()
        """Groups whose set of task posts changed: pending posts may differ where the counts do not."""

    def mark_all(self, group: GroupKey, cause: int) -> None:
        self.groups[group] = ALL
        self.causes[group] = max(cause, self.causes.get(group, -1))

    def mark(self, group: GroupKey, user_id: str, cause: int) -> None:
        users = self.groups.setdefault(group, set())
        if users is not None:
            users.add(user_id)
        self.causes[group] = max(cause, self.causes.get(group, -1))

    def __bool__(self) -> bool:
        return bool(self.groups)


def _columns(groups: Iterable[GroupKey]) -> tuple[list[str], list[date], list[str]]:
    keys = list(groups)
    return [g[0] for g in keys], [g[1] for g in keys], [g[2] for g in keys]


_MEMBER_ROWS = """
    SELECT m.scope, m.wib_date, m.platform, m.user_id, m.exempt, m.handle,
           array_agg(e.post_id) FILTER (WHERE e.post_id IS NOT NULL) AS engaged
    FROM m
    LEFT JOIN posts p ON m.handle IS NOT NULL AND p.client_id = m.scope AND p.wib_date = m.wib_date
                     AND p.platform = m.platform AND p.removed_at IS NULL
    LEFT JOIN engagements e ON e.platform = p.platform AND e.post_id = p.post_id AND e.username = m.handle
                           AND e.kind = CASE p.platform WHEN 'instagram' THEN 'likes' ELSE 'comments' END
    GROUP BY m.scope, m.wib_date, m.platform, m.user_id, m.exempt, m.handle"""
"""Each member with the task posts their handle engaged with, aggregated in the database: shipping every
engagement row to Python would cost more than the whole projection."""

_ALL_MEMBERS = """
    WITH g AS (SELECT g.*, coalesce(c.client_type = 'DIREKTORAT', false) AS directorate
               FROM unnest($1::text[], $2::date[], $3::text[]) AS g(scope, wib_date, platform)
               LEFT JOIN clients c ON c.client_id = g.scope),
    m AS (SELECT g.scope, g.wib_date, g.platform, pe.user_id, pe.exempt,
                 CASE g.platform WHEN 'instagram' THEN pe.instagram ELSE pe.tiktok END AS handle
          FROM g JOIN personnel pe ON pe.client_id = g.scope AND pe.active
          UNION
          SELECT g.scope, g.wib_date, g.platform, pe.user_id, pe.exempt,
                 CASE g.platform WHEN 'instagram' THEN pe.instagram ELSE pe.tiktok END
          FROM g JOIN personnel pe ON g.directorate AND pe.roles @> ARRAY[lower(g.scope)] AND pe.active)
""" + _MEMBER_ROWS
"""Every member of each group: the home client's active personnel, and a directorate's role holders."""

_NAMED_MEMBERS = """
    WITH g AS (SELECT g.*, coalesce(c.client_type = 'DIREKTORAT', false) AS directorate
               FROM unnest($1::text[], $2::date[], $3::text[], $4::text[]) AS g(scope, wib_date, platform, user_id)
               LEFT JOIN clients c ON c.client_id = g.scope),
    m AS (SELECT g.scope, g.wib_date, g.platform, pe.user_id, pe.exempt,
                 CASE g.platform WHEN 'instagram' THEN pe.instagram ELSE pe.tiktok END AS handle
          FROM g JOIN personnel pe ON pe.user_id = g.user_id
          WHERE pe.active AND (pe.client_id = g.scope OR (g.directorate AND lower(g.scope) = ANY(pe.roles))))
""" + _MEMBER_ROWS
"""The named people of each group, if they are (still) members."""


async def _member_rows(conn: asyncpg.Connection, groups: dict[GroupKey, set[str] | None]) -> list[asyncpg.Record]:
    whole = [g for g, users in groups.items() if users is ALL]
    some = [(g, u) for g, users in groups.items() if users is not ALL for u in sorted(users)]
    rows: list[asyncpg.Record] = []
    if whole:
        rows += await conn.fetch(_ALL_MEMBERS, *_columns(whole))
    if some:
        rows += await conn.fetch(_NAMED_MEMBERS, *_columns(g for g, _ in some), [u for _, u in some])
    return rows


async def recompute(conn: asyncpg.Connection, dirty: Dirty, ratios: Ratios) -> list[tuple[Change, GroupKey]]:
    """Bring the attendance rows of every dirty group in line with the tables; return the rows' changes.

    A deletion is reported as a change only when the scope lost its last task post (the person is still
    a member with nothing left to do), not when the person left the scope.
    """
    if not dirty:
        return []
    groups = dirty.groups
    scopes, days, platforms = _columns(groups)
    task_rows = await conn.fetch(
        """SELECT p.client_id, p.wib_date, p.platform, p.post_id, c.client_type = 'DIREKTORAT' AS directorate
           FROM unnest($1::text[], $2::date[], $3::text[]) AS g(client_id, wib_date, platform)
           JOIN posts p ON p.client_id = g.client_id AND p.wib_date = g.wib_date AND p.platform = g.platform
           LEFT JOIN clients c ON c.client_id = p.client_id
           WHERE p.removed_at IS NULL ORDER BY p.published_at, p.post_id""",
        scopes, days, platforms,
    )
    tasks: dict[GroupKey, list[str]] = defaultdict(list)
    directorates: set[str] = set()
    for r in task_rows:
        tasks[(r["client_id"], r["wib_date"], r["platform"])].append(r["post_id"])
        if r["directorate"]:
            directorates.add(r["client_id"])

    existing = await _load_existing(conn, groups)
    desired: dict[RowKey, Row] = {}
    pending: dict[RowKey, tuple[str, ...]] = {}
    considered: set[RowKey] = set(existing)
    considered.update((*g, u) for g, users in groups.items() if users is not ALL for u in users)
    for r in await _member_rows(conn, groups):
        group: GroupKey = (r["scope"], r["wib_date"], r["platform"])
        group_tasks = tasks.get(group)
        if not group_tasks:
            continue
        key = (*group, r["user_id"])
        considered.add(key)
        engaged = set(r["engaged"] or ())
        desired[key] = desired_row(r["handle"] is not None, r["exempt"], group_tasks, engaged,
                                   ratios.for_scope(group[0] in directorates))
        pending[key] = tuple(p for p in group_tasks if p not in engaged)
    upserts, deletes, changes = diff_rows(existing, desired, sorted(considered), pending, dirty.retasked)
    await _write(conn, upserts, deletes)
    reported: list[tuple[Change, GroupKey]] = []
    for change in changes:
        group = change.key[:3]
        if change.new is None and tasks.get(group):
            continue  # the person left the scope: nothing to tell
        reported.append((change, group))
    return reported


async def _load_existing(conn: asyncpg.Connection, groups: dict[GroupKey, set[str] | None]) -> dict[RowKey, Row]:
    whole = [g for g, users in groups.items() if users is ALL]
    some = [(g, u) for g, users in groups.items() if users is not ALL for u in users]
    rows: list[asyncpg.Record] = []
    if whole:
        rows += await conn.fetch(
            """SELECT a.* FROM unnest($1::text[], $2::date[], $3::text[]) AS g(scope, wib_date, platform)
               JOIN attendance a ON a.scope_client_id = g.scope AND a.wib_date = g.wib_date
                                AND a.platform = g.platform""",
            *_columns(whole),
        )
    if some:
        rows += await conn.fetch(
            """SELECT a.* FROM unnest($1::text[], $2::date[], $3::text[], $4::text[])
                               AS g(scope, wib_date, platform, user_id)
               JOIN attendance a ON a.scope_client_id = g.scope AND a.wib_date = g.wib_date
                                AND a.platform = g.platform AND a.user_id = g.user_id""",
            *_columns(g for g, _ in some), [u for _, u in some],
        )
    return {(r["scope_client_id"], r["wib_date"], r["platform"], r["user_id"]):
            Row(AttendanceStatus(r["status"]), r["done"], r["total"]) for r in rows}


async def _write(conn: asyncpg.Connection, upserts: dict[RowKey, Row], deletes: list[RowKey]) -> None:
    if deletes:
        await conn.execute(
            """DELETE FROM attendance a USING unnest($1::text[], $2::date[], $3::text[], $4::text[])
                                              AS d(scope, wib_date, platform, user_id)
               WHERE a.scope_client_id = d.scope AND a.wib_date = d.wib_date AND a.platform = d.platform
                 AND a.user_id = d.user_id""",
            [k[0] for k in deletes], [k[1] for k in deletes], [k[2] for k in deletes], [k[3] for k in deletes],
        )
    if upserts:
        keys = list(upserts)
        await conn.execute(
            """INSERT INTO attendance (scope_client_id, wib_date, platform, user_id, status, done, total)
               SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::text[], $6::int[],
                                    $7::int[])
               ON CONFLICT (scope_client_id, wib_date, platform, user_id) DO UPDATE
               SET status = EXCLUDED.status, done = EXCLUDED.done, total = EXCLUDED.total""",
            [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys], [k[3] for k in keys],
            [upserts[k].status.value for k in keys], [upserts[k].done for k in keys],
            [upserts[k].total for k in keys],
        )
