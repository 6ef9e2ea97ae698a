"""TikTok endpoints in the shape of ``tiktok-api23.p.rapidapi.com`` (see RAPIDAPI.md).

Cursors are plain offsets, as on the real API. Unknown users and videos answer 200 with TikTok's own
"does not exist" status codes (``statusCode`` 10202 for a user, 10204 for a video) and empty objects,
because that is what the real API does instead of a 404; list endpoints simply return empty lists.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from .errors import invalid_param, missing_params
from .paging import parse_offset
from .proxy import serve_page, sim_state

router = APIRouter()

USER_NOT_FOUND = 10202
ITEM_NOT_FOUND = 10204


def _count(raw: str, default: int, maximum: int) -> int:
    if raw == "":
        return default
    return max(1, min(int(raw), maximum))


@router.get("/api/user/info", response_model=None)
async def user_info(request: Request, uniqueId: str = "") -> dict[str, Any] | JSONResponse:
    if not uniqueId.strip():
        return missing_params()
    account = sim_state(request).world.find_tt_account(uniqueId)
    if account is None:
        return {"userInfo": {}, "statusCode": USER_NOT_FOUND, "statusMsg": "user not exist"}
    return {
        "userInfo": {
            "user": {
                "id": account.user_id,
                "uniqueId": account.unique_id,
                "secUid": account.sec_uid,
                "nickname": account.nickname,
                "privateAccount": False,
            },
            "stats": {"videoCount": len(account.videos)},
        },
        "statusCode": 0,
    }


@router.get("/api/user/posts", response_model=None)
async def user_posts(
    request: Request,
    secUid: str = "",
    count: str = "",
    cursor: str = "",
) -> dict[str, Any] | JSONResponse:
    if not secUid.strip():
        return missing_params()
    state = sim_state(request)
    try:
        size = _count(count, state.settings.tt_posts_max_count, state.settings.tt_posts_max_count)
        offset = parse_offset(cursor)
    except ValueError:
        return invalid_param("count or cursor")
    account = state.world.tt_by_sec_uid.get(secUid.strip())
    if account is None:
        return {"data": {"cursor": "0", "hasMore": False, "itemList": []}, "statusCode": 0}
    page = serve_page(request, account.videos, offset, size)
    return {
        "data": {
            "cursor": str(page.next_offset),
            "hasMore": page.has_more,
            "itemList": [video.item for video in page.items],
        },
        "statusCode": 0,
    }


@router.get("/api/post/comments", response_model=None)
async def post_comments(
    request: Request,
    videoId: str = "",
    count: str = "",
    cursor: str = "",
) -> dict[str, Any] | JSONResponse:
    if not videoId.strip():
        return missing_params()
    state = sim_state(request)
    try:
        size = _count(count, state.settings.tt_comments_max_count, state.settings.tt_comments_max_count)
        offset = parse_offset(cursor)
    except ValueError:
        return invalid_param("count or cursor")
    video = state.world.tt_videos.get(videoId.strip())
    all_comments = video.comments if video is not None else []
    page = serve_page(request, all_comments, offset, size)
    return {
        "comments": page.items,
        "cursor": page.next_offset,
        "has_more": 1 if page.has_more else 0,
        "total": len(all_comments),
        "status_code": 0,
    }


@router.get("/api/post/detail", response_model=None)
async def post_detail(request: Request, videoId: str = "") -> dict[str, Any] | JSONResponse:
    if not videoId.strip():
        return missing_params()
    video = sim_state(request).world.tt_videos.get(videoId.strip())
    if video is None:
        return {"itemInfo": {}, "statusCode": ITEM_NOT_FOUND, "statusMsg": "item doesn't exist"}
    return {"itemInfo": {"itemStruct": video.item}, "statusCode": 0}
