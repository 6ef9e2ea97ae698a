"""Run-time change endpoints under ``/_sim/instagram`` and ``/_sim/tiktok`` (see ``changes.py``).

No API key, JSON in and out. Bodies use the dataset file's shapes; errors answer
``{"error": "<what was wrong>", "detail": ...}`` with 422 (bad body), 404 (unknown account/post/video) or
409 (already exists).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from . import changes
from .proxy import ADMIN_PREFIX, sim_state
from .state import SimState

router = APIRouter(prefix=ADMIN_PREFIX)


async def _run(
    request: Request, change: Callable[[SimState, Any], dict[str, Any]], status_code: int = 200
) -> JSONResponse:
    raw = await request.body()
    if not raw.strip():
        return JSONResponse({"error": "the request body is empty: send a JSON object"}, status_code=422)
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return JSONResponse({"error": "the request body is not JSON"}, status_code=422)
    try:
        result = change(sim_state(request), body)
    except changes.ChangeError as exc:
        return JSONResponse(exc.as_json(), status_code=exc.status_code)
    return JSONResponse(result, status_code=status_code)


def _no_body(request: Request, change: Callable[[SimState], dict[str, Any]]) -> JSONResponse:
    try:
        return JSONResponse(change(sim_state(request)))
    except changes.ChangeError as exc:
        return JSONResponse(exc.as_json(), status_code=exc.status_code)


# --- Instagram -------------------------------------------------------------------------------------------


@router.post("/instagram/accounts")
async def add_ig_account(request: Request) -> JSONResponse:
    return await _run(request, changes.add_ig_account, 201)


@router.post("/instagram/accounts/{account}/posts")
async def add_ig_post(request: Request, account: str) -> JSONResponse:
    return await _run(request, lambda state, body: changes.add_ig_post(state, account, body), 201)


@router.delete("/instagram/posts/{ref}")
async def remove_ig_post(request: Request, ref: str) -> JSONResponse:
    return _no_body(request, lambda state: changes.remove_ig_post(state, ref))


@router.post("/instagram/posts/{ref}/likers")
async def add_ig_likers(request: Request, ref: str) -> JSONResponse:
    return await _run(request, lambda state, body: changes.add_ig_likers(state, ref, body))


@router.post("/instagram/posts/{ref}/comments")
async def add_ig_comments(request: Request, ref: str) -> JSONResponse:
    return await _run(request, lambda state, body: changes.add_ig_comments(state, ref, body))


@router.patch("/instagram/posts/{ref}")
async def set_ig_counts(request: Request, ref: str) -> JSONResponse:
    return await _run(request, lambda state, body: changes.set_ig_counts(state, ref, body))


# --- TikTok ----------------------------------------------------------------------------------------------


@router.post("/tiktok/accounts")
async def add_tt_account(request: Request) -> JSONResponse:
    return await _run(request, changes.add_tt_account, 201)


@router.post("/tiktok/accounts/{account}/videos")
async def add_tt_video(request: Request, account: str) -> JSONResponse:
    return await _run(request, lambda state, body: changes.add_tt_video(state, account, body), 201)


@router.delete("/tiktok/videos/{video_id}")
async def remove_tt_video(request: Request, video_id: str) -> JSONResponse:
    return _no_body(request, lambda state: changes.remove_tt_video(state, video_id))


@router.post("/tiktok/videos/{video_id}/comments")
async def add_tt_comments(request: Request, video_id: str) -> JSONResponse:
    return await _run(request, lambda state, body: changes.add_tt_comments(state, video_id, body))


@router.patch("/tiktok/videos/{video_id}")
async def set_tt_stats(request: Request, video_id: str) -> JSONResponse:
    return await _run(request, lambda state, body: changes.set_tt_stats(state, video_id, body))
