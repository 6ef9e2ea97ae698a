"""The attendance service exactly as production wires it, on a fresh schema and a fresh bus namespace."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import pytest_asyncio
from cicero_attendance.main import build, main
from cicero_attendance.settings import AttendanceSettings
from cicero_runtime.service import Service
from cicero_runtime.testing.fixtures import SQL_DIR, service_schema, service_settings, started_service
from cicero_runtime.topology import BusNames


@pytest_asyncio.fixture
async def attendance_schema(database_url: str) -> AsyncIterator[str]:
    async with service_schema(database_url, "attendance") as schema:
        yield schema


@pytest_asyncio.fixture
async def attendance(
    database_url: str, amqp_url: str, namespace: str, bus_names: BusNames, attendance_schema: str
) -> AsyncIterator[Service]:
    settings = service_settings(AttendanceSettings, database_url, attendance_schema, namespace, amqp_url=amqp_url)
    async with started_service(build(settings)) as service:
        yield service


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, amqp_url: str, namespace: str,
            attendance_schema: str) -> Iterator[None]:
    """The settings a console-script run reads from the environment, pointing at the test's schema."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("AMQP_URL", amqp_url)
    monkeypatch.setenv("CICERO_DB_SCHEMA", attendance_schema)
    monkeypatch.setenv("CICERO_NAMESPACE", namespace)
    monkeypatch.setenv("HEALTH_PORT", "0")
    monkeypatch.setenv("CICERO_SQL_DIR", str(SQL_DIR))
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers  # the CLI installs its own log handler on the root logger
    root.setLevel(level)


@pytest.fixture
def attendance_cli(cli_env: None) -> Callable[..., Awaitable[int]]:
    """``cicero-attendance ARGS…`` in a thread of its own: it runs its own event loop, as in production."""

    async def run(*argv: str) -> int:
        return await asyncio.to_thread(main, list(argv))

    return run
