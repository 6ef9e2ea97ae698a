"""Scheduler test fixtures: a fresh ``scheduler`` schema per test and the service wired as in production."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
from cicero_runtime.event_store import RecordedEvent
from cicero_runtime.service import Service
from cicero_runtime.testing.contracts import assert_matches_contract
from cicero_runtime.testing.fixtures import create_service_schema, drop_schema
from cicero_runtime.topology import BusNames
from cicero_scheduler.main import build
from cicero_scheduler.settings import SchedulerSettings


def scheduler_settings(database_url: str, schema: str, namespace: str, **overrides: Any) -> SchedulerSettings:
    # db_schema / namespace are declared with validation aliases (CICERO_DB_SCHEMA, CICERO_NAMESPACE) and the
    # settings do not populate by field name, so ``db_schema=...`` would be silently ignored: pass the aliases.
    values: dict[str, Any] = {"database_url": database_url, "scheduler_clock_enabled": False,
                              "CICERO_DB_SCHEMA": schema, "CICERO_NAMESPACE": namespace}
    settings = SchedulerSettings(**(values | overrides))
    assert (settings.db_schema, settings.namespace) == (schema, namespace)
    return settings


@pytest_asyncio.fixture
async def scheduler_schema(database_url: str) -> AsyncIterator[str]:
    schema = await create_service_schema(database_url, "scheduler")
    yield schema
    await drop_schema(database_url, schema)


@pytest_asyncio.fixture
async def scheduler(
    database_url: str, scheduler_schema: str, namespace: str, bus_names: BusNames
) -> AsyncIterator[Service]:
    service = build(scheduler_settings(database_url, scheduler_schema, namespace))
    assert service.schema == scheduler_schema
    await service.start(with_relay=False, with_consumers=False, with_health=False, with_background=False)
    try:
        yield service
    finally:
        await service.stop()


RecordedReader = Callable[[], Awaitable[list[RecordedEvent]]]


@pytest.fixture
def recorded(scheduler: Service) -> RecordedReader:
    """Every event the scheduler appended, each checked against the committed contract."""

    async def read() -> list[RecordedEvent]:
        async with scheduler.pool.acquire() as conn:
            events = await scheduler.store.read_after(conn, 0, 1000)
        for event in events:
            assert_matches_contract(event)
        return events

    return read




