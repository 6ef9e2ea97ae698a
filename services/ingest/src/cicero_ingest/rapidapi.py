"""HTTP adapter for the two RapidAPI platforms (RAPIDAPI.md).

Every request: a timeout, the RapidAPI headers, a slot of the shared request budget (``budget.py``), and the
retry/fail-over decisions of ``http_policy.py`` (429 → Retry-After, 5xx/network → bounded backoff, 401/403 →
the platform's fallback once, other 4xx → fail at once). A body that is not a JSON object is a
:class:`PlatformError`; a call that fails part-way through its pages raises instead of returning part of a
list. Every pagination loop is bounded (``max_pages`` for feeds, ``max_engagement_pages`` for likers and
comments) and stops on a repeated cursor; the result then says it is incomplete.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from cicero_contracts.events.common import Platform
from cicero_runtime.identifiers import normalize_username
from cicero_runtime.retry_after import parse_retry_after

from cicero_ingest.budget import Budget, BudgetExhausted, make_budget
from cicero_ingest.http_policy import Action, Kind, RetryPolicy, classify, decide
from cicero_ingest.posts import FetchedPost, MalformedItem, instagram_post, is_older_than_day, tiktok_post
from cicero_ingest.settings import IngestSettings

log = logging.getLogger(__name__)

TIKTOK_COMMENTS_PAGE = 50
"""Largest ``count`` the TikTok comments endpoint honours; offsets advance by it."""


class PlatformError(RuntimeError):
    """The platform answered with an error or a body we cannot read (``status`` when it answered at all)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    host: str
    key: str


@dataclass(frozen=True)
class Feed:
    """An account's posts; ``complete`` is false when paging stopped at its bound or on a repeated cursor,
    so posts missing from ``posts`` may simply not have been read."""

    posts: list[FetchedPost]
    complete: bool
    pages: int


@dataclass(frozen=True)
class Engagement:
    """Normalised, de-duplicated usernames in the order the platform listed them.

    ``complete`` is false when paging stopped at ``max_engagement_pages`` or on a repeated cursor (the
    platform may hold more). ``total`` is the count the platform reported, when it reported one.
    """

    usernames: tuple[str, ...]
    complete: bool
    pages: int
    total: int | None = None


@dataclass(frozen=True)
class _Page:
    usernames: list[str]
    has_more: bool
    next_cursor: Hashable | None
    total: int | None = None


def _endpoints(s: IngestSettings, platform: Platform) -> tuple[Endpoint, Endpoint | None]:
    if platform is Platform.INSTAGRAM:
        base, host = s.instagram_base_url, s.instagram_host
        fb_base, fb_host, fb_key = s.instagram_fallback_base_url, s.instagram_fallback_host, s.instagram_fallback_key
    else:
        base, host = s.tiktok_base_url, s.tiktok_host
        fb_base, fb_host, fb_key = s.tiktok_fallback_base_url, s.tiktok_fallback_host, s.tiktok_fallback_key
    primary = Endpoint(base, host, s.rapidapi_key)
    fallback = None
    if fb_key or fb_base:
        fallback = Endpoint(fb_base or base, fb_host or host, fb_key or s.rapidapi_key)
    return primary, fallback


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PlatformError(f"{what} is not an object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PlatformError(f"{what} is not a list")
    return value


def _cursor(value: Any, what: str) -> str | None:
    """A page token: absent/empty → None (last page); a string or number → its text."""
    if value is None or value == "" or value is False:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise PlatformError(f"{what} is not a page token: {value!r:.50}")


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _username(item: Any, what: str, *path: str) -> str:
    """``item`` is a plain username string, or an object holding one at ``path``."""
    if isinstance(item, str):
        return item
    value: Any = item
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    if not isinstance(value, str):
        raise PlatformError(f"{what} item without {'.'.join(path)}: {item!r:.100}")
    return value


class RapidApiClient:
    def __init__(
        self,
        settings: IngestSettings,
        client: httpx.AsyncClient | None = None,
        *,
        budget: Budget | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._settings = settings
        self._timeout = httpx.Timeout(settings.http_timeout_s)
        self._client = client or httpx.AsyncClient(timeout=self._timeout)
        self._owns_budget = budget is None
        self._budget = budget or make_budget(settings.redis_url, settings.rapidapi_rate_per_s,
                                             settings.budget_key_prefix, settings.budget_max_wait_s)
        self._jitter = jitter
        self._policy = RetryPolicy(
            max_attempts=settings.http_max_attempts,
            backoff_base_s=settings.http_backoff_base_s,
            backoff_max_s=settings.http_backoff_max_s,
            retry_after_max_s=settings.http_retry_after_max_s,
        )
        self._endpoints = {p: _endpoints(settings, p) for p in Platform}

    async def close(self) -> None:
        await self._client.aclose()
        if self._owns_budget:
            await self._budget.close()

    # --- one request, with the HTTP policy -------------------------------------------------------------

    async def _send(self, endpoint: Endpoint, path: str, params: dict[str, Any]) -> httpx.Response:
        request = self._client.build_request(
            "GET",
            endpoint.base_url.rstrip("/") + path,
            params=params,
            headers={"X-RapidAPI-Key": endpoint.key, "X-RapidAPI-Host": endpoint.host,
                     "x-cache-control": "no-cache"},
            timeout=self._timeout,
        )
        try:
            # httpx times each connect/read/write; this bounds the whole exchange (a trickling body too)
            async with asyncio.timeout(self._settings.http_timeout_s):
                return await self._client.send(request)
        except TimeoutError as exc:
            raise httpx.ReadTimeout(f"no complete answer within {self._settings.http_timeout_s}s",
                                    request=request) from exc

    async def _get(self, platform: Platform, path: str, params: dict[str, Any]) -> dict[str, Any]:
        primary, fallback = self._endpoints[platform]
        endpoint, on_fallback, failures = primary, False, 0
        while True:
            try:
                await self._budget.acquire(platform.value)
            except BudgetExhausted as exc:
                raise PlatformError(f"GET {path}: {exc}") from exc
            try:
                response = await self._send(endpoint, path, params)
            except httpx.TransportError as exc:
                failures += 1
                decision = decide(None, failures=failures, policy=self._policy, jitter=self._jitter())
                if decision.action is not Action.RETRY:
                    raise
                log.warning("GET %s failed (%r), retrying in %.2fs", path, exc, decision.delay_s,
                            extra={"platform": platform.value, "attempt": failures})
                await asyncio.sleep(decision.delay_s)
                continue
            status = response.status_code
            if classify(status) in (Kind.RATE_LIMITED, Kind.TRANSIENT):
                failures += 1
            decision = decide(
                status, failures=failures, policy=self._policy,
                retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
                can_fail_over=fallback is not None and not on_fallback, jitter=self._jitter(),
            )
            if decision.action is Action.SUCCEED:
                return self._json(path, response)
            if decision.action is Action.RETRY:
                log.warning("GET %s answered %s, retrying in %.2fs", path, status, decision.delay_s,
                            extra={"platform": platform.value, "attempt": failures})
                await asyncio.sleep(decision.delay_s)
                continue
            if decision.action is Action.FAIL_OVER and fallback is not None:
                log.warning("GET %s answered %s on the primary host, switching to the fallback", path, status,
                            extra={"platform": platform.value})
                endpoint, on_fallback = fallback, True
                continue
            where = " on the fallback host" if on_fallback else ""
            tries = f" after {failures} attempts" if failures > 1 else ""
            raise PlatformError(f"GET {path} answered {status}{where}{tries}: {response.text[:200]}",
                                status=status)

    @staticmethod
    def _json(path: str, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError both are
            raise PlatformError(f"GET {path}: body is not JSON", status=response.status_code) from exc
        if not isinstance(body, dict):
            raise PlatformError(f"GET {path}: body is not an object", status=response.status_code)
        return body

    # --- pagination ------------------------------------------------------------------------------------

    async def _collect(self, what: str, first: Hashable, fetch: Callable[[Any], Awaitable[_Page]]) -> Engagement:
        """Walk pages from ``first`` until the platform says there are no more, the bound, or a repeat."""
        limit = self._settings.max_engagement_pages
        names: dict[str, None] = {}
        requested: set[Hashable] = set()
        cursor: Hashable = first
        pages, total = 0, None
        while True:
            requested.add(cursor)
            page = await fetch(cursor)
            pages += 1
            for raw in page.usernames:
                if username := normalize_username(raw):
                    names.setdefault(username)
            total = page.total if page.total is not None else total
            stop = None
            if not page.has_more:
                return Engagement(tuple(names), True, pages, total)
            if page.next_cursor is None:
                stop = "more announced but no cursor"
            elif page.next_cursor in requested:
                stop = f"cursor {page.next_cursor!r:.40} repeated"
            elif pages >= limit:
                stop = f"page limit {limit} reached"
            if stop is not None:
                log.warning("%s: stopped paging, %s", what, stop, extra={"pages": pages, "usernames": len(names)})
                return Engagement(tuple(names), False, pages, total)
            cursor = page.next_cursor

    # --- Instagram -------------------------------------------------------------------------------------

    async def instagram_feed(self, username: str, day: date) -> Feed:
        """Newest first, until the first non-pinned post older than ``day`` (or the last page)."""
        posts: list[FetchedPost] = []
        token: str | None = None
        requested: set[str | None] = set()
        for pages in range(1, self._settings.max_pages + 1):
            requested.add(token)
            params = {"username_or_id_or_url": username} | ({"pagination_token": token} if token else {})
            body = await self._get(Platform.INSTAGRAM, "/v1/posts", params)
            data = _object(body.get("data") or {}, "GET /v1/posts: data")
            page = [instagram_post(i) for i in _list(data.get("items"), "GET /v1/posts: data.items")]
            posts.extend(page)
            token = _cursor(body.get("pagination_token"), "GET /v1/posts: pagination_token")
            if not token or any(is_older_than_day(p, day) for p in page):
                return Feed(posts, True, pages)
            if token in requested:
                log.warning("instagram feed %s: pagination token repeated, stopped", username)
                return Feed(posts, False, pages)
        log.warning("instagram feed %s: page limit %d reached", username, self._settings.max_pages)
        return Feed(posts, False, self._settings.max_pages)

    async def instagram_posts(self, username: str, day: date) -> list[FetchedPost]:
        return (await self.instagram_feed(username, day)).posts

    async def instagram_likers(self, shortcode: str) -> Engagement:
        path = "/v1/likes"

        async def page(cursor: str | None) -> _Page:
            params = {"code_or_id_or_url": shortcode} | ({"cursor": cursor} if cursor else {})
            data = _object((await self._get(Platform.INSTAGRAM, path, params)).get("data"), f"GET {path}: data")
            items = _list(data.get("items"), f"GET {path}: data.items")
            next_cursor = _cursor(data.get("next_cursor") or data.get("end_cursor"), f"GET {path}: next_cursor")
            has_more = bool(data.get("has_more", next_cursor is not None))
            return _Page([_username(i, f"GET {path}", "username") for i in items], has_more, next_cursor,
                         _count(data.get("total")))

        return await self._collect(f"instagram likers of {shortcode}", None, page)

    async def instagram_commenters(self, shortcode: str) -> Engagement:
        path = "/v1/comments"

        async def page(token: str | None) -> _Page:
            params = {"code_or_id_or_url": shortcode} | ({"pagination_token": token} if token else {})
            body = await self._get(Platform.INSTAGRAM, path, params)
            data = _object(body.get("data"), f"GET {path}: data")
            items = _list(data.get("items"), f"GET {path}: data.items")
            next_token = _cursor(body.get("pagination_token"), f"GET {path}: pagination_token")
            return _Page([_username(i, f"GET {path}", "user", "username") for i in items],
                         next_token is not None, next_token, _count(data.get("total")))

        return await self._collect(f"instagram commenters of {shortcode}", None, page)

    async def instagram_post_info(self, shortcode_or_link: str) -> FetchedPost:
        body = await self._get(Platform.INSTAGRAM, "/v1/post_info", {"code_or_id_or_url": shortcode_or_link})
        item = body.get("data")
        if not isinstance(item, dict) or not item:
            raise PlatformError(f"instagram post {shortcode_or_link!r} not found")
        return instagram_post(item)

    # --- TikTok ----------------------------------------------------------------------------------------

    async def tiktok_sec_uid(self, username: str) -> str:
        body = await self._get(Platform.TIKTOK, "/api/user/info", {"uniqueId": username})
        try:
            return str(body["userInfo"]["user"]["secUid"])
        except (KeyError, TypeError) as exc:
            raise PlatformError(f"tiktok user {username!r} not found") from exc

    async def tiktok_feed(self, username: str, sec_uid: str, day: date) -> Feed:
        posts: list[FetchedPost] = []
        cursor = "0"
        requested: set[str] = set()
        for pages in range(1, self._settings.max_pages + 1):
            requested.add(cursor)
            body = await self._get(Platform.TIKTOK, "/api/user/posts",
                                   {"secUid": sec_uid, "count": 35, "cursor": cursor})
            data = body["data"] if isinstance(body.get("data"), dict) else body
            items = data.get("itemList") or body.get("itemList") or []
            if not isinstance(items, list):
                raise PlatformError("GET /api/user/posts: itemList is not a list")
            page = [tiktok_post(i, username) for i in items]
            posts.extend(page)
            if not data.get("hasMore") or not page or any(is_older_than_day(p, day) for p in page):
                return Feed(posts, True, pages)
            next_cursor = _cursor(data.get("cursor"), "GET /api/user/posts: cursor")
            if next_cursor is None or next_cursor in requested:
                log.warning("tiktok feed %s: cursor %r missing or repeated, stopped", username, next_cursor)
                return Feed(posts, False, pages)
            cursor = next_cursor
        log.warning("tiktok feed %s: page limit %d reached", username, self._settings.max_pages)
        return Feed(posts, False, self._settings.max_pages)

    async def tiktok_posts(self, username: str, sec_uid: str, day: date) -> list[FetchedPost]:
        return (await self.tiktok_feed(username, sec_uid, day)).posts

    async def tiktok_commenters(self, video_id: str) -> Engagement:
        path = "/api/post/comments"

        async def page(offset: int) -> _Page:
            body = await self._get(Platform.TIKTOK, path,
                                   {"videoId": video_id, "count": TIKTOK_COMMENTS_PAGE, "cursor": offset})
            container = body["data"] if isinstance(body.get("data"), dict) else body
            comments = _list(container.get("comments"), f"GET {path}: comments")
            total = _count(container.get("total"))
            next_offset = _count(container.get("cursor"))
            if next_offset is None:
                next_offset = offset + len(comments)
            has_more = bool(container.get("has_more")) and bool(comments)
            if total is not None and next_offset >= total:
                has_more = False
            return _Page([_username(c, f"GET {path}", "user", "unique_id") for c in comments], has_more,
                         next_offset, total)

        return await self._collect(f"tiktok commenters of {video_id}", 0, page)

    async def tiktok_post_detail(self, video_id: str, username: str) -> FetchedPost:
        body = await self._get(Platform.TIKTOK, "/api/post/detail", {"videoId": video_id})
        info = body.get("itemInfo")
        item = info.get("itemStruct") if isinstance(info, dict) else None
        if not isinstance(item, dict) or not item:
            raise PlatformError(f"tiktok video {video_id!r} not found")
        author = item.get("author")
        author_name = author.get("uniqueId") if isinstance(author, dict) else None
        return tiktok_post(item, username or str(author_name or ""))


__all__ = ["Endpoint", "Engagement", "Feed", "MalformedItem", "PlatformError", "RapidApiClient"]
