"""Ticks become per-client fetch jobs; a job fetches one client's accounts and records what changed.

A tick only enqueues one ClientFetchRequested per active client (through the outbox, onto the work queue
every ingest replica competes for), so one client's failure never stops another's and clients are fetched
in parallel across replicas. A job holds a per-client lock for its transaction: a client is never fetched
twice at once. Platform errors are reported in the client's ClientFetchCompleted instead of failing it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date

import asyncpg
import httpx
from cicero_contracts.events.common import Platform, PostRef, TaskPost
from cicero_contracts.events.ingest import (
    ClientFetchCompleted,
    ClientFetchRequested,
    EngagementRefreshed,
    FetchChanges,
    FetchError,
    FetchRunStarted,
    PostFetched,
    PostRemoved,
    SourceType,
)
from cicero_contracts.events.ops import OperationalAlertRaised, Severity
from cicero_contracts.events.scheduler import TickFired, TickPhase
from cicero_runtime.clock import wib_date
from cicero_runtime.consumer import HandlerContext
from cicero_runtime.db import advisory_key
from cicero_runtime.tracing import tracer

from cicero_ingest.engagement import added_usernames, needs_event
from cicero_ingest.posts import FetchedPost, MalformedItem, todays_posts
from cicero_ingest.rapidapi import Engagement, Feed, PlatformError, RapidApiClient

log = logging.getLogger(__name__)

FETCH_PHASES = {TickPhase.POST_FETCH, TickPhase.ENGAGEMENT_ONLY}


async def on_tick(event: TickFired, ctx: HandlerContext) -> None:
    """Enqueue one fetch job per active client (the mandatory run included: it covers every active client).

    The run's FetchRunStarted goes first, in the same stream and transaction: the notifier's run summary
    learns which clients to wait for before any of them can have completed.
    """
    if event.phase not in FETCH_PHASES:
        return
    clients = await ctx.conn.fetch("SELECT client_id FROM clients WHERE active ORDER BY client_id")
    jobs: list[ClientFetchRequested] = [
        ClientFetchRequested(client_id=c["client_id"], tick_id=event.tick_id, phase=event.phase,
                             scheduled_for=event.scheduled_for, mandatory=event.mandatory)
        for c in clients
    ]
    started = FetchRunStarted(tick_id=event.tick_id, phase=event.phase, mandatory=event.mandatory,
                              scheduled_for=event.scheduled_for, client_ids=[job.client_id for job in jobs])
    await ctx.append(f"fetch-jobs:{event.tick_id}", [started, *jobs])
    log.info("fetch jobs enqueued", extra={"tick_id": event.tick_id, "clients": len(jobs)})


async def lock_client(conn: asyncpg.Connection, client_id: str) -> None:
    """Until the transaction ends, nobody else fetches or adds posts for this client (any replica)."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", advisory_key("ingest-fetch", client_id))


async def on_fetch_requested(job: ClientFetchRequested, ctx: HandlerContext, api: RapidApiClient) -> None:
    await lock_client(ctx.conn, job.client_id)
    client = await ctx.conn.fetchrow("SELECT * FROM clients WHERE client_id = $1", job.client_id)
    if client is None or not client["active"]:
        log.info("fetch job for an unknown or inactive client skipped", extra={"client_id": job.client_id})
        return
    with tracer("cicero.ingest").start_as_current_span(
        f"fetch client {job.client_id}", attributes={"cicero.client_id": job.client_id, "cicero.tick_id": job.tick_id}
    ):
        await fetch_client(ctx, api, client, job, wib_date(job.scheduled_for))


async def _fetch_platform_posts(
    api: RapidApiClient, ctx: HandlerContext, client: asyncpg.Record, day: date, errors: list[FetchError]
) -> dict[Platform, Feed]:
    """Feeds per platform that answered; a platform that failed is absent (so nothing is 'removed')."""
    fetched: dict[Platform, Feed] = {}
    if client["instagram_enabled"] and client["instagram_username"]:
        try:
            fetched[Platform.INSTAGRAM] = await api.instagram_feed(client["instagram_username"], day)
        except (PlatformError, MalformedItem, httpx.HTTPError) as exc:
            errors.append(FetchError(platform=Platform.INSTAGRAM, message=describe_error(exc)))
    if client["tiktok_enabled"] and client["tiktok_username"]:
        try:
            sec_uid = client["tiktok_sec_uid"] or await api.tiktok_sec_uid(client["tiktok_username"])
            if not client["tiktok_sec_uid"]:
                await ctx.conn.execute("UPDATE clients SET tiktok_sec_uid = $2 WHERE client_id = $1",
                                       client["client_id"], sec_uid)
            fetched[Platform.TIKTOK] = await api.tiktok_feed(client["tiktok_username"], sec_uid, day)
        except (PlatformError, MalformedItem, httpx.HTTPError) as exc:
            errors.append(FetchError(platform=Platform.TIKTOK, message=describe_error(exc)))
    return fetched


@dataclass(frozen=True)
class CurrentPost:
    """One of the client's posts of the day as it will stand after this fetch (decided before any write)."""

    platform: Platform
    post_id: str
    shortcode: str | None
    link: str
    like_count: int
    comment_count: int
    refreshed_counts: tuple[int, int] | None


EngagementResult = tuple[str, "Engagement | Exception"]


async def fetch_client(
    ctx: HandlerContext, api: RapidApiClient, client: asyncpg.Record, tick: ClientFetchRequested, day: date,
    *, comments_on_instagram: bool = False,
) -> None:
    """All platform calls first, then every write in one burst.

    The event store's append lock is taken by the first append and held to the commit, so writing only
    after the (slow) HTTP calls lets other workers' appends through while this client is being fetched.
    """
    client_id: str = client["client_id"]
    errors: list[FetchError] = []
    fetched = (
        await _fetch_platform_posts(api, ctx, client, day, errors) if tick.phase == TickPhase.POST_FETCH else {}
    )
    known = {
        (Platform(r["platform"]), r["post_id"]): r
        for r in await ctx.conn.fetch("SELECT * FROM posts WHERE client_id = $1 AND wib_date = $2",
                                      client_id, day)
    }
    current: dict[tuple[Platform, str], CurrentPost] = {
        key: CurrentPost(key[0], key[1], r["shortcode"], r["link"], r["like_count"], r["comment_count"],
                         tuple(r["refreshed_counts"]) if r["refreshed_counts"] else None)
        for key, r in known.items() if not r["removed"]
    }
    new_posts: list[FetchedPost] = []
    recounted: list[FetchedPost] = []
    gone: list[tuple[Platform, str]] = []
    for platform, feed in fetched.items():
        today = todays_posts(feed.posts, day)
        for post in today:
            key = (platform, post.post_id)
            if key not in current:
                new_posts.append(post)
                current[key] = CurrentPost(platform, post.post_id, post.shortcode, post.link, post.like_count,
                                           post.comment_count, None)
            else:
                recounted.append(post)
                current[key] = replace(current[key], like_count=post.like_count, comment_count=post.comment_count)
        if not feed.complete:
            continue  # paging stopped at its bound: a post not read is not a post removed
        seen = {p.post_id for p in today}
        for key, row in known.items():
            if (key[0] == platform and key[1] not in seen and not row["removed"]
                    and row["source_type"] == SourceType.CRON_FETCH.value):
                gone.append(key)
                current.pop(key, None)
    engagement = {key: await _fetch_engagement(api, post, comments_on_instagram) for key, post in current.items()}

    # --- writes: from here on the append lock is held until the commit ------------------------------------
    added: list[PostRef] = []
    removed: list[PostRef] = []
    for post in new_posts:
        await _record_fetched(ctx, client_id, post, tick)
        added.append(PostRef(platform=post.platform, post_id=post.post_id, link=post.link))
    for post in recounted:
        await ctx.conn.execute(
            "UPDATE posts SET like_count = $3, comment_count = $4 WHERE platform = $1 AND post_id = $2",
            post.platform.value, post.post_id, post.like_count, post.comment_count,
        )
    for platform, post_id in gone:
        await _record_removed(ctx, client_id, platform, post_id, tick)
        removed.append(PostRef(platform=platform, post_id=post_id, link=known[(platform, post_id)]["link"]))
    for key, results in engagement.items():
        await _record_engagement(ctx, client_id, current[key], results, tick, errors)
    rows = await ctx.conn.fetch(
        """SELECT * FROM posts WHERE client_id = $1 AND wib_date = $2 AND NOT removed
           ORDER BY published_at, post_id""",
        client_id, day,
    )
    completed = ClientFetchCompleted(
        client_id=client_id, tick_id=tick.tick_id, phase=tick.phase, mandatory=tick.mandatory, wib_date=day,
        fetched_at=tick.scheduled_for,
        posts=[TaskPost(platform=Platform(r["platform"]), post_id=r["post_id"], link=r["link"],
                        caption=r["caption"], published_at=r["published_at"], like_count=r["like_count"],
                        comment_count=r["comment_count"]) for r in rows],
        changes=FetchChanges(added=added, removed=removed),
        errors=errors,
    )
    await ctx.append(f"client-fetch:{client_id}:{day.isoformat()}", [completed])
    if errors:
        await ctx.append(f"alerts:{tick.tick_id}", [fetch_alert(client_id, tick, errors)])
    log.info("client fetched", extra={"client_id": client_id, "posts": len(rows), "added": len(added),
                                      "removed": len(removed), "errors": len(errors)})


async def _record_fetched(ctx: HandlerContext, client_id: str, post: FetchedPost, tick: ClientFetchRequested) -> None:
    event = PostFetched(
        platform=post.platform, post_id=post.post_id, client_id=client_id,
        account_username=post.account_username, shortcode=post.shortcode, link=post.link, caption=post.caption,
        created_at=post.published_at, source_type=SourceType.CRON_FETCH,
        original_created_at=post.published_at, is_pinned=post.is_pinned, is_video=post.is_video,
        like_count=post.like_count, comment_count=post.comment_count, tick_id=tick.tick_id,
    )
    await ctx.append(f"post:{post.platform.value}:{post.post_id}", [event])
    await ctx.conn.execute(
        """INSERT INTO posts (platform, post_id, client_id, wib_date, link, caption, published_at, source_type,
                              like_count, comment_count, removed, shortcode)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, false, $11)
           ON CONFLICT (platform, post_id) DO UPDATE SET removed = false, like_count = $9, comment_count = $10""",
        post.platform.value, post.post_id, client_id, wib_date(post.published_at), post.link, post.caption,
        post.published_at, SourceType.CRON_FETCH.value, post.like_count, post.comment_count, post.shortcode,
    )


async def _record_removed(
    ctx: HandlerContext, client_id: str, platform: Platform, post_id: str, tick: ClientFetchRequested
) -> None:
    await ctx.append(f"post:{platform.value}:{post_id}", [PostRemoved(
        platform=platform, post_id=post_id, client_id=client_id, removed_at=tick.scheduled_for,
        tick_id=tick.tick_id,
    )])
    await ctx.conn.execute("UPDATE posts SET removed = true WHERE platform = $1 AND post_id = $2",
                           platform.value, post_id)


async def _fetch_engagement(
    api: RapidApiClient, post: CurrentPost, comments_on_instagram: bool
) -> list[EngagementResult]:
    """Likers (Instagram) and commenters of one post; a failure is kept as the result, not raised."""
    fetchers: list[tuple[str, Callable[[], Awaitable[Engagement]]]] = []
    if post.platform == Platform.INSTAGRAM:
        shortcode = post.shortcode or post.link.rstrip("/").rsplit("/", 1)[-1]
        fetchers.append(("likes", lambda: api.instagram_likers(shortcode)))
        if comments_on_instagram:
            fetchers.append(("comments", lambda: api.instagram_commenters(shortcode)))
    else:
        fetchers.append(("comments", lambda: api.tiktok_commenters(post.post_id)))
    results: list[EngagementResult] = []
    for kind, fetch in fetchers:
        try:
            results.append((kind, await fetch()))
        except (PlatformError, httpx.HTTPError) as exc:
            results.append((kind, exc))
    return results


async def _record_engagement(
    ctx: HandlerContext, client_id: str, post: CurrentPost, results: list[EngagementResult],
    tick: ClientFetchRequested, errors: list[FetchError],
) -> None:
    """Grow the post's cumulative likers/commenters sets and record who was added, with absolute counts."""
    counts_now = (post.like_count, post.comment_count)
    before = post.refreshed_counts or (-1, -1)
    for kind, result in results:
        if isinstance(result, Exception):
            errors.append(FetchError(platform=post.platform, post_id=post.post_id,
                                     message=f"{kind}: {describe_error(result)}"[:500]))
            continue
        known = {r["username"] for r in await ctx.conn.fetch(
            "SELECT username FROM engagement WHERE platform = $1 AND post_id = $2 AND kind = $3",
            post.platform.value, post.post_id, kind)}
        added = added_usernames(known, result.usernames)
        if not needs_event(added, before, counts_now):
            continue
        await ctx.conn.execute(
            """INSERT INTO engagement (platform, post_id, kind, username, seen_at)
               SELECT $1, $2, $3, u, $5 FROM unnest($4::text[]) AS u ON CONFLICT DO NOTHING""",
            post.platform.value, post.post_id, kind, added, tick.scheduled_for,
        )
        await ctx.append(f"post:{post.platform.value}:{post.post_id}", [EngagementRefreshed(
            platform=post.platform, post_id=post.post_id, client_id=client_id, kind=kind, added_usernames=added,
            engaged_total=len(known) + len(added), like_count=counts_now[0], comment_count=counts_now[1],
            refreshed_at=tick.scheduled_for, tick_id=tick.tick_id,
        )])
    await ctx.conn.execute("UPDATE posts SET refreshed_counts = $3 WHERE platform = $1 AND post_id = $2",
                           post.platform.value, post.post_id, list(counts_now))


def fetch_alert(client_id: str, tick: ClientFetchRequested, errors: list[FetchError]) -> OperationalAlertRaised:
    """What the admins hear about a client whose fetch had errors (aggregated per run by the notifier)."""
    return OperationalAlertRaised(
        source="ingest", severity=Severity.ERROR, run_id=tick.tick_id, client_id=client_id,
        summary=f"{client_id}: {len(errors)} fetch error(s) in {tick.tick_id}",
        details=[f"{e.platform.value}{' ' + e.post_id if e.post_id else ''}: {e.message}"[:300] for e in errors[:20]],
        raised_at=tick.scheduled_for,
    )


def describe_error(exc: Exception) -> str:
    """A reason an operator can read; network errors often have an empty message, so name their kind."""
    text = str(exc)
    if isinstance(exc, httpx.HTTPError):
        text = f"{type(exc).__name__}: {text}" if text else f"{type(exc).__name__} (network error or timeout)"
    return text[:500]
