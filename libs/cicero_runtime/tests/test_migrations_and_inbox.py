"""Migrations apply once, even from two processes at once; the inbox deduplicates inside the transaction."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest
from cicero_runtime import inbox
from cicero_runtime.migrate import MigrationError, apply_migrations, directory_migrations, runtime_migrations
from cicero_runtime.testing.fixtures import drop_schema


def write_sql(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "0001_things.sql").write_text("CREATE TABLE things (id int PRIMARY KEY);")
    (directory / "0002_more.sql").write_text("ALTER TABLE things ADD COLUMN name text;")


async def test_migrations_apply_once_even_concurrently(database_url: str, tmp_path: Path) -> None:
    write_sql(tmp_path / "svc")
    schema = f"m_{uuid.uuid4().hex[:10]}"
    migrations = runtime_migrations() + directory_migrations(tmp_path / "svc", "svc")

    async def run() -> list[str]:
        conn = await asyncpg.connect(database_url)
        try:
            return await apply_migrations(conn, schema, migrations)
        finally:
            await conn.close()

    try:
        first, second = await asyncio.gather(run(), run())
        assert sorted(first + second) == sorted(m.name for m in migrations)
        assert not (set(first) & set(second))
        assert await run() == []
        conn = await asyncpg.connect(database_url)
        try:
            count = await conn.fetchval(f'SELECT count(*) FROM "{schema}".schema_migrations')
            cols = await conn.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_schema=$1 AND table_name='things'",
                schema)
        finally:
            await conn.close()
        assert count == len(migrations)
        assert {c["column_name"] for c in cols} == {"id", "name"}
    finally:
        await drop_schema(database_url, schema)


async def test_edited_migration_is_refused_and_bad_sql_applies_nothing(database_url: str, tmp_path: Path) -> None:
    write_sql(tmp_path / "svc")
    schema = f"m_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(database_url)
    try:
        await apply_migrations(conn, schema, directory_migrations(tmp_path / "svc", "svc"))
        (tmp_path / "svc" / "0002_more.sql").write_text("ALTER TABLE things ADD COLUMN other text;")
        with pytest.raises(MigrationError, match=r"0002_more\.sql was changed"):
            await apply_migrations(conn, schema, directory_migrations(tmp_path / "svc", "svc"))
        (tmp_path / "bad").mkdir()
        (tmp_path / "bad" / "0001_ok.sql").write_text("CREATE TABLE ok_table (id int);")
        (tmp_path / "bad" / "0002_broken.sql").write_text("CREATE TABLE broken (id nosuchtype);")
        other = f"m_{uuid.uuid4().hex[:10]}"
        with pytest.raises(MigrationError, match=r"0002_broken\.sql failed"):
            await apply_migrations(conn, other, directory_migrations(tmp_path / "bad", "bad"))
        assert not await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", other)
    finally:
        await conn.close()
        await drop_schema(database_url, schema)


def test_badly_named_migration_is_refused(tmp_path: Path) -> None:
    (tmp_path / "init.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNNN_description\.sql"):
        directory_migrations(tmp_path, "x")


async def test_inbox_claims_once_and_rolls_back_with_the_transaction(pool: asyncpg.Pool) -> None:
    event_id = uuid.uuid4()
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                assert await inbox.claim(conn, "c", event_id, "TickFired")
                raise RuntimeError("handler failed")
        async with conn.transaction():
            assert await inbox.claim(conn, "c", event_id, "TickFired")
        async with conn.transaction():
            assert not await inbox.claim(conn, "c", event_id, "TickFired")
            assert await inbox.claim(conn, "other-consumer", event_id, "TickFired")
        with pytest.raises(RuntimeError, match="inside"):
            await inbox.claim(conn, "c", uuid.uuid4(), "TickFired")


async def test_inbox_claims_a_batch_once(pool: asyncpg.Pool) -> None:
    seen, new_a, new_b = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with pool.acquire() as conn:
        async with conn.transaction():
            assert await inbox.claim(conn, "c", seen, "TickFired")
        async with conn.transaction():
            fresh = await inbox.claim_many(
                conn, "c", [(seen, "TickFired"), (new_a, "TickFired"), (new_b, "TickFired"), (new_a, "TickFired")]
            )
        assert fresh == {new_a, new_b}
        async with conn.transaction():
            assert await inbox.claim_many(conn, "c", [(new_a, "TickFired")]) == set()
        assert await conn.fetchval("SELECT count(*) FROM inbox WHERE consumer = 'c'") == 3
