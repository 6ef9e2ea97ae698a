"""Manual input: an operator adds one post by its link (DOMAIN §3, ``source_type = manual_input``).

The post counts for the WIB day it was input on (``created_at`` is the time of input) and keeps the
platform's publish time in ``original_created_at``; no fetch ever removes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlparse

import asyncpg
from cicero_contracts.events.common import Platform
from cicero_contracts.events.ingest import PostFetched, SourceType
from cicero_runtime.clock import wib_date
from cicero_runtime.event_store import EventStore, Metadata, RecordedEvent

from cicero_ingest.fetching import lock_client
from cicero_ingest.posts import FetchedPost
from cicero_ingest.rapidapi import RapidApiClient

_IG_PATH = re.compile(r"^/(?:[A-Za-z0-9._]+/)?(?:p|reel|reels|tv)/([A-Za-z0-9_-]{5,64})/?$")
_TT_PATH = re.compile(r"^/@([A-Za-z0-9._]{1,24})/(?:video|photo)/(\d{5,30})/?$")


class InvalidPostLink(ValueError):
    pass


@dataclass(frozen=True)
class PostLink:
    platform: Platform
    post_key: str
    """Instagram shortcode or TikTok video id."""
    username: str = ""


def parse_post_link(raw: str) -> PostLink:
    """``instagram.com/p/<code>/`` (also reel/tv) or ``tiktok.com/@<user>/video/<id>``, query strings allowed."""
    text = raw.strip()
    url = urlparse(text if "://" in text else "https://" + text)
    host = (url.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    if host == "instagram.com" and (match := _IG_PATH.match(url.path)):
        return PostLink(Platform.INSTAGRAM, match.group(1))
    if host == "tiktok.com" and (match := _TT_PATH.match(url.path)):
        return PostLink(Platform.TIKTOK, match.group(2), match.group(1).lower())
    raise InvalidPostLink(f"{raw!r} is not an Instagram post link (instagram.com/p/<code>/) "
                          "or a TikTok video link (tiktok.com/@<user>/video/<id>)")


async def fetch_linked_post(api: RapidApiClient, link: PostLink) -> FetchedPost:
    if link.platform == Platform.INSTAGRAM:
        return await api.instagram_post_info(link.post_key)
    return await api.tiktok_post_detail(link.post_key, link.username)


async def record_manual_post(
    conn: asyncpg.Connection, store: EventStore, client_id: str, post: FetchedPost, now: datetime,
    metadata: Metadata,
) -> RecordedEvent | None:
    """Record the post as manual input for today; None when it is already one of the client's posts."""
    async with conn.transaction():
        await lock_client(conn, client_id)
        if not await conn.fetchval("SELECT 1 FROM clients WHERE client_id = $1", client_id):
            raise LookupError(f"unknown client {client_id!r}")
        existing = await conn.fetchrow("SELECT removed FROM posts WHERE platform = $1 AND post_id = $2",
                                       post.platform.value, post.post_id)
        if existing is not None and not existing["removed"]:
            return None
        event = PostFetched(
            platform=post.platform, post_id=post.post_id, client_id=client_id,
            account_username=post.account_username, shortcode=post.shortcode, link=post.link,
            caption=post.caption, created_at=now, source_type=SourceType.MANUAL_INPUT,
            original_created_at=post.published_at, is_pinned=post.is_pinned, is_video=post.is_video,
            like_count=post.like_count, comment_count=post.comment_count,
        )
        [recorded] = await store.append(conn, f"post:{post.platform.value}:{post.post_id}", [event],
                                        metadata=metadata)
        await conn.execute(
            """INSERT INTO posts (platform, post_id, client_id, wib_date, link, caption, published_at, source_type,
                                  like_count, comment_count, removed, shortcode)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, false, $11)
               ON CONFLICT (platform, post_id) DO UPDATE SET removed = false, client_id = $3, wib_date = $4,
                 published_at = $7, source_type = $8""",
            post.platform.value, post.post_id, client_id, wib_date(now), post.link, post.caption, now,
            SourceType.MANUAL_INPUT.value, post.like_count, post.comment_count, post.shortcode,
        )
    return recorded
