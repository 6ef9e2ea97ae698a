"""Pure mapping from platform items to posts, and the day's change detection. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from cicero_contracts.events.common import Platform
from cicero_runtime.clock import wib_date


class MalformedItem(ValueError):
    """A platform item lacks what a post needs; the item is reported, never half-stored."""


@dataclass(frozen=True)
class FetchedPost:
    platform: Platform
    post_id: str
    account_username: str
    shortcode: str | None
    link: str
    caption: str
    published_at: datetime
    is_pinned: bool
    is_video: bool
    like_count: int
    comment_count: int


def _caption(raw: Any) -> str:
    if isinstance(raw, dict):
        return str(raw.get("text") or "")
    return str(raw or "")


def _item_id(item: Any) -> str:
    return str(item.get("id", "?")) if isinstance(item, dict) else "?"


def instagram_post(item: dict[str, Any]) -> FetchedPost:
    if not isinstance(item, dict):
        raise MalformedItem(f"instagram item is not an object: {item!r:.100}")
    try:
        code = str(item["code"])
        return FetchedPost(
            platform=Platform.INSTAGRAM,
            post_id=str(item["id"]),
            account_username=str((item.get("user") or {}).get("username", "")).lower(),
            shortcode=code,
            link=f"https://www.instagram.com/p/{code}/",
            caption=_caption(item.get("caption")),
            published_at=datetime.fromtimestamp(int(item["taken_at"]), UTC),
            is_pinned=bool(item.get("is_pinned", False)),
            is_video=bool(item.get("is_video", False)),
            like_count=int(item.get("like_count") or 0),
            comment_count=int(item.get("comment_count") or 0),
        )
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
        raise MalformedItem(f"instagram item {_item_id(item)}: {exc!r}") from exc


def tiktok_post(item: dict[str, Any], username: str) -> FetchedPost:
    if not isinstance(item, dict):
        raise MalformedItem(f"tiktok item is not an object: {item!r:.100}")
    try:
        stats = item.get("stats") or {}
        video_id = str(item["id"])
        return FetchedPost(
            platform=Platform.TIKTOK,
            post_id=video_id,
            account_username=username,
            shortcode=None,
            link=f"https://www.tiktok.com/@{username}/video/{video_id}",
            caption=str(item.get("desc") or ""),
            published_at=datetime.fromtimestamp(int(item["createTime"]), UTC),
            is_pinned=bool(item.get("isPinnedItem", False)),
            is_video=True,
            like_count=int(stats.get("diggCount") or 0),
            comment_count=int(stats.get("commentCount") or 0),
        )
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
        raise MalformedItem(f"tiktok item {_item_id(item)}: {exc!r}") from exc


def todays_posts(posts: list[FetchedPost], day: date) -> list[FetchedPost]:
    """Posts published on the tick's WIB day; pinned old posts are not today's posts."""
    return [p for p in posts if wib_date(p.published_at) == day]


def is_older_than_day(post: FetchedPost, day: date) -> bool:
    """Paging stops at the first non-pinned item older than the day (feeds are newest first)."""
    return not post.is_pinned and wib_date(post.published_at) < day
