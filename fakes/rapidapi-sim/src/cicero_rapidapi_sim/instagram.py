"""Instagram endpoints in the shape of ``social-api4.p.rapidapi.com`` (see RAPIDAPI.md).

Unknown accounts and posts answer the way the real API answers when it has nothing: an empty list with no
next-page token (posts, likes, comments) or a 404 (``post_info``, which has no list to leave empty).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from .errors import invalid_param, missing_params
from .paging import BadToken, decode_token, encode_token
from .proxy import serve_page, sim_state

router = APIRouter()


@router.get("/v1/posts", response_model=None)
async def posts(
    request: Request, username_or_id_or_url: str = "", pagination_token: str = ""
) -> dict[str, Any] | JSONResponse:
    if not username_or_id_or_url.strip():
        return missing_params()
    state = sim_state(request)
    account = state.world.find_ig_account(username_or_id_or_url)
    if account is None:
        return {"data": {"count": 0, "items": []}, "pagination_token": ""}
    scope = f"posts:{account.user_id}"
    try:
        offset = decode_token(pagination_token, scope)
    except BadToken:
        return invalid_param("pagination_token")
    page = serve_page(request, account.posts, offset, state.settings.ig_posts_page_size)
    return {
        "data": {"count": len(page.items), "items": [post.item for post in page.items]},
        "pagination_token": encode_token(scope, page.next_offset) if page.has_more else "",
    }


@router.get("/v1/likes", response_model=None)
async def likes(request: Request, code_or_id_or_url: str = "", cursor: str = "") -> dict[str, Any] | JSONResponse:
    if not code_or_id_or_url.strip():
        return missing_params()
    state = sim_state(request)
    post = state.world.find_ig_post(code_or_id_or_url)
    if post is None:
        return {"data": {"count": 0, "total": 0, "items": [], "next_cursor": "", "has_more": False}}
    scope = f"likes:{post.item['code']}"
    try:
        offset = decode_token(cursor, scope)
    except BadToken:
        return invalid_param("cursor")
    cap = state.settings.ig_likes_cap
    # Big posts list only part of their likers (SIM_LIKES_CAP); like_count on the post keeps the full figure.
    listed = post.likers if cap is None or cap >= len(post.likers) else post.likers[:cap]
    page = serve_page(request, listed, offset, state.settings.ig_likes_page_size)
    return {
        "data": {
            "count": len(page.items),
            "total": len(listed),
            "items": page.items,
            "next_cursor": encode_token(scope, page.next_offset) if page.has_more else "",
            "has_more": page.has_more,
        }
    }


@router.get("/v1/comments", response_model=None)
async def comments(
    request: Request, code_or_id_or_url: str = "", pagination_token: str = ""
) -> dict[str, Any] | JSONResponse:
    if not code_or_id_or_url.strip():
        return missing_params()
    state = sim_state(request)
    post = state.world.find_ig_post(code_or_id_or_url)
    if post is None:
        return {"data": {"count": 0, "total": 0, "items": []}, "pagination_token": ""}
    scope = f"comments:{post.item['code']}"
    try:
        offset = decode_token(pagination_token, scope)
    except BadToken:
        return invalid_param("pagination_token")
    page = serve_page(request, post.comments, offset, state.settings.ig_comments_page_size)
    return {
        "data": {"count": len(page.items), "total": len(post.comments), "items": page.items},
        "pagination_token": encode_token(scope, page.next_offset) if page.has_more else "",
    }


@router.get("/v1/post_info", response_model=None)
async def post_info(request: Request, code_or_id_or_url: str = "") -> dict[str, Any] | JSONResponse:
    if not code_or_id_or_url.strip():
        return missing_params()
    post = sim_state(request).world.find_ig_post(code_or_id_or_url)
    if post is None:
        return JSONResponse({"detail": "Media not found or unavailable"}, status_code=404)
    return {"data": post.item}
