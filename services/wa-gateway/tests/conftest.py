"""The gateway exactly as production wires it, on a fresh schema and a fresh bus namespace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from cicero_runtime.service import Service
from cicero_runtime.testing.fixtures import create_service_schema, drop_schema
from cicero_runtime.topology import BusNames
from cicero_wa_gateway.main import build
from cicero_wa_gateway.settings import GatewaySettings


@pytest_asyncio.fixture
async def gateway_schema(database_url: str) -> AsyncIterator[str]:
    schema = await create_service_schema(database_url, "wa_gateway")
    yield schema
    await drop_schema(database_url, schema)


@pytest.fixture
def gateway_settings(database_url: str, amqp_url: str, namespace: str, bus_names: BusNames, gateway_schema: str,
                     tmp_path: Path) -> GatewaySettings:
    # the aliases, not the field names: RuntimeSettings ignores ``db_schema=`` / ``namespace=`` keywords
    settings = GatewaySettings(database_url=database_url, amqp_url=amqp_url, CICERO_DB_SCHEMA=gateway_schema,
                               CICERO_NAMESPACE=namespace, wa_provider="file",
                               wa_file_path=str(tmp_path / "whatsapp.jsonl"))
    assert settings.db_schema == gateway_schema and settings.namespace == namespace
    return settings


@pytest_asyncio.fixture
async def gateway(gateway_settings: GatewaySettings) -> AsyncIterator[Service]:
    service = build(gateway_settings)
    await service.start(with_relay=False, with_consumers=False, with_health=False, with_background=False)
    yield service
    await service.stop()
