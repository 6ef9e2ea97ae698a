"""Pytest fixtures over the real PostgreSQL, RabbitMQ and Redis named by the environment.

Isolation: each test gets a fresh Postgres schema (dropped afterwards) and a fresh bus namespace
(its queues and exchange deleted afterwards).
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, TypeVar

import aio_pika
import asyncpg
import pytest
import pytest_asyncio
from cicero_contracts.names import CONSUMER_QUEUES

from cicero_runtime.db import create_pool
from cicero_runtime.migrate import apply_migrations, runtime_migrations
from cicero_runtime.service import Service
from cicero_runtime.settings import RuntimeSettings
from cicero_runtime.topology import BusNames

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TEST_DATABASE = "cicero_test"
SQL_DIR = Path(__file__).resolve().parents[5] / "sql"
"""The repository's ``sql/`` directory (tests run from a checkout)."""


def admin_url() -> str:
    return os.environ.get("TEST_ADMIN_DATABASE_URL", DEFAULT_ADMIN_URL)


def test_database_url() -> str:
    base = admin_url().rsplit("/", 1)[0]
    return os.environ.get("TEST_DATABASE_URL", f"{base}/{TEST_DATABASE}")


async def ensure_database(url: str) -> None:
    name = url.rsplit("/", 1)[1].split("?")[0]
    conn = await asyncpg.connect(admin_url())
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def amqp_url() -> str:
    return os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


@pytest.fixture(scope="session")
def redis_url() -> str:
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest_asyncio.fixture(scope="session")
async def database_url() -> str:
    url = test_database_url()
    await ensure_database(url)
    return url


async def create_schema(database_url: str, prefix: str = "t") -> str:
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(database_url)
    try:
        await apply_migrations(conn, schema, runtime_migrations())
    finally:
        await conn.close()
    return schema


async def create_service_schema(database_url: str, sql_label: str) -> str:
    """A fresh schema with the runtime's and one service's migrations (``sql/<sql_label>``) applied."""
    from cicero_runtime.migrate import directory_migrations

    schema = f"{sql_label}_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(database_url)
    try:
        await apply_migrations(conn, schema, runtime_migrations() + directory_migrations(SQL_DIR / sql_label,
                                                                                          sql_label))
    finally:
        await conn.close()
    return schema


async def drop_schema(database_url: str, schema: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


@pytest_asyncio.fixture
async def schema(database_url: str) -> AsyncIterator[str]:
    name = await create_schema(database_url)
    yield name
    await drop_schema(database_url, name)


@pytest_asyncio.fixture
async def pool(database_url: str, schema: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(database_url, schema, max_size=12)
    yield p
    await p.close()


@pytest.fixture
def namespace() -> str:
    return f"t{uuid.uuid4().hex[:10]}."


async def delete_namespace(amqp_url: str, names: BusNames, extra_queues: tuple[str, ...] = ()) -> None:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        for spec in CONSUMER_QUEUES:
            for queue in (names.queue(spec), names.retry_queue(spec), names.dead_letter_queue(spec)):
                await channel.queue_delete(queue)
        for queue in extra_queues:
            await channel.queue_delete(queue)
        await channel.exchange_delete(names.exchange)
    finally:
        await connection.close()


@pytest_asyncio.fixture
async def bus_names(amqp_url: str, namespace: str) -> AsyncIterator[BusNames]:
    names = BusNames(namespace)
    yield names
    await delete_namespace(amqp_url, names)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """CLI entry points install their own root handler; put pytest's logging back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


S = TypeVar("S", bound=RuntimeSettings)


def service_settings(cls: type[S], database_url: str, schema: str, namespace: str, **overrides: Any) -> S:
    """Settings of a service under test, on its fresh schema and bus namespace."""
    settings = cls(**({"database_url": database_url, "CICERO_DB_SCHEMA": schema, "CICERO_NAMESPACE": namespace}
                      | overrides))
    assert (settings.db_schema, settings.namespace) == (schema, namespace)
    return settings


@contextlib.asynccontextmanager
async def service_schema(database_url: str, sql_label: str) -> AsyncIterator[str]:
    schema = await create_service_schema(database_url, sql_label)
    try:
        yield schema
    finally:
        await drop_schema(database_url, schema)


@contextlib.asynccontextmanager
async def started_service(service: Service) -> AsyncIterator[Service]:
    """The service's pool, store and topology, without relay, consumers, health or loops: tests drive it."""
    async with service.one_shot(publishing=False):
        yield service
