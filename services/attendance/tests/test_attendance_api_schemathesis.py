"""Property test of the read API from its own OpenAPI document (schemathesis): whatever the input, no 5xx,
and every response — 2xx or 4xx — has a documented status, content type and body shape.

The API runs for real: ``serve_api`` (uvicorn inside the service, on the test's event loop) over a seeded
schema, while schemathesis and hypothesis drive it over HTTP from a worker thread. Each operation gets
schema-valid inputs, schema-invalid inputs (which must be rejected with a 4xx), and valid inputs aimed at the
seeded clients, people and day so the report code runs over real rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
import requests
import schemathesis
import schemathesis.checks
from cicero_attendance.api import serve_api
from cicero_attendance.main import build
from cicero_attendance.report_seed import demo_seed
from cicero_attendance.settings import AttendanceSettings
from cicero_runtime.db import create_pool
from cicero_runtime.testing.fixtures import service_settings, started_service
from cicero_runtime.testing.processes import free_port
from cicero_runtime.testing.waiting import wait_for
from cicero_runtime.topology import BusNames
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

EXAMPLES = 12
"""Per operation and pass: eight operations, four passes, a few hundred requests in all."""
SEEDED = [{"client_id": "POLRES_A", "user_id": "1001", "date": "2026-11-22"},
          {"client_id": "DITBINMAS", "user_id": "1003", "date": "2026-11-22"}]
"""Values aimed at the seeded rows: an ORG client and a directorate, people in both, the seeded day."""
CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.status_code_conformance,
          schemathesis.checks.content_type_conformance, schemathesis.checks.response_schema_conformance]


@pytest_asyncio.fixture
async def api_url(
    database_url: str, attendance_schema: str, namespace: str, amqp_url: str, bus_names: BusNames,
) -> AsyncIterator[str]:
    pool = await create_pool(database_url, attendance_schema)
    async with pool.acquire() as conn:
        await demo_seed().write(conn)
    await pool.close()
    port = free_port()
    config = service_settings(AttendanceSettings, database_url, attendance_schema, namespace, amqp_url=amqp_url,
                              api_host="127.0.0.1", api_port=port, health_port=0)
    base_url = f"http://127.0.0.1:{port}"
    async with started_service(build(config)) as service, httpx.AsyncClient() as http:
        stop = asyncio.Event()
        task = asyncio.create_task(serve_api(service, stop))

        async def up() -> bool:
            try:
                return (await http.get(f"{base_url}/openapi.json")).status_code == 200
            except httpx.TransportError:
                return False

        try:
            await wait_for(up, what="the read API to answer")
            yield base_url
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)


def run_pass(base_url: str, session: requests.Session, operation: Any, mode: GenerationMode,
             fixed: dict[str, Any], calls: dict[str, int]) -> None:
    """Up to ``EXAMPLES`` generated calls of one operation, each response validated (a failure raises)."""
    checks = CHECKS + ([schemathesis.checks.negative_data_rejection] if mode == GenerationMode.NEGATIVE else [])

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    def call(case: schemathesis.Case[Any]) -> None:
        response = case.call(base_url=base_url, session=session, timeout=10)
        case.validate_response(response, checks=checks)
        calls[operation.label] = calls.get(operation.label, 0) + 1

    call()


def fuzz(base_url: str) -> dict[str, int]:
    """Every operation through every pass; returns how many calls each operation got."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    session = requests.Session()
    calls: dict[str, int] = {}
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"an operation of the document does not load: {result.err()}"
        operation = result.ok()
        query_names = {parameter.name for parameter in operation.query}
        passes: list[tuple[GenerationMode, dict[str, Any]]] = [(GenerationMode.POSITIVE, {}),
                                                               (GenerationMode.NEGATIVE, {})]
        for values in SEEDED:
            passes.append((GenerationMode.POSITIVE, {
                "path_parameters": {k: v for k, v in values.items() if f"{{{k}}}" in operation.path},
                "query": {k: v for k, v in values.items() if k in query_names},
            }))
        for mode, fixed in passes:
            run_pass(base_url, session, operation, mode, fixed, calls)
    return calls


async def test_every_operation_holds_to_the_openapi_document(api_url: str) -> None:
    calls = await asyncio.to_thread(fuzz, api_url)
    assert sorted(calls) == [
        "GET /clients", "GET /clients/{client_id}", "GET /clients/{client_id}/attendance",
        "GET /clients/{client_id}/personnel", "GET /clients/{client_id}/posts",
        "GET /clients/{client_id}/reports/{kind}", "GET /personnel/{user_id}", "GET /personnel/{user_id}/attendance"]
    assert all(n >= 3 for n in calls.values()), calls
