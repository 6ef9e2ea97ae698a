"""The notifier service exactly as production wires it, on a fresh schema and a fresh bus namespace."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from cicero_notifier.main import build
from cicero_notifier.settings import NotifierSettings
from cicero_runtime.service import Service
from cicero_runtime.testing.fixtures import service_schema, service_settings, started_service
from cicero_runtime.topology import BusNames


@pytest_asyncio.fixture
async def notifier_schema(database_url: str) -> AsyncIterator[str]:
    async with service_schema(database_url, "notifier") as schema:
        yield schema


@pytest_asyncio.fixture
async def notifier(
    database_url: str, amqp_url: str, namespace: str, bus_names: BusNames, notifier_schema: str
) -> AsyncIterator[Service]:
    settings = service_settings(NotifierSettings, database_url, notifier_schema, namespace, amqp_url=amqp_url)
    async with started_service(build(settings)) as service:
        yield service
