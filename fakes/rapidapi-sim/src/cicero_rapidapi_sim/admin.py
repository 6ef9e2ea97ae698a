"""Control endpoints under ``/_sim`` for tests that drive the simulator over HTTP (e.g. in Docker).

They need no API key: they are not part of the simulated platform, and a test should be able to reset the
simulator even when it is exercising key failover.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from .dataset import parse_dataset
from .faults import FaultSpec
from .proxy import ADMIN_PREFIX, sim_state
from .world import World

router = APIRouter(prefix=ADMIN_PREFIX)

_FAULTS = TypeAdapter(FaultSpec | list[FaultSpec])


def summary(world: World) -> dict[str, Any]:
    ig = {a.username: len(a.posts) for a in world.ig_accounts.values()}
    tt = {a.unique_id: len(a.videos) for a in world.tt_by_unique_id.values()}
    return {"today": world.today.isoformat(), "instagram_posts": ig, "tiktok_videos": tt}


_INVALID = object()


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _INVALID


def _invalid(detail: Any) -> JSONResponse:
    return JSONResponse({"error": "invalid request", "detail": detail}, status_code=422)


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.post("/faults", response_model=None)
async def add_faults(request: Request) -> dict[str, Any] | JSONResponse:
    body = await _json_body(request)
    if body is _INVALID:
        return _invalid("body is not JSON")
    try:
        parsed = _FAULTS.validate_python(body)
    except ValidationError as exc:
        return _invalid(json.loads(exc.json(include_url=False)))
    specs = parsed if isinstance(parsed, list) else [parsed]
    faults = sim_state(request).faults
    for spec in specs:
        faults.add(spec)
    return {"queued": len(specs), "pending": faults.pending()}


@router.get("/faults")
async def list_faults(request: Request) -> dict[str, Any]:
    return {"pending": sim_state(request).faults.pending()}


@router.delete("/faults")
async def clear_faults(request: Request) -> dict[str, Any]:
    sim_state(request).faults.clear()
    return {"pending": []}


@router.get("/requests")
async def requests(request: Request) -> dict[str, Any]:
    faults = sim_state(request).faults
    return {
        "total": faults.total(),
        "paths": faults.counts(),
        "log": [record.as_json() for record in faults.log()],
    }


@router.delete("/requests")
async def reset_requests(request: Request) -> dict[str, Any]:
    sim_state(request).faults.reset_requests()
    return {"total": 0, "paths": {}}


@router.get("/dataset")
async def dataset_summary(request: Request) -> dict[str, Any]:
    return summary(sim_state(request).world)


@router.post("/dataset", response_model=None)
async def replace_dataset(request: Request, today: str = "") -> dict[str, Any] | JSONResponse:
    """Same JSON as the dataset file; ``?today=YYYY-MM-DD`` also moves the simulated day."""
    try:
        new_today = date.fromisoformat(today) if today else None
    except ValueError:
        return _invalid(f"today must be YYYY-MM-DD, got {today!r}")
    body = await _json_body(request)
    if body is _INVALID:
        return _invalid("body is not JSON")
    try:
        dataset = parse_dataset(body)
    except ValidationError as exc:
        return _invalid(json.loads(exc.json(include_url=False)))
    world = sim_state(request).replace_dataset(dataset, new_today)
    return summary(world)
