"""The read API for dashboards (DOMAIN §4): the directory, task posts, attendance rows and recaps over HTTP.

Read-only, JSON with an OpenAPI document (``/openapi.json``, ``/docs``). Every parameter is validated before
a query runs, so a bad request is a 4xx that says what is wrong — 422 for a malformed parameter, 404 for an
unknown client or person, 400 for a report kind the client's type does not have — and never a 500.
WhatsApp numbers and e-mail addresses are not served: the API has no authentication of its own.

It runs inside the service (``serve_api``, a background task on the service's pool), so it reads the tables
the projection writes without another process or connection pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

import asyncpg
import uvicorn
from cicero_contracts.base import UtcDatetime
from cicero_contracts.events.common import Platform
from cicero_contracts.events.directory import CLIENT_ID_PATTERN, USER_ID_PATTERN, ClientType
from cicero_runtime.clock import utc_now, wib_date
from cicero_runtime.service import Service
from fastapi import FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict

from cicero_attendance.read_model import load_report
from cicero_attendance.report_text import render_report
from cicero_attendance.reports import (
    ClientReport,
    DirectorateReport,
    PersonNotInClient,
    PersonReport,
    PersonStatus,
    PostReport,
    Report,
    ReportError,
    ReportKind,
    UnknownClient,
    UnknownUser,
    UserRequired,
    WrongClientType,
)
from cicero_attendance.settings import AttendanceSettings

log = logging.getLogger(__name__)

ClientId = Annotated[str, Path(pattern=CLIENT_ID_PATTERN, description="Client id, e.g. POLRES_A or DITBINMAS",
                               examples=["POLRES_A"])]
UserId = Annotated[str, Path(pattern=USER_ID_PATTERN, description="NRP/NIP, digits only", examples=["1001"])]
Day = Annotated[date | None, Query(alias="date", description="WIB day (YYYY-MM-DD); default today in WIB")]


class ReportFormat(StrEnum):
    JSON = "json"
    TEXT = "text"


class ApiModel(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorOut(ApiModel):
    detail: str


class ClientOut(ApiModel):
    client_id: str
    name: str
    client_type: ClientType
    active: bool
    instagram_username: str | None
    instagram_enabled: bool
    tiktok_username: str | None
    tiktok_enabled: bool
    whatsapp_groups: list[str]
    parent_client_id: str | None
    region: str | None


class PersonnelOut(ApiModel):
    user_id: str
    name: str
    title: str | None
    divisi: str | None
    jabatan: str | None
    client_id: str
    roles: list[str]
    instagram: str | None
    tiktok: str | None
    active: bool
    exempt: bool
    wa_reminder_opt_in: bool


class PostOut(ApiModel):
    platform: Platform
    post_id: str
    client_id: str
    wib_date: date
    link: str
    caption: str
    published_at: UtcDatetime
    source_type: str
    like_count: int
    comment_count: int
    removed_at: UtcDatetime | None


class AttendanceOut(PersonStatus):
    """A person's row as the reports show it, with the scope, day and platform it belongs to."""

    scope_client_id: str
    wib_date: date
    platform: Platform


CLIENT_COLUMNS = ", ".join(ClientOut.model_fields)
PERSONNEL_COLUMNS = ", ".join(PersonnelOut.model_fields)
POST_COLUMNS = ", ".join(PostOut.model_fields)
ATTENDANCE_SELECT = """
    SELECT a.scope_client_id, a.wib_date, a.platform, a.user_id, p.name, p.title, p.divisi, p.jabatan, p.client_id,
           a.status, a.done, a.total
    FROM attendance a JOIN personnel p ON p.user_id = a.user_id"""

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut, "description": "Unknown client or person"}}
ERROR_STATUS: dict[type[ReportError], int] = {
    UnknownClient: 404, UnknownUser: 404, PersonNotInClient: 404, WrongClientType: 400,
}


def _day(day: date | None) -> date:
    return day if day is not None else wib_date(utc_now())


def create_app(pool: asyncpg.Pool, settings: AttendanceSettings) -> FastAPI:
    """The API over ``pool`` (the service's schema). ``settings`` is kept for what the handlers may need."""
    app = FastAPI(
        title="Cicero attendance read API",
        version="1",
        description="Clients, personnel, task posts, attendance rows and recaps (DOMAIN §4), read-only.",
    )
    app.state.settings = settings

    @app.exception_handler(ReportError)
    async def report_error(request: Request, exc: ReportError) -> Response:
        if isinstance(exc, UserRequired):
            # a missing conditional parameter is a validation error, shaped like FastAPI's own
            return JSONResponse(status_code=422, content={"detail": [
                {"type": "missing", "loc": ["query", "user_id"], "msg": str(exc), "input": None}]})
        return JSONResponse(status_code=ERROR_STATUS.get(type(exc), 400), content={"detail": str(exc)})

    @app.exception_handler(asyncpg.PostgresConnectionError)
    @app.exception_handler(OSError)
    async def database_unavailable(request: Request, exc: Exception) -> Response:
        log.warning("read API: database unavailable: %s", exc)
        return JSONResponse(status_code=503, content={"detail": "database unavailable, try again"})

    async def client_exists(conn: asyncpg.Connection, client_id: str) -> None:
        if not await conn.fetchval("SELECT 1 FROM clients WHERE client_id = $1", client_id):
            raise UnknownClient(client_id)

    @app.get("/clients", response_model=list[ClientOut], tags=["directory"])
    async def list_clients(
        active: Annotated[bool | None, Query(description="only active (true) or inactive (false) clients")] = None,
        client_type: Annotated[ClientType | None, Query(alias="type")] = None,
    ) -> list[ClientOut]:
        rows = await pool.fetch(
            f"""SELECT {CLIENT_COLUMNS} FROM clients
                WHERE ($1::boolean IS NULL OR active = $1) AND ($2::text IS NULL OR client_type = $2)
                ORDER BY client_id""", active, client_type.value if client_type else None)
        return [ClientOut(**dict(r)) for r in rows]

    @app.get("/clients/{client_id}", response_model=ClientOut, responses=NOT_FOUND, tags=["directory"])
    async def get_client(client_id: ClientId) -> ClientOut:
        row = await pool.fetchrow(f"SELECT {CLIENT_COLUMNS} FROM clients WHERE client_id = $1", client_id)
        if row is None:
            raise UnknownClient(client_id)
        return ClientOut(**dict(row))

    @app.get("/clients/{client_id}/personnel", response_model=list[PersonnelOut], responses=NOT_FOUND,
             tags=["directory"])
    async def list_personnel(
        client_id: ClientId, active: Annotated[bool | None, Query(description="filter on the active flag")] = None,
    ) -> list[PersonnelOut]:
        async with pool.acquire() as conn:
            await client_exists(conn, client_id)
            rows = await conn.fetch(
                f"""SELECT {PERSONNEL_COLUMNS} FROM personnel
                    WHERE client_id = $1 AND ($2::boolean IS NULL OR active = $2) ORDER BY user_id""",
                client_id, active)
        return [PersonnelOut(**dict(r)) for r in rows]

    @app.get("/personnel/{user_id}", response_model=PersonnelOut, responses=NOT_FOUND, tags=["directory"])
    async def get_person(user_id: UserId) -> PersonnelOut:
        row = await pool.fetchrow(f"SELECT {PERSONNEL_COLUMNS} FROM personnel WHERE user_id = $1", user_id)
        if row is None:
            raise UnknownUser(user_id)
        return PersonnelOut(**dict(row))

    @app.get("/clients/{client_id}/posts", response_model=list[PostOut], responses=NOT_FOUND, tags=["posts"])
    async def list_posts(
        client_id: ClientId, day: Day = None,
        include_removed: Annotated[bool, Query(description="also posts taken down that day")] = False,
    ) -> list[PostOut]:
        async with pool.acquire() as conn:
            await client_exists(conn, client_id)
            rows = await conn.fetch(
                f"""SELECT {POST_COLUMNS} FROM posts
                    WHERE client_id = $1 AND wib_date = $2 AND ($3 OR removed_at IS NULL)
                    ORDER BY published_at, platform, post_id""", client_id, _day(day), include_removed)
        return [PostOut(**dict(r)) for r in rows]

    @app.get("/clients/{client_id}/attendance", response_model=list[AttendanceOut], responses=NOT_FOUND,
             tags=["attendance"])
    async def client_attendance(
        client_id: ClientId, day: Day = None, platform: Platform | None = None,
        limit: Annotated[int, Query(ge=1, le=50_000, description="rows per page")] = 5_000,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ) -> list[AttendanceOut]:
        """The scope's rows (for a directorate: everyone holding its role), by user id then platform."""
        async with pool.acquire() as conn:
            await client_exists(conn, client_id)
            rows = await conn.fetch(
                ATTENDANCE_SELECT + """ WHERE a.scope_client_id = $1 AND a.wib_date = $2
                                        AND ($3::text IS NULL OR a.platform = $3)
                                        ORDER BY a.user_id, a.platform LIMIT $4 OFFSET $5""",
                client_id, _day(day), platform.value if platform else None, limit, offset)
        return [AttendanceOut(**dict(r)) for r in rows]

    @app.get("/personnel/{user_id}/attendance", response_model=list[AttendanceOut], responses=NOT_FOUND,
             tags=["attendance"])
    async def person_attendance(user_id: UserId, day: Day = None) -> list[AttendanceOut]:
        """The person's status in each of their scopes (home client, directorates by role) for the day."""
        async with pool.acquire() as conn:
            if not await conn.fetchval("SELECT 1 FROM personnel WHERE user_id = $1", user_id):
                raise UnknownUser(user_id)
            rows = await conn.fetch(ATTENDANCE_SELECT + """ WHERE a.user_id = $1 AND a.wib_date = $2
                                                            ORDER BY a.scope_client_id, a.platform""",
                                    user_id, _day(day))
        return [AttendanceOut(**dict(r)) for r in rows]

    @app.get(
        "/clients/{client_id}/reports/{kind}", response_model=Report, tags=["reports"],
        responses={
            200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                  "description": "The report: JSON, or the WhatsApp text with format=text"},
            400: {"model": ErrorOut, "description": "A directorate recap asked for an ORG client"},
            **NOT_FOUND,
        },
    )
    async def get_report(
        client_id: ClientId, kind: ReportKind, day: Day = None,
        user_id: Annotated[str | None, Query(pattern=USER_ID_PATTERN, description="required for kind=person")
                           ] = None,
        fmt: Annotated[ReportFormat, Query(alias="format")] = ReportFormat.JSON,
    ) -> Response | ClientReport | DirectorateReport | PostReport | PersonReport:
        """A recap as the groups receive it (``format=text``) or as data (JSON, every person with status)."""
        generated_at: datetime = utc_now()
        async with pool.acquire() as conn:
            report = await load_report(conn, kind, client_id, _day(day), generated_at, user_id)
        if fmt == ReportFormat.TEXT:
            return PlainTextResponse(render_report(report))
        return report

    return app


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside the service: the service owns SIGTERM/SIGINT, so uvicorn must not replace its handlers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_api(service: Service, stop: asyncio.Event) -> None:
    """Serve the read API on ``api_host:api_port`` until ``stop`` is set; ``api_port`` 0 turns it off.

    If the port cannot be bound the service stops (logged): running without its API would hide the fault.
    """
    settings = service.settings
    if not isinstance(settings, AttendanceSettings):
        raise TypeError(f"serve_api needs AttendanceSettings, got {type(settings).__name__}")
    if settings.api_port == 0:
        log.info("read API off (api_port = 0)")
        return
    config = uvicorn.Config(create_app(service.pool, settings), host=settings.api_host, port=settings.api_port,
                            log_config=None, access_log=False, lifespan="off")
    server = _EmbeddedServer(config)

    async def exit_on_stop() -> None:
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.create_task(exit_on_stop(), name="read-api-stop")
    try:
        await server.serve()
    except SystemExit:  # uvicorn exits the process when it cannot bind; the service decides instead
        log.error("read API could not listen on %s:%s; stopping the service", settings.api_host, settings.api_port)
        stop.set()
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
