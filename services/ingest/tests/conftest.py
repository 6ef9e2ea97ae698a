"""Ingest test fixtures: a fresh ``ingest`` schema, the simulated RapidAPI platform, the service as wired."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio
from cicero_ingest.main import build
from cicero_ingest.settings import IngestSettings
from cicero_rapidapi_sim.server import RunningSimulator, running_simulator
from cicero_runtime.service import Service
from cicero_runtime.testing.fixtures import service_schema, service_settings
from cicero_runtime.topology import BusNames

SIM_TODAY = "2026-03-10"


def ingest_settings(sim: RunningSimulator, database_url: str = "", schema: str = "", namespace: str = "",
                    **overrides: Any) -> IngestSettings:
    return service_settings(IngestSettings, database_url or "postgresql://unused", schema, namespace,
                            **({"instagram_base_url": sim.base_url, "tiktok_base_url": sim.base_url,
                                "rapidapi_key": sim.api_key, "http_backoff_base_s": 0.01,
                                "http_backoff_max_s": 0.05} | overrides))


SettingsFactory = Callable[..., IngestSettings]


@pytest.fixture
def settings_for() -> SettingsFactory:
    """``settings_for(sim, **overrides)``: ingest settings pointing at a simulator (no database needed)."""
    return ingest_settings


@pytest.fixture(scope="module")
def sim_server() -> Iterator[RunningSimulator]:
    with running_simulator("e2e", today=SIM_TODAY) as simulator:
        yield simulator


@pytest.fixture
def sim(sim_server: RunningSimulator) -> RunningSimulator:
    """The shared simulator, back to the e2e dataset with no faults and no counted requests."""
    sim_server.replace_dataset("e2e", today=SIM_TODAY)
    sim_server.reset()
    return sim_server




@pytest_asyncio.fixture
async def ingest_schema(database_url: str) -> AsyncIterator[str]:
    async with service_schema(database_url, "ingest") as schema:
        yield schema


ServiceFactory = Callable[..., Awaitable[Service]]


@pytest_asyncio.fixture
async def make_ingest(
    database_url: str, ingest_schema: str, namespace: str, bus_names: BusNames, sim: RunningSimulator
) -> AsyncIterator[ServiceFactory]:
    """Start the ingest service (no relay, broker consumers, health or background) on the fresh schema."""
    started: list[Service] = []

    async def start(**overrides: Any) -> Service:
        service = build(ingest_settings(sim, database_url, ingest_schema, namespace, **overrides))
        assert service.schema == ingest_schema
        await service.start(with_relay=False, with_consumers=False, with_health=False, with_background=False)
        started.append(service)
        return service

    yield start
    for service in started:
        await service.stop()


@pytest_asyncio.fixture
async def ingest(make_ingest: ServiceFactory) -> Service:
    return await make_ingest()
