"""The SQL behind the reports and the read API: a few set-based queries per report, never one per person.

Statuses come from the projected ``attendance`` table; pending links come from ``posts`` minus
``engagements``. A report reads in one read-only REPEATABLE READ transaction, so its posts and its statuses
are one snapshot even while the projection writes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

import asyncpg
from cicero_contracts.events.common import Platform
from cicero_contracts.events.directory import ClientType

from cicero_attendance.reports import (
    AttendanceRow,
    ClientInfo,
    ClientReport,
    CountRow,
    DirectorateReport,
    PersonInfo,
    PersonReport,
    PersonScopeRow,
    PostReport,
    Report,
    ReportKind,
    TaskPostRow,
    UnknownClient,
    UnknownUser,
    UserRequired,
    WrongClientType,
    build_client_report,
    build_directorate_report,
    build_person_report,
    build_post_report,
)
from cicero_attendance.rules import COUNTED_KIND

HANDLE_COLUMN: Final = {Platform.INSTAGRAM: "instagram", Platform.TIKTOK: "tiktok"}
"""The personnel column holding the handle attendance matches on each platform (a constant, never input)."""

TASK_POSTS_SQL: Final = """
    SELECT client_id, platform, post_id, link, caption, published_at, like_count, comment_count
    FROM posts
    WHERE client_id = ANY($1::text[]) AND wib_date = $2 AND removed_at IS NULL
    ORDER BY published_at, post_id"""

SCOPE_ROWS_SQL: Final = """
    SELECT a.platform, a.user_id, a.status, a.done, a.total, p.name, p.title, p.divisi, p.jabatan, p.client_id
    FROM attendance a JOIN personnel p ON p.user_id = a.user_id
    WHERE a.scope_client_id = $1 AND a.wib_date = $2"""

DIRECTORATE_COUNTS_SQL: Final = """
    SELECT s.platform, s.client_id, c.name AS client_name, s.status, s.people
    FROM (SELECT a.platform, p.client_id, a.status, count(*)::int AS people
          FROM attendance a JOIN personnel p ON p.user_id = a.user_id
          WHERE a.scope_client_id = $1 AND a.wib_date = $2
          GROUP BY a.platform, p.client_id, a.status) s
    LEFT JOIN clients c ON c.client_id = s.client_id"""
"""The directorate recap counts in SQL: 30,000 people become a few hundred rows before Python sees them."""

SCOPE_ENGAGED_SQL: Final = {platform: f"""
    SELECT a.platform, e.post_id, a.user_id
    FROM attendance a
    JOIN personnel p ON p.user_id = a.user_id
    JOIN engagements e ON e.platform = a.platform AND e.kind = $4 AND e.username = p.{column}
                      AND e.post_id = ANY($5::text[])
    WHERE a.scope_client_id = $1 AND a.wib_date = $2 AND a.platform = $3""" for platform, column in
    HANDLE_COLUMN.items()}

PERSON_SQL: Final = """
    SELECT user_id, name, title, divisi, jabatan, client_id, roles, active, exempt, instagram, tiktok
    FROM personnel WHERE user_id = $1"""


async def load_client(conn: asyncpg.Connection, client_id: str) -> ClientInfo:
    row = await conn.fetchrow("SELECT client_id, name, client_type FROM clients WHERE client_id = $1", client_id)
    if row is None:
        raise UnknownClient(client_id)
    return ClientInfo(row["client_id"], row["name"], ClientType(row["client_type"]))


async def load_person(conn: asyncpg.Connection, user_id: str) -> PersonInfo:
    row = await conn.fetchrow(PERSON_SQL, user_id)
    if row is None:
        raise UnknownUser(user_id)
    return PersonInfo(**(dict(row) | {"roles": tuple(row["roles"])}))


async def task_posts(conn: asyncpg.Connection, client_ids: list[str], day: date) -> list[TaskPostRow]:
    """The clients' task posts of the day, in publish order (the order the task lists show)."""
    return [TaskPostRow(**dict(r)) for r in await conn.fetch(TASK_POSTS_SQL, client_ids, day)]


async def post_counts(conn: asyncpg.Connection, client_id: str, day: date) -> dict[str, int]:
    rows = await conn.fetch(
        """SELECT platform, count(*)::int AS n FROM posts
           WHERE client_id = $1 AND wib_date = $2 AND removed_at IS NULL GROUP BY platform""", client_id, day)
    return {r["platform"]: r["n"] for r in rows}


async def scope_rows(conn: asyncpg.Connection, client_id: str, day: date, *, home_only: bool) -> list[AttendanceRow]:
    """The scope's rows joined with the directory, in one query; ``home_only`` keeps the client's own people."""
    sql = SCOPE_ROWS_SQL + (" AND p.client_id = $1" if home_only else "")
    return [AttendanceRow(**dict(r)) for r in await conn.fetch(sql, client_id, day)]


async def directorate_counts(conn: asyncpg.Connection, client_id: str, day: date) -> list[CountRow]:
    return [CountRow(**dict(r)) for r in await conn.fetch(DIRECTORATE_COUNTS_SQL, client_id, day)]


async def scope_engaged(
    conn: asyncpg.Connection, client_id: str, day: date, posts: list[TaskPostRow]
) -> list[tuple[str, str, str]]:
    """(platform, post_id, user_id) for each of the scope's people seen engaging a task post."""
    found: list[tuple[str, str, str]] = []
    for platform, sql in SCOPE_ENGAGED_SQL.items():
        post_ids = [p.post_id for p in posts if p.platform == platform.value]
        if post_ids:
            rows = await conn.fetch(sql, client_id, day, platform.value, COUNTED_KIND[platform], post_ids)
            found += [(r["platform"], r["post_id"], r["user_id"]) for r in rows]
    return found


async def person_scopes(conn: asyncpg.Connection, person: PersonInfo) -> list[ClientInfo]:
    """The person's home client and every directorate whose role they hold (role = the client id in lower case).

    A home client missing from the directory still is a scope (the projection counts it), named by its id.
    """
    rows = await conn.fetch(
        """SELECT client_id, name, client_type FROM clients
           WHERE client_id = $1
              OR (client_type = 'DIREKTORAT' AND lower(client_id) = ANY($2::text[]))
           ORDER BY client_id""",
        person.client_id, list(person.roles))
    scopes = [ClientInfo(r["client_id"], r["name"], ClientType(r["client_type"])) for r in rows]
    if person.client_id not in {s.client_id for s in scopes}:
        scopes.append(ClientInfo(person.client_id, person.client_id, ClientType.ORG))
    return scopes


async def person_engaged(conn: asyncpg.Connection, person: PersonInfo, posts: list[TaskPostRow]
                         ) -> list[tuple[str, str]]:
    """(platform, post_id) of the task posts the person's handles were seen on."""
    found: list[tuple[str, str]] = []
    for platform in HANDLE_COLUMN:
        handle = person.handle(platform)
        post_ids = [p.post_id for p in posts if p.platform == platform.value]
        if handle and post_ids:
            rows = await conn.fetch(
                """SELECT post_id FROM engagements
                   WHERE platform = $1 AND kind = $2 AND username = $3 AND post_id = ANY($4::text[])""",
                platform.value, COUNTED_KIND[platform], handle, post_ids)
            found += [(platform.value, r["post_id"]) for r in rows]
    return found


async def load_client_report(conn: asyncpg.Connection, client: ClientInfo, day: date, generated_at: datetime
                             ) -> ClientReport:
    return build_client_report(client, day, generated_at, await post_counts(conn, client.client_id, day),
                               await scope_rows(conn, client.client_id, day, home_only=True))


async def load_directorate_report(conn: asyncpg.Connection, client: ClientInfo, day: date, generated_at: datetime
                                  ) -> DirectorateReport:
    if client.client_type != ClientType.DIREKTORAT:
        raise WrongClientType(ReportKind.DIRECTORATE, client.client_id, client.client_type)
    return build_directorate_report(client, day, generated_at, await post_counts(conn, client.client_id, day),
                                    await directorate_counts(conn, client.client_id, day))


async def load_post_report(conn: asyncpg.Connection, client: ClientInfo, day: date, generated_at: datetime
                           ) -> PostReport:
    posts = await task_posts(conn, [client.client_id], day)
    rows = await scope_rows(conn, client.client_id, day, home_only=False) if posts else []
    engaged = await scope_engaged(conn, client.client_id, day, posts)
    return build_post_report(client, day, generated_at, posts, rows, engaged)


async def load_person_report(conn: asyncpg.Connection, client: ClientInfo, user_id: str, day: date,
                             generated_at: datetime) -> PersonReport:
    person = await load_person(conn, user_id)
    scopes = await person_scopes(conn, person)
    posts = await task_posts(conn, [s.client_id for s in scopes], day)
    rows = [PersonScopeRow(**dict(r)) for r in await conn.fetch(
        """SELECT scope_client_id, platform, status, done, total FROM attendance
           WHERE user_id = $1 AND wib_date = $2""", user_id, day)]
    engaged = await person_engaged(conn, person, posts)
    return build_person_report(client, day, generated_at, person, scopes, posts, rows, engaged)


async def load_report(
    conn: asyncpg.Connection, kind: ReportKind, client_id: str, day: date, generated_at: datetime,
    user_id: str | None = None,
) -> Report:
    """Any report, read in one snapshot. Raises a ``ReportError`` subclass for what cannot be reported."""
    if kind == ReportKind.PERSON and not user_id:
        raise UserRequired()
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        client = await load_client(conn, client_id)
        if kind == ReportKind.CLIENT:
            return await load_client_report(conn, client, day, generated_at)
        if kind == ReportKind.DIRECTORATE:
            return await load_directorate_report(conn, client, day, generated_at)
        if kind == ReportKind.POST:
            return await load_post_report(conn, client, day, generated_at)
        assert user_id is not None
        return await load_person_report(conn, client, user_id, day, generated_at)
