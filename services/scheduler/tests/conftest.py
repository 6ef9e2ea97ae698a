"""Scheduler test fixtures: a fresh ``scheduler`` schema per test and the service wired as in production."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
from cicero_runtime.event_store import RecordedEvent
from cicero_runtime.service import Service
from cicero_runtime.testing.contracts import assert_matches_contract
from cicero_runtime.testing.fixtures import service_schema, service_settings, started_service
from cicero_runtime.topology import BusNames
from cicero_scheduler.main import build
from cicero_scheduler.settings import SchedulerSettings


def scheduler_settings(database_url: str, schema: str, namespace: str, **overrides: Any) -> SchedulerSettings:
    return service_settings(SchedulerSettings, database_url, schema, namespace,
                            **({"scheduler_clock_enabled": False} | overrides))


@pytest_asyncio.fixture
async def scheduler_schema(database_url: str) -> AsyncIterator[str]:
    async with service_schema(database_url, "scheduler") as schema:
        yield schema


@pytest_asyncio.fixture
async def scheduler(
    database_url: str, scheduler_schema: str, namespace: str, bus_names: BusNames
) -> AsyncIterator[Service]:
    async with started_service(build(scheduler_settings(database_url, scheduler_schema, namespace))) as service:
        yield service


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
