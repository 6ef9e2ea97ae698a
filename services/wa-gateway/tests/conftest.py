"""The gateway exactly as production wires it, on a fresh schema and a fresh bus namespace; the fake provider."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from cicero_runtime.service import Service
from cicero_runtime.testing.fake_whatsapp import FakeWhatsApp
from cicero_runtime.testing.fixtures import service_schema, service_settings, started_service
from cicero_runtime.topology import BusNames
from cicero_wa_gateway.main import build
from cicero_wa_gateway.settings import GatewaySettings


@pytest_asyncio.fixture
async def gateway_schema(database_url: str) -> AsyncIterator[str]:
    async with service_schema(database_url, "wa_gateway") as schema:
        yield schema


@pytest.fixture
def gateway_settings(database_url: str, amqp_url: str, namespace: str, bus_names: BusNames, gateway_schema: str,
                     tmp_path: Path) -> GatewaySettings:
    return service_settings(GatewaySettings, database_url, gateway_schema, namespace, amqp_url=amqp_url,
                            wa_provider="file", wa_file_path=str(tmp_path / "whatsapp.jsonl"))


@pytest_asyncio.fixture
async def gateway(gateway_settings: GatewaySettings) -> AsyncIterator[Service]:
    async with started_service(build(gateway_settings)) as service:
        yield service


@pytest.fixture
def fake() -> Iterator[FakeWhatsApp]:
    """The fake WhatsApp provider (Cloud API and WAHA shapes) on loopback."""
    with FakeWhatsApp() as server:
        yield server
