"""Rebuild the projection by replaying the journal into fresh tables, then swap them in atomically.

The live service keeps consuming (and the read API keeps answering) while the fresh tables catch up in
a side schema. Once a read of the journal comes back short, the rebuild takes the journal lock (new
events wait, nothing is lost), applies the last entries, moves the live tables out and the fresh ones
in within one transaction, and gives the fresh indexes the live ones' names so later migrations still
find them.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
from cicero_runtime.db import advisory_key, connect
from cicero_runtime.settings import validate_schema_name

from cicero_attendance import journal
from cicero_attendance.projector import PROJECTION_TABLES, Projector

Progress = Callable[[int, int], None]
"""Called with (entries applied so far, journal entries known so far)."""


class RebuildError(RuntimeError):
    pass


@dataclass(frozen=True)
class RebuildReport:
    entries: int
    position: int
    swapped: bool
    differences: dict[str, int]
    """Per table, rows in one of live/rebuilt but not the other (filled by a check; empty after a swap)."""


def _side_schemas(schema: str) -> tuple[str, str]:
    return validate_schema_name(f"{schema}_rebuild"[:63]), validate_schema_name(f"{schema}_retired"[:63])


async def _create_fresh_tables(conn: asyncpg.Connection, schema: str, fresh: str) -> None:
    await conn.execute(f"DROP SCHEMA IF EXISTS {fresh} CASCADE")
    await conn.execute(f"CREATE SCHEMA {fresh}")
    for table in PROJECTION_TABLES:
        await conn.execute(f"CREATE TABLE {fresh}.{table} (LIKE {schema}.{table} INCLUDING ALL)")


async def _catch_up(live: asyncpg.Connection, work: asyncpg.Connection, projector: Projector, position: int,
                    chunk_size: int, applied: int, progress: Progress, *, attendance: bool) -> tuple[int, int]:
    """Project journal entries after ``position`` into the fresh tables; stop after one short read.

    The next chunk is read and parsed while the database writes the current one (two connections).
    """
    known = await journal.last_position(live)
    pending = asyncio.ensure_future(journal.read_after(live, position, chunk_size))
    try:
        while True:
            entries, position = await pending
            if len(entries) == chunk_size:
                pending = asyncio.ensure_future(journal.read_after(live, position, chunk_size))
            if entries:
                async with work.transaction():
                    await projector.project(work, entries, attendance=attendance)
                applied += len(entries)
                known = max(known, position)
                progress(applied, known)
            if len(entries) < chunk_size:
                return position, applied
    finally:
        if not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, asyncpg.PostgresError):
                await pending


async def table_differences(conn: asyncpg.Connection, schema_a: str, schema_b: str) -> dict[str, int]:
    """Rows present in one schema's projection table and not the other's, per table (0 = identical)."""
    differences: dict[str, int] = {}
    for table in PROJECTION_TABLES:
        count: int = await conn.fetchval(
            f"""SELECT (SELECT count(*) FROM (SELECT * FROM {schema_a}.{table}
                                             EXCEPT ALL SELECT * FROM {schema_b}.{table}) a)
                     + (SELECT count(*) FROM (SELECT * FROM {schema_b}.{table}
                                             EXCEPT ALL SELECT * FROM {schema_a}.{table}) b)""")
        differences[table] = count
    return differences


_INDEX_NAME = re.compile(r"^CREATE (UNIQUE )?INDEX (\S+) ON (\S+)")


def _shape(definition: str) -> str:
    """An index definition without its name and schema, to pair a fresh index with its live twin."""
    return _INDEX_NAME.sub(lambda m: f"CREATE {m.group(1) or ''}INDEX ON {m.group(3).split('.')[-1]}", definition)


async def _swap(conn: asyncpg.Connection, schema: str, fresh: str, retired: str) -> None:
    """Inside the caller's transaction: live tables out to ``retired``, fresh ones in, index names kept."""
    live_names: dict[str, str] = {}
    for row in await conn.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND "
                                "tablename = ANY($2::text[])", schema, list(PROJECTION_TABLES)):
        live_names[_shape(row["indexdef"])] = row["indexname"]
    await conn.execute(f"DROP SCHEMA IF EXISTS {retired} CASCADE")
    await conn.execute(f"CREATE SCHEMA {retired}")
    for table in PROJECTION_TABLES:
        await conn.execute(f"LOCK TABLE {schema}.{table} IN ACCESS EXCLUSIVE MODE")
        await conn.execute(f"ALTER TABLE {schema}.{table} SET SCHEMA {retired}")
        await conn.execute(f"ALTER TABLE {fresh}.{table} SET SCHEMA {schema}")
    for row in await conn.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND "
                                "tablename = ANY($2::text[])", schema, list(PROJECTION_TABLES)):
        wanted = live_names.get(_shape(row["indexdef"]))
        if wanted and wanted != row["indexname"]:
            await conn.execute(f'ALTER INDEX {schema}."{row["indexname"]}" RENAME TO "{wanted}"')
    await conn.execute(f"DROP SCHEMA {retired} CASCADE")
    await conn.execute(f"DROP SCHEMA {fresh} CASCADE")


async def rebuild(database_url: str, schema: str, projector: Projector, *, chunk_size: int = 5000,
                  swap: bool = True, progress: Progress | None = None) -> RebuildReport:
    """Replay the whole journal into fresh tables; swap them in (or, with ``swap=False``, only compare)."""
    report_progress: Progress = progress or (lambda done, total: None)
    fresh, retired = _side_schemas(schema)
    live = await connect(database_url, schema)
    try:
        if not await live.fetchval("SELECT pg_try_advisory_lock($1)", advisory_key(schema, "rebuild")):
            raise RebuildError(f"a rebuild of {schema} is already running")
        await _create_fresh_tables(live, schema, fresh)
        work = await connect(database_url, schema)
        swapped = False
        try:
            await work.execute(f"SET search_path TO {fresh}")
            await work.execute("SET synchronous_commit TO off")  # a rebuild that dies is simply run again
            # the bulk: directory, posts and engagements only, then every attendance row in one pass
            position, applied = await _catch_up(live, work, projector, 0, chunk_size, 0, report_progress,
                                                attendance=False)
            for table in PROJECTION_TABLES:  # planner statistics for the queries that follow, and for after the swap
                await work.execute(f"ANALYZE {fresh}.{table}")
            helper = await connect(database_url, schema)
            try:
                await helper.execute(f"SET search_path TO {fresh}")
                await helper.execute("SET synchronous_commit TO off")
                await projector.recompute_all([work, helper])
            finally:
                await helper.close()
            async with live.transaction():
                await journal.lock(live)  # writers wait from here until the swap commits
                position, applied = await _catch_up(live, work, projector, position, chunk_size, applied,
                                                    report_progress, attendance=True)
                if not swap:
                    differences = await table_differences(live, schema, fresh)
                    return RebuildReport(applied, position, False, differences)
                await _swap(live, schema, fresh, retired)
                swapped = True
            return RebuildReport(applied, position, True, {})
        finally:
            await work.close()
            if not swapped:
                await live.execute(f"DROP SCHEMA IF EXISTS {fresh} CASCADE")
    finally:
        await live.close()
