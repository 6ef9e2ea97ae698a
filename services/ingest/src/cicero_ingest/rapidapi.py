"""HTTP adapter for the two RapidAPI platforms (RAPIDAPI.md). Timeouts on every call, page limits on loops."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from cicero_ingest.posts import FetchedPost, MalformedItem, instagram_post, is_older_than_day, tiktok_post
from cicero_ingest.settings import IngestSettings


class PlatformError(RuntimeError):
    """The platform answered with an error or a body we cannot read."""


class RapidApiClient:
    def __init__(self, settings: IngestSettings, client: httpx.AsyncClient | None = None) -> None:
        self._settings = settings
        self._client = client or httpx.AsyncClient(timeout=settings.http_timeout_s)

    async def close(self) -> None:
        await self._client.aclose()

    async def _get(self, base_url: str, host: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        response = await self._client.get(
            base_url.rstrip("/") + path,
            params=params,
            headers={"X-RapidAPI-Key": self._settings.rapidapi_key, "X-RapidAPI-Host": host,
                     "x-cache-control": "no-cache"},
        )
        if response.status_code != 200:
            raise PlatformError(f"GET {path} answered {response.status_code}: {response.text[:200]}")
        try:
            body = response.json()
        except ValueError as exc:
            raise PlatformError(f"GET {path}: body is not JSON") from exc
        if not isinstance(body, dict):
            raise PlatformError(f"GET {path}: body is not an object")
        return body

    async def instagram_posts(self, username: str, day: date) -> list[FetchedPost]:
        s = self._settings
        posts: list[FetchedPost] = []
        token: str | None = None
        for _ in range(s.max_pages):
            params = {"username_or_id_or_url": username} | ({"pagination_token": token} if token else {})
            body = await self._get(s.instagram_base_url, s.instagram_host, "/v1/posts", params)
            data = body.get("data") or {}
            items = (data.get("items") if isinstance(data, dict) else None) or []
            if not isinstance(items, list):
                raise PlatformError("GET /v1/posts: data.items is not a list")
            page = [instagram_post(i) for i in items]
            posts.extend(page)
            token = body.get("pagination_token") or None
            if not token or any(is_older_than_day(p, day) for p in page):
                break
        return posts

    async def tiktok_sec_uid(self, username: str) -> str:
        s = self._settings
        body = await self._get(s.tiktok_base_url, s.tiktok_host, "/api/user/info", {"uniqueId": username})
        try:
            return str(body["userInfo"]["user"]["secUid"])
        except (KeyError, TypeError) as exc:
            raise PlatformError(f"tiktok user {username!r} not found") from exc

    async def tiktok_posts(self, username: str, sec_uid: str, day: date) -> list[FetchedPost]:
        s = self._settings
        posts: list[FetchedPost] = []
        cursor: str = "0"
        for _ in range(s.max_pages):
            body = await self._get(s.tiktok_base_url, s.tiktok_host, "/api/user/posts",
                                   {"secUid": sec_uid, "count": 35, "cursor": cursor})
            data = body.get("data") if isinstance(body.get("data"), dict) else body
            assert isinstance(data, dict)
            items = data.get("itemList") or body.get("itemList") or []
            if not isinstance(items, list):
                raise PlatformError("GET /api/user/posts: itemList is not a list")
            page = [tiktok_post(i, username) for i in items]
            posts.extend(page)
            if not data.get("hasMore") or any(is_older_than_day(p, day) for p in page):
                break
            cursor = str(data.get("cursor") or "")
            if not cursor:
                break
        return posts


__all__ = ["MalformedItem", "PlatformError", "RapidApiClient"]
