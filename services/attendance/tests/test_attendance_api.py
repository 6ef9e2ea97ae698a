"""The read API: each endpoint on the seeded day, each 4xx with its message, and the server inside the service."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
import pytest_asyncio
from cicero_attendance.api import create_app, serve_api
from cicero_attendance.main import build
from cicero_attendance.report_seed import demo_seed
from cicero_attendance.settings import AttendanceSettings
from cicero_runtime.db import create_pool
from cicero_runtime.testing.fixtures import service_settings, started_service
from cicero_runtime.testing.processes import free_port
from cicero_runtime.testing.waiting import wait_for
from cicero_runtime.topology import BusNames

DAY = "2026-11-22"


@pytest_asyncio.fixture
async def db(database_url: str, attendance_schema: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, attendance_schema)
    try:
        async with pool.acquire() as conn:
            await demo_seed().write(conn)
        yield pool
    finally:
        await pool.close()


@pytest_asyncio.fixture
async def api(db: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(db, AttendanceSettings(api_port=0))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        yield client


def detail(response: httpx.Response) -> str:
    """The error message, whether FastAPI's validation list or our one-line detail."""
    body = response.json()["detail"]
    return body if isinstance(body, str) else "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in body)


# -- directory --------------------------------------------------------------------------------------------


async def test_list_clients_with_filters(api: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    await db.execute("UPDATE clients SET active = false WHERE client_id = 'POLRES_C'")
    all_clients = (await api.get("/clients")).json()
    assert [c["client_id"] for c in all_clients] == ["DITBINMAS", "POLRES_A", "POLRES_B", "POLRES_C"]
    assert [c["client_id"] for c in (await api.get("/clients", params={"type": "DIREKTORAT"})).json()] == [
        "DITBINMAS"]
    assert [c["client_id"] for c in (await api.get("/clients", params={"active": "false"})).json()] == ["POLRES_C"]
    assert [c["client_id"] for c in (await api.get("/clients", params={"active": "true", "type": "ORG"})).json()
            ] == ["POLRES_A", "POLRES_B"]


async def test_one_client(api: httpx.AsyncClient) -> None:
    response = await api.get("/clients/DITBINMAS")
    assert response.status_code == 200
    assert response.json() | {"whatsapp_groups": None} == {
        "client_id": "DITBINMAS", "name": "Direktorat Binmas", "client_type": "DIREKTORAT", "active": True,
        "instagram_username": None, "instagram_enabled": False, "tiktok_username": None, "tiktok_enabled": False,
        "whatsapp_groups": None, "parent_client_id": None, "region": None}


async def test_a_clients_personnel_without_contact_details(api: httpx.AsyncClient) -> None:
    everyone = (await api.get("/clients/POLRES_A/personnel")).json()
    assert [p["user_id"] for p in everyone] == ["1001", "1002", "1003", "1004", "1005", "1006", "1007"]
    assert "whatsapp" not in everyone[0] and "email" not in everyone[0]
    assert everyone[0]["roles"] == ["ditbinmas"]
    active = (await api.get("/clients/POLRES_A/personnel", params={"active": "true"})).json()
    assert "1007" not in [p["user_id"] for p in active] and len(active) == 6


async def test_one_person(api: httpx.AsyncClient) -> None:
    person = (await api.get("/personnel/1004")).json()
    assert (person["name"], person["exempt"], person["jabatan"]) == ("Dedi", True, "KANIT BINMAS")


# -- posts and attendance ---------------------------------------------------------------------------------


async def test_a_clients_posts_for_a_day(api: httpx.AsyncClient) -> None:
    posts = (await api.get("/clients/POLRES_A/posts", params={"date": DAY})).json()
    assert [p["post_id"] for p in posts] == ["IGA1", "TTA1", "IGA2"]  # upload order across platforms
    assert posts[0]["published_at"] == "2026-11-22T01:15:00Z" and posts[0]["like_count"] == 1200
    with_removed = (await api.get("/clients/POLRES_A/posts", params={"date": DAY, "include_removed": "true"})).json()
    assert [p["post_id"] for p in with_removed][-1] == "IGA3" and with_removed[-1]["removed_at"] is not None
    assert (await api.get("/clients/POLRES_A/posts", params={"date": "2026-11-24"})).json() == []


async def test_attendance_by_client_and_day(api: httpx.AsyncClient) -> None:
    rows = (await api.get("/clients/POLRES_A/attendance", params={"date": DAY, "platform": "tiktok"})).json()
    assert [(r["user_id"], r["status"], r["done"], r["total"]) for r in rows] == [
        ("1001", "complete", 1, 1), ("1002", "no_username", 0, 1), ("1003", "complete", 1, 1),
        ("1004", "exempt", 0, 1), ("1005", "none", 0, 1), ("1006", "none", 0, 1)]
    both = (await api.get("/clients/POLRES_A/attendance", params={"date": DAY})).json()
    assert len(both) == 12
    page = (await api.get("/clients/POLRES_A/attendance", params={"date": DAY, "limit": 2, "offset": 1})).json()
    assert [(r["user_id"], r["platform"]) for r in page] == [("1001", "tiktok"), ("1002", "instagram")]
    directorate = (await api.get("/clients/DITBINMAS/attendance", params={"date": DAY})).json()
    assert {(r["user_id"], r["client_id"]) for r in directorate} == {
        ("1001", "POLRES_A"), ("1003", "POLRES_A"), ("2001", "POLRES_B"), ("3001", "DITBINMAS")}


async def test_a_persons_status_for_a_day(api: httpx.AsyncClient) -> None:
    rows = (await api.get("/personnel/1001/attendance", params={"date": DAY})).json()
    assert [(r["scope_client_id"], r["platform"], r["status"], r["done"], r["total"]) for r in rows] == [
        ("DITBINMAS", "instagram", "complete", 1, 2), ("POLRES_A", "instagram", "complete", 2, 2),
        ("POLRES_A", "tiktok", "complete", 1, 1)]
    assert (await api.get("/personnel/1007/attendance", params={"date": DAY})).json() == []


# -- reports ----------------------------------------------------------------------------------------------


async def test_reports_as_json(api: httpx.AsyncClient) -> None:
    client = (await api.get("/clients/POLRES_A/reports/client", params={"date": DAY})).json()
    assert client["kind"] == "client" and client["platforms"][0]["counts"]["people"] == 6
    directorate = (await api.get("/clients/DITBINMAS/reports/directorate", params={"date": DAY})).json()
    assert [c["client_id"] for c in directorate["platforms"][0]["clients"]] == ["DITBINMAS", "POLRES_B", "POLRES_A"]
    post = (await api.get("/clients/POLRES_A/reports/post", params={"date": DAY})).json()
    assert [p["engaged"] for p in post["platforms"][0]["posts"]] == [2, 2]
    person = (await api.get("/clients/POLRES_A/reports/person", params={"date": DAY, "user_id": "1002"})).json()
    assert [len(s["pending"]) for s in person["scopes"]] == [1, 1]


async def test_a_report_as_whatsapp_text(api: httpx.AsyncClient) -> None:
    response = await api.get("/clients/POLRES_C/reports/client", params={"date": DAY, "format": "text"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert lines[:5] == ["Mohon ijin Komandan,", "", "*Rekap Absensi Likes Instagram & Komentar TikTok*",
                         "*Polres Charlie*", "Minggu, 22 November 2026"]
    assert lines[-1] == "Tidak ada konten TikTok yang perlu dikomentari pada Minggu, 22 November 2026."


# -- errors -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "params", "message"), [
    ("/clients/POLRES_X", {}, "unknown client 'POLRES_X'"),
    ("/clients/POLRES_X/personnel", {}, "unknown client 'POLRES_X'"),
    ("/clients/POLRES_X/posts", {"date": DAY}, "unknown client 'POLRES_X'"),
    ("/clients/POLRES_X/attendance", {"date": DAY}, "unknown client 'POLRES_X'"),
    ("/clients/POLRES_X/reports/client", {"date": DAY}, "unknown client 'POLRES_X'"),
    ("/personnel/4242", {}, "unknown user '4242'"),
    ("/personnel/4242/attendance", {"date": DAY}, "unknown user '4242'"),
    ("/clients/POLRES_A/reports/person", {"date": DAY, "user_id": "4242"}, "unknown user '4242'"),
    ("/clients/POLRES_B/reports/person", {"date": DAY, "user_id": "1001"},
     "user 1001 is neither personnel of POLRES_B nor holds its role 'polres_b'"),
    ("/nowhere", {}, "Not Found"),
])
async def test_unknown_ids_are_404(api: httpx.AsyncClient, path: str, params: dict[str, str], message: str) -> None:
    response = await api.get(path, params=params)
    assert (response.status_code, detail(response)) == (404, message)


async def test_a_directorate_recap_of_an_org_client_is_400(api: httpx.AsyncClient) -> None:
    response = await api.get("/clients/POLRES_A/reports/directorate", params={"date": DAY})
    assert response.status_code == 400
    assert detail(response) == "a directorate report needs a DIREKTORAT client, but POLRES_A is an ORG client"


@pytest.mark.parametrize(("path", "params", "message"), [
    ("/clients/polres_a", {}, "String should match pattern '^[A-Z0-9_]{2,64}$'"),
    ("/clients/A", {}, "String should match pattern"),
    ("/personnel/12ab", {}, "String should match pattern '^[0-9]{1,32}$'"),
    ("/clients", {"type": "SATKER"}, "Input should be 'ORG' or 'DIREKTORAT'"),
    ("/clients", {"active": "maybe"}, "Input should be a valid boolean"),
    ("/clients/POLRES_A/posts", {"date": "22-11-2026"}, "query.date: Input should be a valid date"),
    ("/clients/POLRES_A/posts", {"date": "2026-02-30"}, "day value is outside expected range"),
    ("/clients/POLRES_A/attendance", {"platform": "facebook"}, "Input should be 'instagram' or 'tiktok'"),
    ("/clients/POLRES_A/attendance", {"limit": "0"}, "Input should be greater than or equal to 1"),
    ("/clients/POLRES_A/attendance", {"offset": "-1"}, "Input should be greater than or equal to 0"),
    ("/clients/POLRES_A/reports/weekly", {}, "Input should be 'client', 'directorate', 'post' or 'person'"),
    ("/clients/POLRES_A/reports/client", {"format": "pdf"}, "Input should be 'json' or 'text'"),
    ("/clients/POLRES_A/reports/person", {"date": DAY}, "query.user_id: a person report needs a user id"),
    ("/clients/POLRES_A/reports/person", {"user_id": "x1"}, "String should match pattern '^[0-9]{1,32}$'"),
])
async def test_malformed_parameters_are_422_saying_what_is_wrong(
    api: httpx.AsyncClient, path: str, params: dict[str, str], message: str,
) -> None:
    response = await api.get(path, params=params)
    assert response.status_code == 422
    assert message in detail(response)


async def test_the_openapi_document_lists_every_endpoint(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    assert sorted(document["paths"]) == [
        "/clients", "/clients/{client_id}", "/clients/{client_id}/attendance", "/clients/{client_id}/personnel",
        "/clients/{client_id}/posts", "/clients/{client_id}/reports/{kind}", "/personnel/{user_id}",
        "/personnel/{user_id}/attendance"]
    report = document["paths"]["/clients/{client_id}/reports/{kind}"]["get"]["responses"]
    assert sorted(report) == ["200", "400", "404", "422"]
    assert sorted(report["200"]["content"]) == ["application/json", "text/plain"]


# -- the server in the service ----------------------------------------------------------------------------


def service_for(database_url: str, schema: str, namespace: str, amqp_url: str, port: int) -> AttendanceSettings:
    return service_settings(AttendanceSettings, database_url, schema, namespace, amqp_url=amqp_url,
                            api_host="127.0.0.1", api_port=port, health_port=0)


async def test_serve_api_serves_until_stopped(
    db: asyncpg.Pool, database_url: str, attendance_schema: str, namespace: str, amqp_url: str, bus_names: BusNames,
) -> None:
    port = free_port()
    settings = service_for(database_url, attendance_schema, namespace, amqp_url, port)
    async with started_service(build(settings)) as service, httpx.AsyncClient() as http:
        stop = asyncio.Event()
        task = asyncio.create_task(serve_api(service, stop))

        async def up() -> bool:
            try:
                return (await http.get(f"http://127.0.0.1:{port}/clients/POLRES_B")).status_code == 200
            except httpx.TransportError:
                return False

        await wait_for(up, what="the read API to answer")
        assert (await http.get(f"http://127.0.0.1:{port}/clients/POLRES_B")).json()["name"] == "Polres Bravo"
        stop.set()
        await asyncio.wait_for(task, 10)
        with pytest.raises(httpx.TransportError):
            await http.get(f"http://127.0.0.1:{port}/clients")


async def test_api_port_0_turns_the_api_off(
    database_url: str, attendance_schema: str, namespace: str, amqp_url: str, bus_names: BusNames,
) -> None:
    settings = service_for(database_url, attendance_schema, namespace, amqp_url, 0)
    async with started_service(build(settings)) as service:
        stop = asyncio.Event()
        await asyncio.wait_for(serve_api(service, stop), 5)  # returns at once, without waiting for stop
        assert not stop.is_set()


async def test_a_port_already_taken_stops_the_service(
    database_url: str, attendance_schema: str, namespace: str, amqp_url: str, bus_names: BusNames,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings = service_for(database_url, attendance_schema, namespace, amqp_url, taken.getsockname()[1])
        async with started_service(build(settings)) as service:
            stop = asyncio.Event()
            await asyncio.wait_for(serve_api(service, stop), 10)
            assert stop.is_set()
