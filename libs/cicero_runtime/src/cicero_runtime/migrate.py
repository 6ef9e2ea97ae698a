"""Apply SQL migrations in order, once, recorded in a table; safe from two processes at once.

Every service runs the runtime's migrations (its event store, checkpoint and inbox) and then its own
``sql/<schema>/NNNN_*.sql`` files, into the schema it owns. All of it happens in one transaction under
an advisory lock, so a second process waits and then finds nothing left to do.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import asyncpg

from cicero_runtime.db import advisory_key
from cicero_runtime.settings import validate_schema_name

log = logging.getLogger(__name__)


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def runtime_migrations() -> list[Migration]:
    files = resources.files("cicero_runtime.migrations")
    return [
        Migration(f"runtime/{entry.name}", entry.read_text(encoding="utf-8"))
        for entry in sorted(files.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".sql")
    ]


def directory_migrations(directory: Path, label: str) -> list[Migration]:
    """``NNNN_name.sql`` files of one directory, in numeric order; a missing directory has none."""
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.glob("*.sql")):
        prefix = path.name.split("_", 1)[0]
        if not prefix.isdigit():
            raise MigrationError(f"{path}: migration files are named NNNN_description.sql")
        found.append(Migration(f"{label}/{path.name}", path.read_text(encoding="utf-8")))
    return found


async def apply_migrations(conn: asyncpg.Connection, schema: str, migrations: list[Migration]) -> list[str]:
    """Apply what is not yet applied; returns the names applied now. An edited applied file is an error."""
    validate_schema_name(schema)
    applied_now: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", advisory_key("cicero-migrate", schema))
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(f'SET LOCAL search_path TO "{schema}", public')
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   name text PRIMARY KEY, checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        rows = await conn.fetch("SELECT name, checksum FROM schema_migrations")
        done = {r["name"]: r["checksum"] for r in rows}
        for migration in migrations:
            if migration.name in done:
                if done[migration.name] != migration.checksum:
                    raise MigrationError(
                        f"{migration.name} was changed after it was applied to schema {schema}; "
                        "add a new migration instead"
                    )
                continue
            try:
                await conn.execute(migration.sql)
            except asyncpg.PostgresError as exc:
                raise MigrationError(f"{migration.name} failed in schema {schema}: {exc}") from exc
            await conn.execute(
                "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
                migration.name,
                migration.checksum,
            )
            applied_now.append(migration.name)
    for name in applied_now:
        log.info("migration applied", extra={"migration": name, "schema": schema})
    return applied_now


async def migrate(database_url: str, schema: str, service_sql_dir: Path, label: str) -> list[str]:
    """The ``migrate`` command of every service."""
    conn = await asyncpg.connect(database_url)
    try:
        return await apply_migrations(
            conn, schema, runtime_migrations() + directory_migrations(service_sql_dir, label)
        )
    finally:
        await conn.close()
