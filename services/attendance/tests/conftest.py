"""The attendance service exactly as production wires it, on a fresh schema and a fresh bus namespace."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from cicero_attendance.main import build
from cicero_runtime.service import Service
from cicero_runtime.settings import RuntimeSettings
from cicero_runtime.testing.fixtures import create_service_schema, drop_schema
from cicero_runtime.topology import BusNames


@pytest_asyncio.fixture
async def attendance_schema(database_url: str) -> AsyncIterator[str]:
    schema = await create_service_schema(database_url, "attendance")
    yield schema
    await drop_schema(database_url, schema)


@pytest_asyncio.fixture
async def attendance(
    database_url: str, amqp_url: str, namespace: str, bus_names: BusNames, attendance_schema: str
) -> AsyncIterator[Service]:
    # the aliases, not the field names: RuntimeSettings ignores ``db_schema=`` / ``namespace=`` keywords
    settings = RuntimeSettings(database_url=database_url, amqp_url=amqp_url,
                               CICERO_DB_SCHEMA=attendance_schema, CICERO_NAMESPACE=namespace)
    service = build(settings)
    assert service.schema == attendance_schema and service.names.namespace == namespace
    await service.start(with_relay=False, with_consumers=False, with_health=False, with_background=False)
    yield service
    await service.stop()
